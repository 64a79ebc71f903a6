"""What every HTTP response of the service shares: the error envelope, status codes, the
security headers, and the guard that runs before Powertools sees a request.

The guard and `finish` sit outside the resolver on purpose: they also cover requests the
resolver never routes (oversize, undecodable, wrong media type) and any unexpected exception,
so no response leaves without the envelope and headers, and none carries a stack trace.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable
from itertools import chain
from typing import Any

from core.shared.errors import DomainError
from core.shared.settings import settings

MAX_BODY_BYTES = 64 * 1024

STATUS_BY_CODE: dict[str, int] = {
    "BAD_REQUEST": 400,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "CONFLICT": 409,
    "PAYLOAD_TOO_LARGE": 413,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "VALIDATION_ERROR": 422,
    "INVALID_RESONANCE_KEY": 422,
    "PRECONDITION_REQUIRED": 428,
    "THROTTLED": 429,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
}

CSP_API = "default-src 'none'; frame-ancestors 'none'"
# Swagger UI is served as one self-contained page with inline script and style; only that
# page gets this policy.
CSP_DOCS = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data:; connect-src 'self'; frame-ancestors 'none'"
)
# The playground (handlers/routes/playground.py) loads its script and style from its own
# origin and calls only the API it was served from; no inline code at all.
CSP_PLAYGROUND = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# Pages that may keep their own, wider policy; every other response gets CSP_API.
PAGE_POLICIES = frozenset({CSP_DOCS, CSP_PLAYGROUND})

SECURITY_HEADERS: dict[str, str] = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "Content-Security-Policy": CSP_API,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_SECURITY_ITEMS = tuple(SECURITY_HEADERS.items())

JSON_CONTENT_TYPE = "application/json"


def function_version(context: Any) -> str:
    version = getattr(context, "function_version", None)
    if isinstance(version, str) and version:
        return version
    return settings().aws_lambda_function_version


def request_id_of(event: Any, context: Any) -> str:
    if isinstance(event, dict):
        ctx = event.get("requestContext")
        if isinstance(ctx, dict):
            rid = ctx.get("requestId")
            if isinstance(rid, str) and rid:
                return rid
    rid = getattr(context, "aws_request_id", None)
    return rid if isinstance(rid, str) and rid else str(uuid.uuid4())


def caller_scope(event: Any) -> str:
    """Who is calling, as far as API Gateway tells: the API key id (staging/prod), else the IAM
    principal, else the source address (dev). Idempotency keys and sessions live inside this
    scope, so one caller can never replay or read another caller's answers."""
    context = event.get("requestContext") if isinstance(event, dict) else None
    identity = context.get("identity") if isinstance(context, dict) else None
    if isinstance(identity, dict):
        for kind, field in (("apikey", "apiKeyId"), ("iam", "userArn"), ("ip", "sourceIp")):
            value = identity.get(field)
            if isinstance(value, str) and value:
                return f"{kind}:{value}"
    return "anonymous"


def error_payload(
    code: str, message: str, request_id: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or []}, "request_id": request_id}


def error_response(
    code: str,
    message: str,
    request_id: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A complete proxy response for errors raised outside the resolver."""
    multi: dict[str, list[str]] = {"Content-Type": [JSON_CONTENT_TYPE]}
    for name, value in (headers or {}).items():
        multi[name] = [value]
    return {
        "statusCode": STATUS_BY_CODE[code],
        "multiValueHeaders": multi,
        "body": json.dumps(error_payload(code, message, request_id, details), ensure_ascii=False),
        "isBase64Encoded": False,
    }


def domain_error_headers(exc: DomainError) -> dict[str, str]:
    retry_after = getattr(exc, "retry_after", None)
    return {"Retry-After": str(retry_after)} if retry_after is not None else {}


def _header(event: dict[str, Any], name: str) -> str | None:
    headers = event.get("headers")
    if isinstance(headers, dict):
        for key, value in headers.items():
            if isinstance(key, str) and key.lower() == name:
                return value if isinstance(value, str) else None
    multi = event.get("multiValueHeaders")
    if isinstance(multi, dict):
        for key, values in multi.items():
            if isinstance(key, str) and key.lower() == name and isinstance(values, list) and values:
                first = values[0]
                return first if isinstance(first, str) else None
    return None


def _is_json_media_type(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == JSON_CONTENT_TYPE


_STRING_MAPS = ("headers", "queryStringParameters", "pathParameters", "stageVariables")
_LIST_MAPS = ("multiValueHeaders", "multiValueQueryStringParameters")


def _is_map_of(value: Any, item: Callable[[Any], bool]) -> bool:
    return value is None or (
        isinstance(value, dict) and all(isinstance(k, str) and item(v) for k, v in value.items())
    )


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


_STR_ONLY = frozenset({str})
_LIST_ONLY = frozenset({list})


def _plainly_well_formed(event: dict[str, Any]) -> bool:
    """The common case, checked with C-level type scans (the warm path runs this per request):
    every map a plain dict of str to str, or of str to lists of str. False means "look closer"."""
    for name in _STRING_MAPS:
        value = event.get(name)
        if value is not None and not (
            type(value) is dict
            and _STR_ONLY.issuperset(map(type, value))
            and _STR_ONLY.issuperset(map(type, value.values()))
        ):
            return False
    for name in _LIST_MAPS:
        value = event.get(name)
        if value is not None and not (
            type(value) is dict
            and _STR_ONLY.issuperset(map(type, value))
            and _LIST_ONLY.issuperset(map(type, value.values()))
            and _STR_ONLY.issuperset(map(type, chain.from_iterable(value.values())))
        ):
            return False
    return True


def is_proxy_event(event: dict[str, Any]) -> bool:
    """The REST proxy event shape the resolver relies on. API Gateway always sends it; anything
    else (a hand-made or foreign event) gets a 400 instead of failing inside the framework."""
    method, path = event.get("httpMethod"), event.get("path")
    if not (isinstance(method, str) and method and isinstance(path, str) and path.startswith("/")):
        return False
    context = event.get("requestContext")
    if context is not None and not isinstance(context, dict):
        return False
    if _plainly_well_formed(event):
        return True
    # Subclasses of dict, str or list are accepted too: the general check decides.
    return all(_is_map_of(event.get(name), _is_str) for name in _STRING_MAPS) and all(
        _is_map_of(event.get(name), _is_str_list) for name in _LIST_MAPS
    )


def precheck(event: dict[str, Any], request_id: str) -> dict[str, Any] | None:
    """Reject what must never reach a route; normalise a base64 body to text. Returns an error
    response, or None to go on. Mutates `event` only to replace a base64 body by its text."""
    if not is_proxy_event(event):
        return error_response("BAD_REQUEST", "not an API Gateway REST proxy event", request_id)
    body = event.get("body")
    if body is None or body == "":
        return None
    if not isinstance(body, str):
        return error_response("BAD_REQUEST", "the request body must be text", request_id)
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return error_response("BAD_REQUEST", "the request body is not valid base64", request_id)
        if len(raw) > MAX_BODY_BYTES:
            return _too_large(request_id)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return error_response("BAD_REQUEST", "the request body is not valid UTF-8", request_id)
        event["body"] = text
        event["isBase64Encoded"] = False
    else:
        # Fast path: a str can be at most 4 bytes per character; count bytes only when it matters.
        if len(body) * 4 > MAX_BODY_BYTES:
            try:
                size = len(body.encode("utf-8"))
            except UnicodeEncodeError:
                return error_response("BAD_REQUEST", "the request body is not valid UTF-8", request_id)
            if size > MAX_BODY_BYTES:
                return _too_large(request_id)
        elif not body.isascii():
            try:
                body.encode("utf-8")
            except UnicodeEncodeError:
                return error_response("BAD_REQUEST", "the request body is not valid UTF-8", request_id)
    content_type = _header(event, "content-type")
    if content_type is not None:
        if not _is_json_media_type(content_type):
            return error_response(
                "UNSUPPORTED_MEDIA_TYPE",
                f"send the body as application/json, not {content_type[:100]!r}",
                request_id,
            )
        _normalise_content_type(event)
    if event["httpMethod"].upper() not in _BODY_METHODS:
        return None  # a body on GET or DELETE is never read
    return _json_shape_error(event["body"], request_id)


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _normalise_content_type(event: dict[str, Any]) -> None:
    """Media types are case-insensitive (RFC 9110), but the resolver's body parsing compares
    them case-sensitively: hand it the lower-case type (parameters kept as sent)."""
    for name in ("headers", "multiValueHeaders"):
        headers = event.get(name)
        if not isinstance(headers, dict):
            continue
        for key, value in headers.items():
            if key.lower() != "content-type":
                continue
            if isinstance(value, str):
                headers[key] = _lower_media_type(value)
            elif isinstance(value, list):
                headers[key] = [_lower_media_type(v) for v in value]


def _lower_media_type(value: str) -> str:
    media_type, sep, parameters = value.partition(";")
    return media_type.strip().lower() + sep + parameters


class _NonFiniteNumber(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _NonFiniteNumber(name)


def _json_shape_error(body: str, request_id: str) -> dict[str, Any] | None:
    """What the resolver's JSON parsing lets through and must not: NaN/Infinity literals (not
    JSON, RFC 8259) and a top-level array where every route takes an object (the resolver would
    validate the array's first element instead). A full parse only when a cheap look says it
    may be needed."""
    if body.lstrip()[:1] != "[" and "NaN" not in body and "Infinity" not in body:
        return None
    try:
        parsed = json.loads(body, parse_constant=_refuse_constant)
    except _NonFiniteNumber:
        return error_response(
            "BAD_REQUEST", "the request body is not valid JSON (NaN and Infinity are not JSON)", request_id
        )
    except (ValueError, RecursionError):
        return None  # the resolver reports malformed JSON (400) in its own words
    if isinstance(parsed, list):
        return error_response(
            "VALIDATION_ERROR",
            "the request body must be a JSON object, not an array",
            request_id,
            [{"field": "body", "message": "expected an object", "type": "model_type"}],
        )
    return None


def _too_large(request_id: str) -> dict[str, Any]:
    return error_response(
        "PAYLOAD_TOO_LARGE",
        f"the request body is larger than {MAX_BODY_BYTES} bytes",
        request_id,
        [{"limit_bytes": MAX_BODY_BYTES}],
    )


def finish(response: dict[str, Any], request_id: str, version: str) -> dict[str, Any]:
    """Add the headers every response carries. Powertools answers REST events with
    multiValueHeaders; anything else it set under `headers` is folded in so the two never clash.
    Only the pages in PAGE_POLICIES (docs, playground) keep their own Content-Security-Policy."""
    multi = response.get("multiValueHeaders")
    if not isinstance(multi, dict):
        multi = {}
        response["multiValueHeaders"] = multi
    single = response.pop("headers", None)
    if isinstance(single, dict):
        for name, value in single.items():
            multi.setdefault(name, [value])
    page_csp = multi.get("Content-Security-Policy")
    for name, value in _SECURITY_ITEMS:
        multi[name] = [value]
    if isinstance(page_csp, list) and len(page_csp) == 1 and page_csp[0] in PAGE_POLICIES:
        multi["Content-Security-Policy"] = page_csp
    multi["X-Request-Id"] = [request_id]
    multi["X-Function-Version"] = [version]
    return response
