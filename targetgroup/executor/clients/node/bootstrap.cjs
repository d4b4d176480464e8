// albedo's Node.js runtime client: runs one Lambda function in one
// execution environment, speaking the Runtime API at
// AWS_LAMBDA_RUNTIME_API over a single keep-alive connection. Plain
// JavaScript, Node's standard library only. It behaves as AWS's runtime
// interface client (aws-lambda-nodejs-runtime-interface-client) does:
// handler resolution, CommonJS and ES modules, async and callback
// handlers, the context object, console lines, error shapes and init
// errors. albedo embeds it and writes it under its state directory; it is
// never fetched. See README.md (Runtimes) for what is not emulated.
'use strict';

const net = require('net');
const util = require('util');
const path = require('path');
const fs = require('fs');

const RUNTIME_PATH = '/2018-06-01/runtime/';
const ERROR_TYPE_HEADER = 'Lambda-Runtime-Function-Error-Type';
const NODE_MAJOR = (() => {
  const m = /^AWS_Lambda_nodejs(\d+)\.x$/.exec(process.env.AWS_EXECUTION_ENV || '');
  return m ? parseInt(m[1], 10) : parseInt(process.versions.node, 10);
})();
// Lambda removed callback handlers (and context.succeed/fail/done,
// callbackWaitsForEmptyEventLoop) from its Node.js 24 runtime on.
const CALLBACKS = NODE_MAJOR < 24;

// ---------------------------------------------------------------- errors

function runtimeError(name) {
  const C = class extends Error {};
  C.prototype.name = 'Runtime.' + name;
  return C;
}
const ImportModuleError = runtimeError('ImportModuleError');
const HandlerNotFound = runtimeError('HandlerNotFound');
const MalformedHandlerName = runtimeError('MalformedHandlerName');
const UserCodeSyntaxError = runtimeError('UserCodeSyntaxError');
const CallbackHandlerDeprecated = runtimeError('CallbackHandlerDeprecated');
class NodeJsExit extends Error {
  constructor() {
    super('The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by a Promise that was never settled. For more information, see https://nodejs.org/docs/latest/api/process.html#exit-codes');
  }
}
NodeJsExit.prototype.name = 'Runtime.NodeJsExit';
class UnhandledPromiseRejection extends Error {
  constructor(reason, promise) {
    super(reason);
    this.reason = reason;
    this.promise = promise;
  }
}
UnhandledPromiseRejection.prototype.name = 'Runtime.UnhandledPromiseRejection';

function isErrorLike(o) {
  return o && typeof o.name === 'string' && typeof o.message === 'string' && typeof o.stack === 'string' && o.name && o.message && o.stack;
}

// toRapidResponse is the error JSON the Invoke API returns:
// {errorType, errorMessage, trace}.
function toRapidResponse(error) {
  try {
    if (util.types.isNativeError(error) || isErrorLike(error)) {
      return {
        errorType: error.name?.replaceAll('\x7F', '%7F'),
        errorMessage: error.message?.replaceAll('\x7F', '%7F'),
        trace: error.stack.replaceAll('\x7F', '%7F').split('\n'),
      };
    }
    return { errorType: typeof error, errorMessage: error.toString(), trace: [] };
  } catch (_) {
    return {
      errorType: 'handled',
      errorMessage: 'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

function withEnumerableProperties(error) {
  if (error instanceof Error) {
    const ret = Object.assign({ errorType: error.name, errorMessage: error.message, code: error.code }, error);
    if (typeof error.stack === 'string') ret.stack = error.stack.split('\n');
    return ret;
  }
  return error;
}

// toFormatted is an error as the log shows it, always after a tab.
function toFormatted(error) {
  try {
    return '\t' + JSON.stringify(error, (_k, v) => withEnumerableProperties(v));
  } catch (_) {
    return '\t' + JSON.stringify(toRapidResponse(error));
  }
}

function intoError(err) {
  return err instanceof Error ? err : new Error(err);
}

// ------------------------------------------------------------------ logs

const REQUEST_ID = Symbol.for('aws.lambda.runtime.requestId');
const TENANT_ID = Symbol.for('aws.lambda.runtime.tenantId');
const LEVELS = {
  TRACE: { name: 'TRACE', priority: 1 },
  DEBUG: { name: 'DEBUG', priority: 2 },
  INFO: { name: 'INFO', priority: 3 },
  WARN: { name: 'WARN', priority: 4 },
  ERROR: { name: 'ERROR', priority: 5 },
  FATAL: { name: 'FATAL', priority: 6 },
};
const JSON_FORMAT = (process.env.AWS_LAMBDA_LOG_FORMAT || '').toUpperCase() === 'JSON';

const jsonErrorReplacer = (_, value) => {
  if (value instanceof Error) {
    return Object.assign({
      errorType: value?.constructor?.name ?? 'UnknownError',
      errorMessage: value.message,
      stackTrace: typeof value.stack === 'string' ? value.stack.split('\n') : value.stack,
    }, value);
  }
  return value;
};

function formatJSON(requestId, timestamp, level, tenantId, ...params) {
  const result = { timestamp, level: level.name, requestId };
  if (tenantId !== undefined && tenantId !== null) result.tenantId = tenantId;
  if (params.length === 1) {
    result.message = params[0];
    try {
      return JSON.stringify(result, jsonErrorReplacer);
    } catch (_) {
      result.message = util.format(result.message);
      return JSON.stringify(result);
    }
  }
  result.message = util.format(...params);
  for (const p of params) {
    if (p instanceof Error) {
      result.errorType = p?.constructor?.name ?? 'UnknownError';
      result.errorMessage = p.message;
      result.stackTrace = typeof p.stack === 'string' ? p.stack.split('\n') : [];
      break;
    }
  }
  return JSON.stringify(result);
}

// One console call is one line: line breaks inside a message become
// carriage returns, as Lambda's runtime writes them to stdout so that a
// multi-line message stays one log event.
function logLine(level, message, ...params) {
  const time = new Date().toISOString();
  const id = globalThis[REQUEST_ID];
  const line = JSON_FORMAT
    ? formatJSON(id, time, level, globalThis[TENANT_ID], message, ...params)
    : `${time}\t${id}\t${level.name}\t${util.format(message, ...params)}`;
  process.stdout.write(line.replace(/\n/g, '\r') + '\n');
}

function patchConsole() {
  const nop = () => {};
  const min = LEVELS[(process.env.AWS_LAMBDA_LOG_LEVEL || '').toUpperCase()] ?? LEVELS.TRACE;
  const at = (level) => (level.priority >= min.priority ? (msg, ...params) => logLine(level, msg, ...params) : nop);
  console.trace = at(LEVELS.TRACE);
  console.debug = at(LEVELS.DEBUG);
  console.info = at(LEVELS.INFO);
  console.log = console.info;
  console.warn = at(LEVELS.WARN);
  console.error = at(LEVELS.ERROR);
  console.fatal = (msg, ...params) => logLine(LEVELS.FATAL, msg, ...params);
}

function logError(message, err) {
  if (JSON_FORMAT) console.error(intoError(err));
  else console.error(message, toFormatted(intoError(err)));
}

// ------------------------------------------------- Runtime API connection

// Client is one keep-alive HTTP/1.1 connection to the Runtime API. The
// protocol is sequential; the one liberty taken is to send the next
// invocation's GET /next right behind a POST of a result, in the same
// write (HTTP/1.1 pipelining, answered in order): AWS's client asks for
// the next invocation right after posting anyway, and this saves the
// runtime and albedo a wake-up each. The socket is unref'd while no
// request waits, so that an empty event loop ('beforeExit') is the user's
// code's alone.
class Client {
  constructor(hostPort) {
    const i = hostPort.lastIndexOf(':');
    this.host = hostPort.slice(0, i).replace(/^\[|\]$/g, '');
    this.port = parseInt(hostPort.slice(i + 1), 10);
    this.socket = null;
    this.buf = null;
    this.queue = []; // {resolve, reject, retry}: requests sent, in order
    this.prefetched = null; // the promise of a pipelined GET /next
    this.hostHeader = 'Host: ' + hostPort + '\r\n';
    this.nextHead = 'GET ' + RUNTIME_PATH + 'invocation/next HTTP/1.1\r\n' + this.hostHeader + '\r\n';
  }

  connect() {
    const s = net.connect({ host: this.host, port: this.port });
    s.setNoDelay(true);
    s.on('data', (chunk) => this.onData(chunk));
    s.on('error', (err) => this.fail(s, err));
    s.on('close', () => this.fail(s, new Error('Runtime API connection closed')));
    this.socket = s;
    this.buf = null;
    this.parts = null; // chunks of an answer whose body is still arriving
    this.need = 0; // the bytes that answer takes
  }

  // fail ends the connection s: waiting requests fail, except a GET /next,
  // which is sent again on a new connection (it changes nothing).
  fail(s, err) {
    if (this.socket !== s) return;
    this.socket = null;
    const queue = this.queue;
    this.queue = [];
    for (const p of queue) {
      if (p.retry && !this.halted) this.send(this.nextHead, p);
      else p.reject(err);
    }
  }

  // send writes data, one or more requests, whose answers entries await.
  send(data, ...entries) {
    if (!this.socket) this.connect();
    this.socket.ref();
    this.queue.push(...entries);
    this.socket.write(data);
  }

  // request sends one request; body is a string or a Buffer. With
  // nextToo, a GET /next follows in the same write; its promise is kept
  // for next(). That write waits for one turn of the event loop
  // (setImmediate): Node first runs the unhandledRejection handlers of the
  // turn in which the handler finished, and one that ends the process
  // calls halt(), which sends the result alone. A runtime about to exit
  // must not ask for an invocation: the next one would fail with it
  // (AWS's client asks for /next only after the result's 202 and a
  // setImmediate).
  request(method, path, headers, body, nextToo) {
    if (this.halted && path === RUNTIME_PATH + 'invocation/next') return new Promise(() => {});
    let data = method + ' ' + path + ' HTTP/1.1\r\n' + this.hostHeader + headers;
    if (body === undefined) data += '\r\n';
    else if (typeof body === 'string') data += 'Content-Length: ' + Buffer.byteLength(body) + '\r\n\r\n' + body;
    else data = Buffer.concat([Buffer.from(data + 'Content-Length: ' + body.length + '\r\n\r\n', 'latin1'), body]);
    let first;
    const p = new Promise((resolve, reject) => { first = { resolve, reject }; });
    if (!nextToo || this.halted) {
      this.send(data, first);
      return p;
    }
    let second;
    this.prefetched = new Promise((resolve, reject) => { second = { resolve, reject, retry: true }; });
    this.pending = { data, first, second };
    setImmediate(() => this.flushPending());
    return p;
  }

  // flushPending writes the result request() holds, with its GET /next
  // unless the client halted.
  flushPending() {
    const w = this.pending;
    if (!w) return;
    this.pending = null;
    if (this.halted) this.send(w.data, w.first);
    else this.send(typeof w.data === 'string' ? w.data + this.nextHead : Buffer.concat([w.data, Buffer.from(this.nextHead)]), w.first, w.second);
  }

  // halt is called when the process is about to exit (an uncaught
  // exception or an unhandled rejection): a result waiting to be written
  // goes now, first, as AWS's client has posted it by then, and no GET
  // /next is sent from here on.
  halt() {
    this.halted = true;
    this.prefetched = null;
    this.flushPending();
  }

  onData(chunk) {
    if (this.parts) {
      // A large body comes in many chunks: join them once it is whole,
      // not on every chunk.
      this.parts.push(chunk);
      this.need -= chunk.length;
      if (this.need > 0) return;
      chunk = Buffer.concat(this.parts);
      this.parts = null;
    }
    this.buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.buf.toString('latin1', 0, end);
      const lines = head.split('\r\n');
      const status = parseInt(lines[0].split(' ')[1], 10);
      const headers = {};
      for (let i = 1; i < lines.length; i++) {
        const c = lines[i].indexOf(':');
        if (c > 0) headers[lines[i].slice(0, c).trim().toLowerCase()] = lines[i].slice(c + 1).trim();
      }
      const len = parseInt(headers['content-length'] || '0', 10);
      if (this.buf.length < end + 4 + len) {
        this.parts = [this.buf];
        this.need = end + 4 + len - this.buf.length;
        this.buf = null;
        return;
      }
      const body = this.buf.subarray(end + 4, end + 4 + len);
      const rest = this.buf.subarray(end + 4 + len);
      this.buf = rest.length ? rest : null;
      const p = this.queue.shift();
      if (headers.connection === 'close') {
        const s = this.socket;
        this.fail(s, new Error('Runtime API connection closed'));
        s.end();
      } else if (this.socket && this.queue.length === 0) {
        this.socket.unref();
      }
      if (p) p.resolve({ status, headers, body });
    }
  }

  async next() {
    const pending = this.prefetched;
    this.prefetched = null;
    const r = await (pending || this.request('GET', RUNTIME_PATH + 'invocation/next', ''));
    if (r.status !== 200) throw new Error('Runtime API /next answered ' + r.status + ': ' + r.body.toString());
    return r;
  }

  async post(path, body, headers, nextToo) {
    const r = await this.request('POST', RUNTIME_PATH + path, 'Content-Type: application/json\r\n' + (headers || ''), body, nextToo);
    if (r.status !== 202) {
      // As AWS's client does for an answer it cannot take: log it and
      // carry on (a 4xx here means the invocation is over already).
      process.stderr.write(`Runtime API ${path} answered ${r.status}: ${r.body.toString()}\n`);
    }
    return r;
  }

  // postResponse and postError post an invocation's result; with nextToo
  // the next invocation is asked for in the same write.
  postResponse(id, bodyString, nextToo) {
    return this.post('invocation/' + encodeURIComponent(id) + '/response', bodyString, '', nextToo);
  }

  postError(id, error, nextToo) {
    const response = toRapidResponse(error);
    return this.post('invocation/' + encodeURIComponent(id) + '/error', serialize(response), errorTypeHeader(response.errorType), nextToo);
  }

  postInitError(error) {
    const response = toRapidResponse(error);
    return this.post('init/error', serialize(response), errorTypeHeader(response.errorType));
  }
}

function errorTypeHeader(type) {
  return typeof type === 'string' && !/[\r\n]/.test(type) ? ERROR_TYPE_HEADER + ': ' + type + '\r\n' : '';
}

function serialize(body) {
  try {
    return JSON.stringify(body === undefined ? null : body);
  } catch (_) {
    throw new Error('Unable to stringify response body');
  }
}

// ------------------------------------------------------ handler loading

const FUNCTION_EXPR = /^([^.]*)\.(.*)$/;

function tryRequireFile(file, ext) {
  const p = file + (ext || '');
  return fs.existsSync(p) ? require(p) : undefined;
}

async function tryImport(file, ext) {
  const p = file + (ext || '');
  return fs.existsSync(p) ? await import(p) : undefined;
}

function folderTypeModule(folder) {
  if (folder.endsWith('/node_modules')) return false;
  const pj = path.join(folder, '/package.json');
  if (fs.existsSync(pj)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(pj));
      if (pkg) return pkg.type === 'module';
    } catch (e) {
      console.warn(`${pj} cannot be read, it will be ignored for ES module detection purposes.`, e);
      return false;
    }
  }
  if (folder === '/') return false;
  return folderTypeModule(path.resolve(folder, '..'));
}

function typeModule(file) {
  const js = file + '.js';
  return fs.existsSync(js) ? folderTypeModule(path.resolve(path.dirname(js))) : false;
}

// loadModule resolves the handler's module as Lambda does: an
// extensionless file, then .js (CommonJS unless the nearest package.json
// says "type": "module"), .mjs, .cjs, then Node's own resolution from the
// task root.
async function loadModule(appRoot, moduleRoot, module) {
  const file = path.resolve(appRoot, moduleRoot, module);
  const extensionless = tryRequireFile(file);
  if (extensionless) return extensionless;
  const esm = typeModule(file);
  if (!esm) {
    const loaded = tryRequireFile(file, '.js');
    if (loaded) return loaded;
  }
  const loaded = (esm && (await tryImport(file, '.js'))) || (await tryImport(file, '.mjs')) || tryRequireFile(file, '.cjs');
  if (loaded) return loaded;
  return require(require.resolve(module, { paths: [appRoot, moduleRoot] }));
}

async function loadHandler(appRoot, fullHandler) {
  if (fullHandler.includes('..')) {
    throw new MalformedHandlerName(`'${fullHandler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`);
  }
  const base = path.basename(fullHandler);
  const moduleRoot = fullHandler.substring(0, fullHandler.indexOf(base));
  const match = base.match(FUNCTION_EXPR);
  if (!match || match.length !== 3) throw new MalformedHandlerName('Bad handler');
  const [, module, handlerPath] = match;
  globalThis.awslambda = { streamifyResponse, HttpResponseStream };
  let app;
  try {
    app = await loadModule(appRoot, moduleRoot, module);
  } catch (e) {
    if (e instanceof SyntaxError) throw new UserCodeSyntaxError(e);
    if (e.code !== undefined && e.code === 'MODULE_NOT_FOUND') throw new ImportModuleError(e);
    throw e;
  }
  const fn = handlerPath.split('.').reduce((o, k) => o && o[k], app);
  if (!fn) throw new HandlerNotFound(`${fullHandler} is undefined or not exported`);
  if (typeof fn !== 'function') throw new HandlerNotFound(`${fullHandler} is not a function`);
  return fn;
}

// Response streaming (awslambda.streamifyResponse) exists for function
// URLs and InvokeWithResponseStream; an ALB and the Invoke API get the
// whole response, so albedo buffers the stream and answers with it.
const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
function streamifyResponse(handler) {
  handler[STREAMING] = 'response';
  return handler;
}
class HttpResponseStream {
  static from(stream, prelude) {
    stream.setContentType('application/vnd.awslambda.http-integration-response');
    stream.write(JSON.stringify(prelude));
    stream.write(Buffer.alloc(8));
    return stream;
  }
}

function responseStream() {
  const { Writable } = require('stream');
  const chunks = [];
  const w = new Writable({
    write(chunk, enc, cb) {
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, enc));
      cb();
    },
  });
  w.setContentType = (t) => { w.contentType = t; };
  w.body = () => Buffer.concat(chunks);
  return w;
}

// ------------------------------------------------------------- invocation

const BEFORE_EXIT = Symbol.for('aws.lambda.beforeExit');
const noop = () => {};
const beforeExit = {
  invoke: () => globalThis[BEFORE_EXIT](),
  reset: () => (globalThis[BEFORE_EXIT] = noop),
  set: (f) => (globalThis[BEFORE_EXIT] = f),
};

function parseJSONHeader(value, name) {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new Error(`Cannot parse ${name} as json: ${err.toString()}`);
  }
}

// callbackContext builds the callback and the context's succeed, fail and
// done, of which only the first call counts, as AWS's client does.
function callbackContext(client, id, scheduleNext) {
  const postError = (err, next) => {
    logError('Invoke Error', err);
    client.postError(id, err, true).then(next, fatal);
  };
  let completed = false;
  const complete = (result, next) => {
    if (completed) {
      console.error('Invocation has already been reported as done. Cannot call complete more than once per invocation.');
      return;
    }
    completed = true;
    let body;
    try {
      body = serialize(result);
    } catch (err) {
      postError(err, next);
      return;
    }
    client.postResponse(id, body, true).then(next, fatal);
  };
  let waitForEmptyEventLoop = true;
  const callback = (err, result) => {
    beforeExit.reset();
    if (err !== undefined && err !== null) postError(err, scheduleNext);
    else if (!waitForEmptyEventLoop) complete(result, scheduleNext);
    else beforeExit.set(() => setImmediate(() => complete(result, scheduleNext)));
  };
  const done = (err, result) => {
    beforeExit.reset();
    if (err !== undefined && err !== null) postError(err, scheduleNext);
    else complete(result, scheduleNext);
  };
  let finished = false;
  const once = (f) => function () {
    if (!finished) {
      f.apply(null, arguments);
      finished = true;
    }
  };
  const context = {};
  if (CALLBACKS) {
    Object.defineProperty(context, 'callbackWaitsForEmptyEventLoop', {
      get: () => waitForEmptyEventLoop,
      set: (v) => { waitForEmptyEventLoop = v; },
      enumerable: true,
      configurable: true,
    });
    context.succeed = once((result) => done(null, result));
    context.fail = once((err) => (err === undefined || err === null ? done('handled') : done(err, null)));
    context.done = once(done);
  }
  return {
    callback: once(callback),
    context,
    succeed: once((result) => done(null, result)),
    fail: once((err) => (err === undefined || err === null ? done('handled') : done(err, null))),
    streamDone: once((body) => {
      beforeExit.reset();
      completed = true;
      client.postResponse(id, body, true).then(scheduleNext, fatal);
    }),
    markCompleted: () => { completed = true; },
  };
}

function fatal(err) {
  process.stderr.write(`albedo runtime client: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
}

class Runtime {
  constructor(client, handler, errorCallbacks) {
    this.client = client;
    this.handler = handler;
    this.isAsync = handler.constructor && handler.constructor.name === 'AsyncFunction';
    this.streaming = handler[STREAMING] === 'response';
    this.errorCallbacks = errorCallbacks;
    this.next = () => this.schedule();
  }

  schedule() {
    setImmediate(() => this.handleOnce().catch((err) => {
      console.log(`Unexpected Top Level Error: ${err.toString()}`);
      this.errorCallbacks.uncaughtException(err);
    }));
  }

  async handleOnce() {
    const { headers, body } = await this.client.next();
    const id = headers['lambda-runtime-aws-request-id'];
    if (!id) throw new Error('invocation id is missing or invalid');
    globalThis[REQUEST_ID] = id;
    globalThis[TENANT_ID] = headers['lambda-runtime-aws-tenant-id'];
    const cc = callbackContext(this.client, id, this.next);
    this.errorCallbacks.uncaughtException = (error) => {
      this.client.halt();
      this.client.postError(id, error).then(() => process.exit(129), fatal);
    };
    this.errorCallbacks.unhandledRejection = (error) => {
      this.client.halt();
      this.client.postError(id, error).then(() => process.exit(128), fatal);
    };
    beforeExit.set(() => {
      cc.markCompleted();
      if (this.isAsync || this.streaming || !CALLBACKS) {
        const err = new NodeJsExit();
        logError('Invoke Error', err);
        this.client.postError(id, err, true).then(this.next, fatal);
      } else {
        this.client.postResponse(id, 'null', true).then(this.next, fatal);
      }
    });
    try {
      const trace = headers['lambda-runtime-trace-id'];
      if (trace) process.env._X_AMZN_TRACE_ID = trace;
      else delete process.env._X_AMZN_TRACE_ID;
      const deadline = headers['lambda-runtime-deadline-ms'];
      const context = Object.assign(cc.context, {
        functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
        functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
        memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
        logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
        logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
        clientContext: parseJSONHeader(headers['lambda-runtime-client-context'], 'ClientContext'),
        identity: parseJSONHeader(headers['lambda-runtime-cognito-identity'], 'CognitoIdentity'),
        invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
        awsRequestId: id,
        tenantId: headers['lambda-runtime-aws-tenant-id'],
        getRemainingTimeInMillis: () => deadline - Date.now(),
      });
      const event = JSON.parse(body.toString('utf8'));
      if (this.streaming) {
        const stream = responseStream();
        const result = this.handler(event, stream, context);
        if (!result || typeof result.then !== 'function') {
          cc.fail(new Error('Streaming does not support non-async handlers.'));
          return;
        }
        await result;
        if (!stream.writableFinished) await new Promise((resolve) => stream.on('finish', resolve));
        cc.streamDone(stream.body());
        return;
      }
      const result = CALLBACKS ? this.handler(event, context, cc.callback) : this.handler(event, context);
      if (result && typeof result.then === 'function') result.then(cc.succeed, cc.fail).catch(cc.fail);
      else if (!CALLBACKS) cc.succeed(result);
    } catch (err) {
      if (CALLBACKS && !this.streaming) cc.callback(err);
      else cc.fail(err);
    }
  }
}

// ------------------------------------------------------------------- main

async function main() {
  patchConsole();
  const client = new Client(process.env.AWS_LAMBDA_RUNTIME_API);
  const errorCallbacks = {
    uncaughtException: (error) => client.postInitError(error).then(() => process.exit(129), fatal),
    unhandledRejection: (error) => client.postInitError(error).then(() => process.exit(128), fatal),
  };
  process.on('uncaughtException', (error) => {
    logError('Uncaught Exception', error);
    errorCallbacks.uncaughtException(error);
  });
  process.on('unhandledRejection', (reason, promise) => {
    const error = new UnhandledPromiseRejection(reason, promise);
    logError('Unhandled Promise Rejection', error);
    errorCallbacks.unhandledRejection(error);
  });
  beforeExit.reset();
  process.on('beforeExit', beforeExit.invoke);

  const handler = await loadHandler(process.cwd(), process.env._HANDLER || '');
  const isAsync = handler.constructor && handler.constructor.name === 'AsyncFunction';
  const callbackStyle = handler.length === 3 && !isAsync && handler[STREAMING] !== 'response';
  if (callbackStyle && !CALLBACKS) {
    throw new CallbackHandlerDeprecated('ERROR: AWS Lambda has removed support for callback-based function handlers starting with Node.js 24. You need to modify this function to use a supported handler signature to use Node.js 24 or later. For more information see https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html.');
  }
  if (callbackStyle && process.env.AWS_LAMBDA_NODEJS_DISABLE_CALLBACK_WARNING === undefined) {
    console.warn('AWS Lambda plans to remove support for callback-based function handlers starting with Node.js 24. You will need to update this function to use an async handler to use Node.js 24 or later. For more information and to provide feedback on this change, see https://github.com/aws/aws-lambda-nodejs-runtime-interface-client/issues/137. To disable this warning, set the AWS_LAMBDA_NODEJS_DISABLE_CALLBACK_WARNING environment variable.');
  }
  new Runtime(client, handler, errorCallbacks).schedule();
}

// A failure to load the handler is an uncaught exception: logged, posted
// to /init/error, and the process exits (129), as in AWS's client.
main().catch((err) => process.emit('uncaughtException', err));
