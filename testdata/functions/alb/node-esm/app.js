// The ALB function of albedo's conformance tests as an ES module (app.js
// with "type": "module" in package.json): the same function as
// ../node-cjs, whose comment lists what it answers.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let count = 0; // module level: one per execution environment

const header = (event, name) => {
  if (event.multiValueHeaders) {
    const v = event.multiValueHeaders[name];
    return v ? v[v.length - 1] : undefined;
  }
  return event.headers?.[name];
};

const query = (event, name) => {
  if (event.multiValueQueryStringParameters) {
    return event.multiValueQueryStringParameters[name]?.[0];
  }
  return event.queryStringParameters?.[name];
};

const respond = (event, status, contentType, body, isBase64Encoded) => {
  const resp = { statusCode: status, statusDescription: `${status} ALB`, body, isBase64Encoded };
  if (event.multiValueHeaders) {
    resp.multiValueHeaders = { 'Content-Type': [contentType], 'X-Alb-Function': ['a', 'b'] };
  } else {
    resp.headers = { 'Content-Type': contentType, 'X-Alb-Function': 'a' };
  }
  return resp;
};

export const handler = async (event, context) => {
  count++;
  const status = parseInt(header(event, 'x-alb-status') ?? '200', 10);
  switch (event.path) {
    case '/binary': {
      const body = event.isBase64Encoded ? event.body : Buffer.from(event.body ?? '').toString('base64');
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
      await new Promise((resolve) => setTimeout(resolve, parseInt(query(event, 'ms') ?? '0', 10)));
      break;
    case '/layer':
      // NODE_PATH (the layers) serves require(), not import, as on Lambda.
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
