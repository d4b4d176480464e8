// The ALB function of albedo's conformance tests, in CommonJS: the same
// function as ../node-esm (ES module), ../python and
// targetgroup/executor/testfunctions/alb (Go), answering the same way.
//
//   GET  /anything        200 JSON: the event, a module-level counter, the context
//   POST /binary          the request body back, base64-encoded, as application/octet-stream
//   GET  /log             writes log lines, answers 200
//   GET  /error           fails (a function error: the ALB answers 502)
//   GET  /sleep?ms=N      sleeps N ms first
//   GET  /layer           a value from the layer's module (alb-layer)
// A request header x-alb-status sets the status code.
'use strict';

let count = 0; // module level: one per execution environment

function header(event, name) {
  if (event.multiValueHeaders) {
    const v = event.multiValueHeaders[name];
    return v ? v[v.length - 1] : undefined;
  }
  return event.headers && event.headers[name];
}

function query(event, name) {
  if (event.multiValueQueryStringParameters) {
    const v = event.multiValueQueryStringParameters[name];
    return v ? v[0] : undefined;
  }
  return event.queryStringParameters && event.queryStringParameters[name];
}

function respond(event, status, contentType, body, isBase64Encoded) {
  const resp = { statusCode: status, statusDescription: `${status} ALB`, body, isBase64Encoded };
  if (event.multiValueHeaders) {
    resp.multiValueHeaders = { 'Content-Type': [contentType], 'X-Alb-Function': ['a', 'b'] };
  } else {
    resp.headers = { 'Content-Type': contentType, 'X-Alb-Function': 'a' };
  }
  return resp;
}

exports.handler = async (event, context) => {
  count++;
  const status = parseInt(header(event, 'x-alb-status') || '200', 10);
  switch (event.path) {
    case '/binary': {
      const body = event.isBase64Encoded ? event.body : Buffer.from(event.body || '').toString('base64');
      return respond(event, status, 'application/octet-stream', body, true);
    }
    case '/log':
      console.log('alb log %s %d', 'text', 42);
      console.info('alb info');
      console.warn('alb warn');
      console.error('alb error');
      break;
    case '/error':
      throw new Error('alb: asked to fail');
    case '/sleep':
      await new Promise((resolve) => setTimeout(resolve, parseInt(query(event, 'ms') || '0', 10)));
      break;
    case '/layer':
      return respond(event, status, 'text/plain', require('alb-layer').greeting, false);
  }
  const body = JSON.stringify({
    count,
    event,
    context: {
      awsRequestId: context.awsRequestId,
      functionName: context.functionName,
      functionVersion: context.functionVersion,
      invokedFunctionArn: context.invokedFunctionArn,
      memoryLimitInMB: String(context.memoryLimitInMB),
      logGroupName: context.logGroupName,
      logStreamName: context.logStreamName,
      remainingTimeInMillis: context.getRemainingTimeInMillis(),
    },
  });
  return respond(event, status, 'application/json', body, false);
};
