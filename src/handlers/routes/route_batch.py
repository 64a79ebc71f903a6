"""POST /v1/route:batch: route up to 100 resonance keys in one call.

Each item is what POST /v1/route takes and answers what it would: the routing result, or
`{"error": {code, message, details}}` for that item alone. The batch itself is 200 whenever its
envelope is valid; an empty list or more than 100 items is 422. API Gateway REST accepts the
colon in a path part and Powertools matches it literally, so the path is the SPEC's.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.persona.resonance import parse_resonance_key
from core.shared.errors import DomainError, ValidationFailed
from handlers.common.deps import current_catalog
from handlers.common.http import caller_scope
from handlers.common.observability import metrics
from handlers.common.responses import json_ok
from handlers.schemas import RouteRequest, error_responses

router = APIGatewayRouter()

MAX_BATCH_ITEMS = 100


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    # Items are checked one by one below, so a malformed item fails only itself.
    items: list[Any] = Field(
        description="1 to 100 bodies of POST /v1/route: {resonance_key, on_invalid?, session_id?}",
        json_schema_extra={
            "examples": [
                [{"resonance_key": "frustrated-burst-seek_advice"}, {"resonance_key": "차분-medium-학습"}]
            ]
        },
    )


def _error(code: str, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or []}}


def _route_one(item: Any, owner: str) -> dict[str, Any]:
    try:
        request = RouteRequest.model_validate(item)
    except ValidationError as exc:
        details = [
            {"field": ".".join(str(p) for p in e["loc"]) or "item", "message": e["msg"], "type": e["type"]}
            for e in exc.errors(include_input=False)
        ]
        return _error("VALIDATION_ERROR", "the item is not valid", details)
    try:
        key = parse_resonance_key(request.resonance_key, request.on_invalid)
        previous = _previous_persona(owner, request.session_id) if request.session_id else None
        result: dict[str, Any] = (
            current_catalog().router.route(key, previous_persona=previous).model_dump(mode="json")
        )
    except DomainError as exc:
        if exc.code == "INVALID_RESONANCE_KEY":
            metrics.add_metric(name="InvalidKeys", unit="Count", value=1)
        if exc.code == "UNAVAILABLE":
            raise  # the whole batch cannot be served: 503 with Retry-After, not 100 item errors
        return _error(exc.code, exc.message, exc.details)
    if key.corrections:
        metrics.add_metric(name="CorrectionsApplied", unit="Count", value=len(key.corrections))
    return result


def _previous_persona(owner: str, session_id: str) -> str | None:
    from core.persona.chat_pipeline import session_storage_key
    from handlers.common.deps import session_store

    turns = session_store().history(session_storage_key(owner, session_id), limit=1)
    return turns[-1].persona if turns else None


@router.post(
    "/v1/route:batch",
    summary="Route up to 100 resonance keys; each item answers alone",
    description="`{items: [...]}` (1-100 POST /v1/route bodies) -> `{results: [...]}` in the same "
    "order, each a /v1/route result or `{error}` for that item.",
    responses={
        200: {"description": "`{results: [...]}` in item order"},
        **error_responses(400, 413, 415, 422, 503),
    },
    tags=["routing"],
)
def route_batch(body: BatchRequest) -> Response[Any]:
    count = len(body.items)
    if count == 0 or count > MAX_BATCH_ITEMS:
        message = (
            "items is empty; send 1 to 100 items"
            if count == 0
            else f"{count} items is more than {MAX_BATCH_ITEMS}; split them into smaller batches"
        )
        raise ValidationFailed(message, [{"field": "items", "message": message, "limit": MAX_BATCH_ITEMS}])
    owner = caller_scope(router.current_event.raw_event)
    return json_ok({"results": [_route_one(item, owner) for item in body.items]})
