"""Resolver set-up and the Lambda entry wrapper shared by the API and admin functions."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from core.shared.errors import DomainError, ModelUnavailable
from handlers.common import tracing
from handlers.common.http import (
    JSON_CONTENT_TYPE,
    STATUS_BY_CODE,
    domain_error_headers,
    error_payload,
    error_response,
    finish,
    function_version,
    precheck,
    request_id_of,
)
from handlers.common.observability import logger, metrics
from handlers.common.tracing import traced_request

# Requests whose server-side failure the RoutingFailures alarm watches (unless the model backend
# failed: that is ModelFailures, which never rolls a deploy back).
ROUTING_PATHS = frozenset(
    {
        "/v1/route",
        "/v1/chat",
        "/v1/route:batch",
        "/api/persona/process",
        "/api/v2/process",
        "/api/v2/bulk-process",
    }
)

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
# A last step on the finished response of a proxy event (the old-API dialect), inside the
# request's metrics scope so that what it counts lands in the request's one EMF document.
ResponseStep = Callable[[dict[str, Any], dict[str, Any]], None]


class _RequestState(threading.local):
    """The request being handled: one at a time per Lambda execution environment, but per thread
    so that the local server's threads never read each other's request."""

    request_id = "-"
    model_failed = False  # the answer is a 503 because the model backend failed
    # An exception nobody expected (a bug, or input no check foresaw): INTERNAL 500, counted as
    # UnhandledErrors and never as RoutingFailures, which only real routing failures feed.
    unexpected = False


REQUEST = _RequestState()


def json_error(
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    return Response(
        status_code=STATUS_BY_CODE[code],
        content_type=JSON_CONTENT_TYPE,
        body=error_payload(code, message, REQUEST.request_id, details),
        headers=headers,
    )


def _validation_details(errors: Any) -> list[dict[str, Any]]:
    details = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)]
        # pydantic's "input" may echo a huge or sensitive payload: never returned.
        details.append(
            {"field": ".".join(loc) or "body", "message": err.get("msg", ""), "type": err.get("type")}
        )
    return details


def create_resolver() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True)

    @app.exception_handler(RequestValidationError)
    def _invalid_request(exc: RequestValidationError) -> Response[Any]:
        errors = list(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            return json_error("BAD_REQUEST", "the request body is not valid JSON")
        return json_error("VALIDATION_ERROR", "the request is not valid", _validation_details(errors))

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported_media_type(_exc: RequestUnsupportedContentType) -> Response[Any]:
        # Reached when a body route gets no body and a non-JSON Content-Type (the guard checks
        # the media type only when there is a body to read).
        return json_error("UNSUPPORTED_MEDIA_TYPE", "send the body as application/json")

    @app.exception_handler(DomainError)
    def _domain_error(exc: DomainError) -> Response[Any]:
        if isinstance(exc, ModelUnavailable):
            REQUEST.model_failed = True
        if STATUS_BY_CODE.get(exc.code, 500) >= 500:
            logger.warning("request failed", extra={"code": exc.code, "reason": exc.message})
        return json_error(exc.code, exc.message, exc.details, domain_error_headers(exc))

    @app.exception_handler(RecursionError)
    def _too_deep(_exc: RecursionError) -> Response[Any]:
        return json_error("BAD_REQUEST", "the request body is nested too deeply")

    @app.exception_handler(NotFoundError)
    def _not_found(_exc: NotFoundError) -> Response[Any]:
        event = app.current_event
        allowed = allowed_methods(app, event.path)
        if allowed:
            return json_error(
                "METHOD_NOT_ALLOWED",
                f"{event.http_method} is not allowed on {event.path[:200]}",
                [{"allowed": allowed}],
                {"Allow": ", ".join(allowed)},
            )
        return json_error("NOT_FOUND", f"no route for {event.http_method} {event.path[:200]}")

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response[Any]:
        if _is_throttling(exc):
            logger.warning("dependency throttled", extra={"error": type(exc).__name__})
            return json_error(
                "UNAVAILABLE", "the service is busy; retry shortly", headers={"Retry-After": "1"}
            )
        if is_dependency_unreachable(exc):
            # Adapters map these themselves; this catches any call that slipped past them.
            logger.warning("dependency unreachable", extra={"error": type(exc).__name__})
            return json_error(
                "UNAVAILABLE", "a dependency did not answer; retry shortly", headers={"Retry-After": "2"}
            )
        REQUEST.unexpected = True
        logger.exception("unhandled error")
        return json_error("INTERNAL", "internal error")

    return app


# botocore's errors for an endpoint that cannot be reached or does not answer in time (the
# ConnectionError family, HTTPClientError); matched by name so handlers never import botocore.
_UNREACHABLE = frozenset(
    {
        "EndpointConnectionError",
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "ConnectionClosedError",
        "ConnectionError",
        "HTTPClientError",
    }
)


def is_dependency_unreachable(exc: BaseException) -> bool:
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 5:  # wrapped errors (Powertools, ours) included
        for kind in type(current).__mro__:
            if kind.__module__.startswith("botocore") and kind.__name__ in _UNREACHABLE:
                return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False


def _is_throttling(exc: Exception) -> bool:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return False
    code = response.get("Error", {}).get("Code", "")
    return code in {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "InternalServerError",
    }


_ALLOWED_CACHE: dict[tuple[int, str], list[str]] = {}


def allowed_methods(app: APIGatewayRestResolver, path: str) -> list[str]:
    """Methods registered for a path, to tell 405 from 404. Reads the resolver's route table."""
    key = (id(app), path)
    cached = _ALLOWED_CACHE.get(key)
    if cached is not None:
        return cached
    routes = list(getattr(app, "_static_routes", [])) + list(getattr(app, "_dynamic_routes", []))
    methods = sorted(
        {r.method.upper() for r in routes if isinstance(r.rule, re.Pattern) and r.rule.match(path)}
    )
    if len(_ALLOWED_CACHE) < 1024:  # bounded: paths come from clients
        _ALLOWED_CACHE[key] = methods
    return methods


def _trace_name(app: APIGatewayRestResolver, event: dict[str, Any]) -> str:
    """The subsegment name: the API Gateway resource, except behind the public API's catch-all
    (`/{proxy+}`), where a path the app routes statically names it. Unknown paths keep the
    resource, so client-chosen paths never become trace names."""
    resource = str(event.get("resource") or "request")
    if "{proxy+}" not in resource or not tracing.ENABLED:
        return resource
    path = event.get("path")
    routes = getattr(app, "_static_routes", [])
    matched = isinstance(path, str) and any(
        isinstance(r.rule, re.Pattern) and r.rule.fullmatch(path) for r in routes
    )
    return str(path) if matched else resource


def lambda_entry(app: APIGatewayRestResolver, step: ResponseStep | None = None) -> Handler:
    """Wrap a resolver into a Lambda handler: guard, resolve, and always finish with the envelope,
    headers, request metrics, correlation id and the cold-start metric."""
    dimensions_set = False

    @metrics.log_metrics(capture_cold_start_metric=True)
    @logger.inject_lambda_context(clear_state=True)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        nonlocal dimensions_set
        started = time.perf_counter()
        version = function_version(context)
        if not dimensions_set:
            metrics.set_default_dimensions(FunctionVersion=version)
            dimensions_set = True
        request_id = request_id_of(event, context)
        REQUEST.request_id = request_id
        REQUEST.model_failed = False
        REQUEST.unexpected = False
        # The API Gateway request id, already read above: cheaper than a JMESPath correlation path.
        logger.set_correlation_id(request_id)
        try:
            if not isinstance(event, dict):
                response = error_response("BAD_REQUEST", "not an API Gateway proxy event", request_id)
            else:
                if tracing.ENABLED:
                    with traced_request(_trace_name(app, event)):
                        response = precheck(event, request_id) or app.resolve(event, context)
                else:  # no subsegment to open: the warm path skips the context manager
                    response = precheck(event, request_id) or app.resolve(event, context)
        except Exception:
            REQUEST.unexpected = True
            logger.exception("unhandled error outside the resolver")
            response = error_response("INTERNAL", "internal error", request_id)
        if step is not None and isinstance(event, dict):
            try:
                step(event, response)
            except Exception:
                logger.exception("response step failed")
        finish(response, request_id, version)
        status = response.get("statusCode", 500)
        metrics.add_metric(name="Requests", unit="Count", value=1)
        metrics.add_metric(name="Latency", unit="Milliseconds", value=(time.perf_counter() - started) * 1000)
        if status >= 500:
            metrics.add_metric(name="ServerErrors", unit="Count", value=1)
            if REQUEST.model_failed:
                metrics.add_metric(name="ModelFailures", unit="Count", value=1)
            elif REQUEST.unexpected:
                metrics.add_metric(name="UnhandledErrors", unit="Count", value=1)
            elif isinstance(event, dict) and event.get("path") in ROUTING_PATHS:
                metrics.add_metric(name="RoutingFailures", unit="Count", value=1)
        return response

    return handler
