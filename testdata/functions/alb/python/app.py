"""The ALB function of albedo's conformance tests in Python: the same
function as ../node-cjs, whose comment lists what it answers."""

import base64
import json
import logging
import time

count = 0  # module level: one per execution environment
logger = logging.getLogger()
logger.setLevel(logging.INFO)


def header(event, name):
    if "multiValueHeaders" in event:
        v = event["multiValueHeaders"].get(name)
        return v[-1] if v else None
    return (event.get("headers") or {}).get(name)


def query(event, name):
    if "multiValueQueryStringParameters" in event:
        v = event["multiValueQueryStringParameters"].get(name)
        return v[0] if v else None
    return (event.get("queryStringParameters") or {}).get(name)


def respond(event, status, content_type, body, is_base64):
    resp = {"statusCode": status, "statusDescription": "%d ALB" % status, "body": body, "isBase64Encoded": is_base64}
    if "multiValueHeaders" in event:
        resp["multiValueHeaders"] = {"Content-Type": [content_type], "X-Alb-Function": ["a", "b"]}
    else:
        resp["headers"] = {"Content-Type": content_type, "X-Alb-Function": "a"}
    return resp


def handler(event, context):
    global count
    count += 1
    status = int(header(event, "x-alb-status") or "200")
    path = event.get("path")
    if path == "/binary":
        body = event.get("body") or ""
        if not event.get("isBase64Encoded"):
            body = base64.b64encode(body.encode()).decode()
        return respond(event, status, "application/octet-stream", body, True)
    if path == "/log":
        print("alb print")
        logger.info("alb log %s %d", "text", 42)
        logger.warning("alb warn")
        logger.error("alb error")
    elif path == "/error":
        raise RuntimeError("alb: asked to fail")
    elif path == "/sleep":
        time.sleep(int(query(event, "ms") or "0") / 1000)
    elif path == "/layer":
        import alb_layer

        return respond(event, status, "text/plain", alb_layer.GREETING, False)
    body = json.dumps({
        "count": count,
        "event": event,
        "context": {
            "awsRequestId": context.aws_request_id,
            "functionName": context.function_name,
            "functionVersion": context.function_version,
            "invokedFunctionArn": context.invoked_function_arn,
            "memoryLimitInMB": str(context.memory_limit_in_mb),
            "logGroupName": context.log_group_name,
            "logStreamName": context.log_stream_name,
            "remainingTimeInMillis": context.get_remaining_time_in_millis(),
        },
    })
    return respond(event, status, "application/json", body, False)
