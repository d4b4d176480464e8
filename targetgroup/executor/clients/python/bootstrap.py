"""albedo's Python runtime client.

Runs one Lambda function in one execution environment, speaking the
Runtime API at AWS_LAMBDA_RUNTIME_API over a single keep-alive connection.
Plain Python 3, standard library only. It behaves as AWS's runtime
interface client (awslambdaric) does: handler resolution, the context
object, logging and print output, error shapes and init errors. albedo
embeds it and writes it under its state directory; it is never fetched.
See README.md (Runtimes) for what is not emulated.
"""

import os
import sys

# sys.path: the task root, then the layers' directories (albedo passes
# them, latest layer first), then the interpreter's own; this file's
# directory is not on it.
_here = os.path.dirname(os.path.abspath(__file__))
_path = os.environ.pop("_ALBEDO_PYTHON_PATH", "") or os.getcwd()
sys.path[:] = _path.split(os.pathsep) + [p for p in sys.path if p and p != _here]
del _here, _path
# The task root is read-only on Lambda, so no bytecode is written next to
# the function's modules; albedo does not write any into the code either.
sys.dont_write_bytecode = True

# decimal and traceback are imported when first needed: they cost a
# cold start milliseconds that most invocations never use.
import importlib  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import socket  # noqa: E402
import time  # noqa: E402

RUNTIME_PATH = "/2018-06-01/runtime/"
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
ERROR_LOG_LINE_TERMINATE = "\r"
ERROR_LOG_IDENT = "\u00a0"  # NO-BREAK SPACE
EXECUTION_ENV = os.environ.get("AWS_EXECUTION_ENV", "")


def _minor():
    try:
        return int(EXECUTION_ENV.rsplit(".", 1)[1])
    except (IndexError, ValueError):
        return sys.version_info[1]


PY_MINOR = _minor()


class FaultException(Exception):
    MARSHAL_ERROR = "Runtime.MarshalError"
    UNMARSHAL_ERROR = "Runtime.UnmarshalError"
    USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
    HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
    IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
    BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
    MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
    LAMBDA_CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"

    def __init__(self, exception_type, msg, trace=None):
        self.msg = msg
        self.exception_type = exception_type
        self.trace = trace


# ------------------------------------------------------------------ JSON


class _Encoder(json.JSONEncoder):
    # Lambda's python3.12 and later runtimes write UTF-8; earlier ones
    # escape non-ASCII characters. Decimals encode as numbers.
    def __init__(self):
        super().__init__(ensure_ascii=PY_MINOR < 12, allow_nan=True)

    def default(self, obj):
        import decimal

        if isinstance(obj, decimal.Decimal):
            if obj.is_nan():
                return float("nan")
            return float(obj) if obj != obj.to_integral_value() else int(obj)
        return super().default(obj)


_encoder = _Encoder()


def to_json(obj):
    return _encoder.encode(obj)


def unmarshal_request(body, content_type):
    if content_type != "application/json":
        return body
    try:
        return json.loads(body)
    except Exception as e:
        raise FaultException(
            FaultException.UNMARSHAL_ERROR,
            "Unable to unmarshal input: {}".format(str(e)),
            None,
        )


def marshal_response(response):
    if isinstance(response, bytes):
        return response, "application/unknown"
    try:
        return _encoder.encode(response).encode("utf-8"), "application/json"
    except Exception as e:
        raise FaultException(
            FaultException.MARSHAL_ERROR,
            "Unable to marshal response: {}".format(str(e)),
            None,
        )


# ------------------------------------------------- Runtime API connection


class RuntimeClient(object):
    """One keep-alive HTTP/1.1 connection to the Runtime API; the protocol
    is sequential, so requests are blocking calls. The one liberty taken is
    to send GET /next right behind the POST of a result, in the same write
    (HTTP/1.1 pipelining, answered in order): the client asks for the next
    invocation right after posting anyway, and this saves the runtime and
    albedo a wake-up each."""

    def __init__(self, address):
        host, _, port = address.rpartition(":")
        self.address = (host.strip("[]"), int(port))
        self.host_header = "Host: " + address + "\r\n"
        self.next_request = ("GET " + RUNTIME_PATH + "invocation/next HTTP/1.1\r\n" + self.host_header + "\r\n").encode("latin-1")
        self.next_sent = False
        self.sock = None
        self.buf = bytearray()

    def _connect(self):
        s = socket.create_connection(self.address)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = s
        self.buf = bytearray()

    def request(self, method, path, body=None, headers="", next_too=False):
        if self.sock is None:
            self._connect()
        head = method + " " + path + " HTTP/1.1\r\n" + self.host_header + headers
        if body is None:
            data = (head + "\r\n").encode("latin-1")
        else:
            data = (head + "Content-Length: %d\r\n\r\n" % len(body)).encode("latin-1") + body
        if next_too:
            data += self.next_request
        try:
            self.sock.sendall(data)
            self.next_sent = next_too
            return self._response()
        except OSError:
            self.sock = None
            raise

    def _recv(self):
        chunk = self.sock.recv(262144)
        if not chunk:
            raise ConnectionError("Runtime API connection closed")
        self.buf += chunk

    def _response(self):
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            self._recv()
        lines = self.buf[:end].decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0"))
        while len(self.buf) < end + 4 + n:
            self._recv()
        body = bytes(self.buf[end + 4 : end + 4 + n])
        del self.buf[: end + 4 + n]
        if headers.get("connection", "").lower() == "close":
            self.sock.close()
            self.sock = None
        return status, headers, body

    def _post(self, path, body, error_type=None, content_type="application/json", next_too=False):
        headers = "Content-Type: " + content_type + "\r\n"
        if error_type and error_type.isprintable() and error_type.isascii():
            headers += ERROR_TYPE_HEADER + ": " + error_type + "\r\n"
        status, _, answer = self.request("POST", RUNTIME_PATH + path, body, headers, next_too)
        if status != 202:
            # As AWS's client reports an answer it cannot take (a 4xx
            # here means the invocation is over already).
            sys.stderr.write(
                "Request to Lambda Runtime '%s' endpoint failed. Reason: '%d'. Response body: '%s'\n"
                % (path, status, answer.decode("utf-8", "replace"))
            )

    def wait_next_invocation(self):
        status = None
        if self.next_sent and self.sock is not None:
            self.next_sent = False
            try:
                status, headers, body = self._response()
            except OSError:
                self.sock = None  # ask again on a new connection
        if status is None:
            status, headers, body = self.request("GET", RUNTIME_PATH + "invocation/next")
        if status != 200:
            raise ConnectionError("Runtime API /next answered %d: %r" % (status, body))
        return headers, body

    def post_invocation_result(self, invoke_id, result, content_type):
        self._post("invocation/" + invoke_id + "/response", result, None, content_type, True)

    def post_invocation_error(self, invoke_id, error_result):
        self._post(
            "invocation/" + invoke_id + "/error",
            to_json(error_result).encode("utf-8"),
            error_result.get("errorType"),
            next_too=True,
        )

    def post_init_error(self, error_result):
        self._post("init/error", to_json(error_result).encode("utf-8"), error_result.get("errorType"))


# ---------------------------------------------------------------- context


class CognitoIdentity(object):
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]

    def __repr__(self):
        return (
            f"{self.__class__.__name__}(["
            f"cognito_identity_id={self.cognito_identity_id},"
            f"cognito_identity_pool_id={self.cognito_identity_pool_id}"
            "])"
        )


class Client(object):
    __slots__ = ["installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name"]

    def __repr__(self):
        return (
            f"{self.__class__.__name__}(["
            f"installation_id={self.installation_id},"
            f"app_title={self.app_title},"
            f"app_version_name={self.app_version_name},"
            f"app_version_code={self.app_version_code},"
            f"app_package_name={self.app_package_name}"
            "])"
        )


class ClientContext(object):
    __slots__ = ["custom", "env", "client"]

    def __repr__(self):
        return f"{self.__class__.__name__}([custom={self.custom},env={self.env},client={self.client}])"


def make_obj_from_dict(_class, _dict):
    if _dict is None:
        return None
    obj = _class()
    for field in _class.__slots__:
        setattr(obj, field, _dict.get(field, None))
    return obj


class LambdaContext(object):
    def __init__(self, invoke_id, client_context, cognito_identity, epoch_deadline_time_in_ms,
                 invoked_function_arn=None, tenant_id=None):
        self.aws_request_id = invoke_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = tenant_id
        self.client_context = make_obj_from_dict(ClientContext, client_context)
        if self.client_context is not None:
            self.client_context.client = make_obj_from_dict(Client, self.client_context.client)
        self.identity = make_obj_from_dict(CognitoIdentity, {})
        if cognito_identity is not None:
            self.identity.cognito_identity_id = cognito_identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = cognito_identity.get("cognitoIdentityPoolId")
        self._epoch_deadline_time_in_ms = epoch_deadline_time_in_ms

    def get_remaining_time_in_millis(self):
        delta_ms = self._epoch_deadline_time_in_ms - int(time.time() * 1000)
        return delta_ms if delta_ms > 0 else 0

    def log(self, msg):
        sys.stdout.write(str(msg))

    def __repr__(self):
        return (
            f"{self.__class__.__name__}(["
            f"aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},"
            f"log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},"
            f"memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn},"
            f"client_context={self.client_context},"
            f"identity={self.identity},"
            f"tenant_id={self.tenant_id}"
            "])"
        )


def parse_json_header(header, name):
    try:
        return json.loads(header)
    except Exception as e:
        raise FaultException(
            FaultException.LAMBDA_CONTEXT_UNMARSHAL_ERROR,
            "Unable to parse {} JSON: {}".format(name, str(e)),
            None,
        )


# ------------------------------------------------------------------- logs

_GLOBAL_AWS_REQUEST_ID = None
_GLOBAL_TENANT_ID = None
_JSON_FORMAT = os.environ.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON"
_LOG_LEVEL = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class Unbuffered(object):
    """print output reaches the log at once, as on Lambda."""

    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, exc_tb):
        pass

    def __getattr__(self, attr):
        return getattr(self.stream, attr)

    def write(self, msg):
        self.stream.write(msg)
        self.stream.flush()

    def writelines(self, msgs):
        self.stream.writelines(msgs)
        self.stream.flush()


class LambdaLoggerHandler(logging.Handler):
    # One record is one log event, as Lambda's log sink frames it: its
    # line breaks (a traceback after logger.exception's message) become
    # "\r", as in the error lines, and it ends with exactly one "\n", also
    # when the formatter's exception text left none.
    def emit(self, record):
        msg = self.format(record).rstrip("\n")
        sys.stdout.write(msg.replace("\n", ERROR_LOG_LINE_TERMINATE) + "\n")


class LambdaLoggerFilter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = _GLOBAL_AWS_REQUEST_ID or ""
        record.tenant_id = _GLOBAL_TENANT_ID
        return True


class JsonFormatter(logging.Formatter):
    def __init__(self):
        super().__init__(datefmt=_DATETIME_FORMAT)

    def format(self, record):
        record.message = record.getMessage()
        result = {
            "timestamp": time.strftime(_DATETIME_FORMAT, time.gmtime(record.created)),
            "level": record.levelname,
            "message": record.message,
            "logger": record.name,
            "requestId": getattr(record, "aws_request_id", None),
        }
        if getattr(record, "tenant_id", None) is not None:
            result["tenantId"] = record.tenant_id
        if record.exc_info:
            import traceback

            exc_type, exc_value, exc_tb = record.exc_info
            result["errorType"] = exc_type.__name__ if exc_type else None
            result["errorMessage"] = str(exc_value)
            result["stackTrace"] = traceback.format_tb(exc_tb) if exc_tb else None
        return to_json(result) + "\n"


def setup_logging():
    logging.Formatter.converter = time.gmtime
    logger = logging.getLogger()
    handler = LambdaLoggerHandler()
    if _JSON_FORMAT:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter(
                "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
                "%Y-%m-%dT%H:%M:%S",
            )
        )
    if _LOG_LEVEL in logging._nameToLevel:
        logger.setLevel(_LOG_LEVEL)
    handler.addFilter(LambdaLoggerFilter())
    logger.addHandler(handler)


def replace_line_indentation(line, indent_char, new_indent_char):
    n = 0
    for c in line:
        if c != indent_char:
            break
        n += 1
    return (new_indent_char * n) + line[n:]


def log_error(error_result):
    if _JSON_FORMAT:
        entry = {
            "timestamp": time.strftime(_DATETIME_FORMAT, time.gmtime()),
            "log_level": "ERROR",
        }
        entry.update(error_result)
        sys.stdout.write(to_json(entry) + "\n")
        return
    description = "[ERROR]"
    error_type = error_result.get("errorType")
    if error_type:
        description += " " + error_type
    message = error_result.get("errorMessage")
    if message:
        if error_type:
            description += ":"
        description += " " + message
    lines = [description]
    stack = error_result.get("stackTrace")
    if stack is not None:
        lines.append("Traceback (most recent call last):")
        for element in stack:
            if element == "":
                lines.append("")
            else:
                for line in element.splitlines():
                    lines.append(replace_line_indentation(line, " ", ERROR_LOG_IDENT))
    # One log event: lines joined with carriage returns, as Lambda's
    # runtime writes an error to stdout.
    sys.stdout.write(ERROR_LOG_LINE_TERMINATE.join(lines) + "\n")


# ---------------------------------------------------------------- handler


def make_error(error_message, error_type, stack_trace, invoke_id=None):
    return {
        "errorMessage": error_message if error_message else "",
        "errorType": error_type if error_type else "",
        "requestId": invoke_id if invoke_id is not None else "",
        "stackTrace": stack_trace if stack_trace else [],
    }


def user_frames(tb):
    import traceback

    frames = [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(tb)]
    for i in range(len(frames)):
        if "/bootstrap.py" not in frames[i][0]:
            return frames[i:]
    return frames


def build_fault_result(exc_info, msg, invoke_id=None):
    import traceback

    etype, value, tb = exc_info
    return make_error(
        msg if msg else str(value),
        etype.__name__,
        traceback.format_list(user_frames(tb)),
        invoke_id,
    )


def get_handler(handler):
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise FaultException(
            FaultException.MALFORMED_HANDLER_NAME,
            "Bad handler '{}': {}".format(handler, str(e)),
        )
    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise FaultException(
                FaultException.BUILT_IN_MODULE_CONFLICT,
                "Cannot use built-in module {} as a handler module".format(modname),
            )
        m = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise FaultException(
            FaultException.IMPORT_MODULE_ERROR,
            "Unable to import module '{}': {}".format(modname, str(e)),
        )
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise FaultException(
            FaultException.USER_CODE_SYNTAX_ERROR,
            "Syntax error in module '{}': {}".format(modname, str(e)),
            trace,
        )
    try:
        return getattr(m, fname)
    except AttributeError:
        raise FaultException(
            FaultException.HANDLER_NOT_FOUND,
            "Handler '{}' missing on module '{}'".format(fname, modname),
            None,
        )


def handle_event_request(client, request_handler, invoke_id, headers, body):
    error_result = None
    try:
        client_context = headers.get("lambda-runtime-client-context")
        cognito_identity = headers.get("lambda-runtime-cognito-identity")
        context = LambdaContext(
            invoke_id,
            parse_json_header(client_context, "Client Context") if client_context else None,
            parse_json_header(cognito_identity, "Cognito Identity") if cognito_identity else None,
            int(headers.get("lambda-runtime-deadline-ms", "0")),
            headers.get("lambda-runtime-invoked-function-arn"),
            headers.get("lambda-runtime-aws-tenant-id"),
        )
        event = unmarshal_request(body, headers.get("content-type", "application/json"))
        response = request_handler(event, context)
        result, content_type = marshal_response(response)
    except FaultException as e:
        error_result = make_error(e.msg, e.exception_type, e.trace, invoke_id)
    except Exception:
        error_result = build_fault_result(sys.exc_info(), None, invoke_id)
    if error_result is not None:
        log_error(error_result)
        client.post_invocation_error(invoke_id, error_result)
    else:
        client.post_invocation_result(invoke_id, result, content_type)


UNHANDLED_WARNING = (
    "LAMBDA_WARNING: "
    "Unhandled exception. "
    "The most likely cause is an issue in the function code. "
    "However, in rare cases, a Lambda runtime update can cause unexpected function behavior. "
    "For functions using managed runtimes, runtime updates can be triggered by a function change, or can be applied automatically. "
    "To determine if the runtime has been updated, check the runtime version in the INIT_START log entry. "
    "If this error correlates with a change in the runtime version, you may be able to mitigate this error by temporarily rolling back to the previous runtime version. "
    "For more information, see https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html\r"
)


def run():
    global _GLOBAL_AWS_REQUEST_ID, _GLOBAL_TENANT_ID
    sys.stdout = Unbuffered(sys.stdout)
    sys.stderr = Unbuffered(sys.stderr)
    client = RuntimeClient(os.environ["AWS_LAMBDA_RUNTIME_API"])
    error_result = None
    try:
        setup_logging()
        request_handler = get_handler(os.environ.get("_HANDLER", ""))
    except FaultException as e:
        error_result = make_error(e.msg, e.exception_type, e.trace)
    except Exception:
        error_result = build_fault_result(sys.exc_info(), None)
    if error_result is not None:
        logging.warning(UNHANDLED_WARNING)
        log_error(error_result)
        client.post_init_error(error_result)
        sys.exit(1)

    while True:
        headers, body = client.wait_next_invocation()
        invoke_id = headers.get("lambda-runtime-aws-request-id", "")
        _GLOBAL_AWS_REQUEST_ID = invoke_id
        _GLOBAL_TENANT_ID = headers.get("lambda-runtime-aws-tenant-id")
        trace_id = headers.get("lambda-runtime-trace-id")
        if trace_id is not None:
            os.environ["_X_AMZN_TRACE_ID"] = trace_id
        elif "_X_AMZN_TRACE_ID" in os.environ:
            del os.environ["_X_AMZN_TRACE_ID"]
        handle_event_request(client, request_handler, invoke_id, headers, body)


if __name__ == "__main__":
    run()
