// A handler file with a syntax error: its function fails at init with
// Runtime.UserCodeSyntaxError.
exports.handler = async (event) => {
  return { statusCode: 200,
};
