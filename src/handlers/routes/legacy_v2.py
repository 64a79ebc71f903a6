"""The replaced service's v2 API (deprecated), under /api/v2: health, status, process, recommend,
bulk-process, personas and cache-stats.

Thin adapters over the core the /v1 routes use: bodies are parsed by the models in
handlers.common.legacy_dialect, keys go through the one key parser, personas through the one
catalog lookup (any case). The old error shape `{"success": false, "error": {code, message,
field}, request_id, timestamp}` and the Deprecation / Link / Sunset headers are added for every
answer under /api/v2 by handlers.common.legacy_dialect.legacy_step.
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import ValidationError

from core.shared.errors import DomainError
from core.shared.settings import settings
from handlers.common.app import REQUEST
from handlers.common.deps import current_catalog
from handlers.common.http import error_payload
from handlers.common.legacy_calls import ROUTE_CACHE, process
from handlers.common.legacy_dialect import (
    MAX_BULK_ITEMS,
    V2BulkRequest,
    V2ProcessRequest,
    V2RecommendRequest,
    old_error,
    utc_timestamp,
    v2_persona,
    v2_process,
    v2_recommend,
)
from handlers.common.observability import record_persona
from handlers.common.responses import check_message_size, json_ok
from handlers.schemas import legacy_error_responses

router = APIGatewayRouter()

# When this execution environment started: the old status call reported an uptime.
_STARTED = time.monotonic()


@router.get(
    "/api/v2/health",
    summary="Old v2 API: liveness (use GET /health)",
    responses=legacy_error_responses("v2"),
    tags=["legacy"],
    deprecated=True,
)
def v2_health() -> Response[Any]:
    return json_ok({"status": "healthy", "version": settings().service_version, "timestamp": utc_timestamp()})


@router.get(
    "/api/v2/status",
    summary="Old v2 API: service status (use GET /health/ready)",
    responses=legacy_error_responses("v2"),
    tags=["legacy"],
    deprecated=True,
)
def v2_status() -> Response[Any]:
    catalog = current_catalog().catalog
    enabled = catalog.enabled()
    return json_ok(
        {
            "status": "operational",
            "version": settings().service_version,
            "stage": settings().stage,
            "personas_loaded": len(enabled),
            "personas": [p.name for p in enabled],
            "catalog_version": catalog.version,
            "uptime_seconds": round(time.monotonic() - _STARTED, 1),
            "timestamp": utc_timestamp(),
        }
    )


@router.post(
    "/api/v2/process",
    summary="Old v2 API: route a message and answer it (use POST /v1/chat)",
    responses=legacy_error_responses("v2"),
    tags=["legacy"],
    deprecated=True,
)
def v2_process_route(body: V2ProcessRequest) -> Response[Any]:
    result, hit = process(body, router.current_event.raw_event)
    record_persona(result["persona"])
    return json_ok(v2_process(result, REQUEST.request_id, hit, body.include_metadata))


@router.post(
    "/api/v2/recommend",
    summary="Old v2 API: recommend a persona for a scenario (use POST /v1/personas/recommend)",
    responses=legacy_error_responses("v2"),
    tags=["legacy"],
    deprecated=True,
)
def v2_recommend_route(body: V2RecommendRequest) -> Response[Any]:
    from core.persona.recommend import recommend

    check_message_size(body.scenario, "scenario")
    snapshot = current_catalog()
    found = recommend(body.scenario, snapshot.router)
    return json_ok(v2_recommend(snapshot.catalog.require(found.persona), found.scores, found.why))


def _item_error(index: int, code: str, message: str, details: list[dict[str, Any]]) -> dict[str, Any]:
    _, body = old_error("v2", 422, error_payload(code, message, REQUEST.request_id, details))
    body["index"] = index
    return body


def _bulk_item(index: int, item: Any) -> dict[str, Any]:
    try:
        body = V2ProcessRequest.model_validate(item)
    except ValidationError as exc:
        details = [
            {"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]}
            for e in exc.errors(include_input=False)
        ]
        return _item_error(index, "VALIDATION_ERROR", "the request is not valid", details)
    try:
        result, hit = process(body, router.current_event.raw_event)
    except DomainError as exc:
        return _item_error(index, exc.code, exc.message, exc.details)
    return v2_process(result, REQUEST.request_id, hit, body.include_metadata)


@router.post(
    "/api/v2/bulk-process",
    summary="Old v2 API: process up to 100 requests, each failing alone (use POST /v1/route:batch)",
    responses=legacy_error_responses("v2"),
    tags=["legacy"],
    deprecated=True,
)
def v2_bulk_route(body: V2BulkRequest) -> Response[Any]:
    from core.shared.errors import ValidationFailed

    if len(body.requests) > MAX_BULK_ITEMS:
        raise ValidationFailed(
            f"at most {MAX_BULK_ITEMS} requests per call; split the list",
            [{"field": "requests", "message": f"{len(body.requests)} requests, at most {MAX_BULK_ITEMS}"}],
        )
    # `parallel` is accepted and ignored: items run one after another in this environment.
    results = [_bulk_item(index, item) for index, item in enumerate(body.requests)]
    successful = sum(1 for r in results if r.get("success"))
    return json_ok(
        {
            "success": True,
            "total": len(results),
            "successful": successful,
            "failed": len(results) - successful,
            "results": results,
            "request_id": REQUEST.request_id,
            "timestamp": utc_timestamp(),
        }
    )


@router.get(
    "/api/v2/personas",
    summary="Old v2 API: personas (use GET /v1/personas)",
    responses=legacy_error_responses("v2"),
    tags=["legacy"],
    deprecated=True,
)
def v2_personas() -> Response[Any]:
    personas = [v2_persona(p) for p in current_catalog().catalog.enabled()]
    return json_ok({"success": True, "personas": personas, "total": len(personas)})


@router.get(
    "/api/v2/personas/<name>",
    summary="Old v2 API: one persona, name in any case (use GET /v1/personas/{name})",
    responses=legacy_error_responses("v2"),
    tags=["legacy"],
    deprecated=True,
)
def v2_persona_route(name: str) -> Response[Any]:
    return json_ok(v2_persona(current_catalog().catalog.require(name)))


@router.get(
    "/api/v2/cache-stats",
    summary="Old v2 API: warm catalog and route cache of this execution environment",
    responses=legacy_error_responses("v2"),
    tags=["legacy"],
    deprecated=True,
)
def v2_cache_stats() -> Response[Any]:
    snapshot = current_catalog()
    return json_ok(
        {
            "success": True,
            **ROUTE_CACHE.snapshot(),
            "catalog_version": snapshot.catalog.version,
            "catalog_stale": snapshot.stale,
            "catalog_cache_ttl_seconds": settings().catalog_cache_ttl_seconds,
            "scope": "execution environment",
            "timestamp": utc_timestamp(),
        }
    )
