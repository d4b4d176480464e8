# A handler module with a syntax error: its function fails at init with
# Runtime.UserCodeSyntaxError.
def handler(event, context)
    return {"statusCode": 200}
