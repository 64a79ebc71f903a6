"""The replaced service's v1 API (deprecated): POST /api/persona/process.

A thin adapter: the old body goes through the same chat pipeline as POST /v1/chat and comes back
in the old shape. Errors (`{"detail": ...}`) and the Deprecation / Link / Sunset headers are added
for every answer on this path by handlers.common.legacy_dialect.legacy_step.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from handlers.common.legacy_calls import process
from handlers.common.legacy_dialect import V1ProcessRequest, v1_process
from handlers.common.observability import record_persona
from handlers.common.responses import json_ok
from handlers.schemas import legacy_error_responses

router = APIGatewayRouter()


@router.post(
    "/api/persona/process",
    summary="Old v1 API: route a message and answer it (use POST /v1/chat)",
    description='Errors are `{"detail": "message"}`. Successor: POST /v1/chat.',
    responses={
        **legacy_error_responses("v1"),
        200: {"description": "`{content, persona_used, confidence}`"},
    },
    tags=["legacy"],
    deprecated=True,
)
def v1_process_route(body: V1ProcessRequest) -> Response[Any]:
    result, _ = process(body, router.current_event.raw_event)
    record_persona(result["persona"])
    return json_ok(v1_process(result))
