"""Public routes (SPEC section 5): routing, resonance tools, persona catalog, health.

Handlers only translate: parse the request, call core, shape the response.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from core.persona.resonance import parse_resonance_key, validate_resonance_key
from core.shared.errors import InvalidResonanceKey
from core.shared.settings import settings
from handlers.common.app import json_error
from handlers.common.deps import catalog_store, current_catalog
from handlers.common.http import caller_scope
from handlers.common.observability import logger, metrics, record_persona
from handlers.common.responses import check_message_size, json_ok
from handlers.common.tracing import annotate
from handlers.schemas import (
    DetectRequest,
    DetectResponse,
    HealthResponse,
    PersonaList,
    ReadyResponse,
    RecommendRequest,
    RecommendResponse,
    RouteRequest,
    RouteResponse,
    ValidateRequest,
    ValidateResponse,
    error_responses,
    json_content,
)

router = APIGatewayRouter()

# ---- routing ---------------------------------------------------------------------------------


class _RouteBodies:
    """Serialised /v1/route answers per (raw key, on_invalid) for one catalog version: a warm
    request for a key seen before is a dict lookup. Reset whenever the router changes."""

    MAX_ENTRIES = 4096

    def __init__(self) -> None:
        self.router: object | None = None
        self.bodies: dict[tuple[str, str], tuple[str, str, str, int]] = {}

    def lookup(self, router: object, key: tuple[str, str]) -> tuple[str, str, str, int] | None:
        if router is not self.router:
            self.router = router
            self.bodies = {}
            return None
        return self.bodies.get(key)

    def store(self, key: tuple[str, str], value: tuple[str, str, str, int]) -> None:
        if len(self.bodies) >= self.MAX_ENTRIES:
            self.bodies.clear()
        self.bodies[key] = value


_route_bodies = _RouteBodies()


def _record_route(persona: str, normalized_key: str, corrections: int) -> None:
    logger.append_keys(persona=persona, resonance_key=normalized_key)
    annotate(persona=persona, resonance_key=normalized_key)
    record_persona(persona)
    if corrections:
        metrics.add_metric(name="CorrectionsApplied", unit="Count", value=corrections)


def parse_key_counted(raw: str, on_invalid: str = "error") -> Any:
    try:
        return parse_resonance_key(raw, on_invalid)  # type: ignore[arg-type]
    except InvalidResonanceKey:
        metrics.add_metric(name="InvalidKeys", unit="Count", value=1)
        raise


@router.post(
    "/v1/route",
    summary="Pick the persona for a resonance key",
    responses={
        200: json_content(RouteResponse, "Routing result"),
        **error_responses(400, 413, 415, 422, 503),
    },
    tags=["routing"],
)
def route(body: RouteRequest) -> Response[Any]:
    snapshot = current_catalog()
    previous = None
    if body.session_id:
        previous = _previous_persona(caller_scope(router.current_event.raw_event), body.session_id)
    if previous is None:
        cache_key = (body.resonance_key, body.on_invalid)
        hit = _route_bodies.lookup(snapshot.router, cache_key)
        if hit is not None:
            text, persona, normalized, corrections = hit
            _record_route(persona, normalized, corrections)
            return json_ok(text)
    key = parse_key_counted(body.resonance_key, body.on_invalid)
    result = snapshot.router.route(key, previous_persona=previous)
    text = result.model_dump_json()
    if previous is None:
        _route_bodies.store(
            (body.resonance_key, body.on_invalid),
            (text, result.persona, key.normalized_key, len(key.corrections)),
        )
    _record_route(result.persona, key.normalized_key, len(key.corrections))
    return json_ok(text)


def _previous_persona(owner: str, session_id: str) -> str | None:
    from core.persona.chat_pipeline import session_storage_key
    from handlers.common.deps import session_store

    turns = session_store().history(session_storage_key(owner, session_id), limit=1)
    return turns[-1].persona if turns else None


# ---- resonance tools -------------------------------------------------------------------------


@router.post(
    "/v1/resonance/validate",
    summary="Validate and normalise a resonance key",
    responses={200: json_content(ValidateResponse, "Validation result"), **error_responses(400, 415, 422)},
    tags=["resonance"],
)
def validate(body: ValidateRequest) -> Response[Any]:
    return json_ok(validate_resonance_key(body.resonance_key).model_dump_json())


@router.post(
    "/v1/resonance/detect",
    summary="Infer a resonance key from a message",
    responses={200: json_content(DetectResponse, "Inferred key"), **error_responses(400, 413, 415, 422)},
    tags=["resonance"],
)
def detect(body: DetectRequest) -> Response[Any]:
    from core.persona.inference import detect as infer

    check_message_size(body.message, "message")
    return json_ok(infer(body.message).model_dump_json())


# ---- personas --------------------------------------------------------------------------------


@router.get(
    "/v1/personas",
    summary="Enabled personas and what they are good at",
    responses={200: json_content(PersonaList, "Personas"), **error_responses(503)},
    tags=["personas"],
)
def list_personas() -> Response[Any]:
    from core.persona.personas import capabilities

    catalog = current_catalog().catalog
    personas = [capabilities(p) for p in catalog.enabled()]
    return json_ok({"personas": personas, "catalog_version": catalog.version})


@router.get(
    "/v1/personas/<name>",
    summary="One persona, in the representation PUT accepts, plus its version",
    responses={200: {"description": "The persona; ETag carries its version"}, **error_responses(404, 503)},
    tags=["personas"],
)
def get_persona(name: str) -> Response[Any]:
    # Any case finds the persona (`lua` -> Lua); an unknown name is 404 with the closest names.
    persona = current_catalog().catalog.require(name)
    return json_ok(persona.representation(), headers={"ETag": f'"{persona.version}"'})


@router.post(
    "/v1/personas/recommend",
    summary="Recommend a persona for a scenario described in words",
    responses={200: json_content(RecommendResponse, "Recommendation"), **error_responses(400, 413, 415, 422)},
    tags=["personas"],
)
def recommend(body: RecommendRequest) -> Response[Any]:
    from core.persona.recommend import recommend as recommend_for

    check_message_size(body.scenario, "scenario")
    return json_ok(recommend_for(body.scenario, current_catalog().router).model_dump_json())


# ---- health --------------------------------------------------------------------------------


@router.get(
    "/health",
    summary="Liveness (no dependencies)",
    responses={200: json_content(HealthResponse, "Alive")},
    tags=["health"],
)
def health() -> Response[Any]:
    return json_ok({"status": "ok", "version": settings().service_version})


@router.get(
    "/health/ready",
    summary="Readiness: DynamoDB reachable and catalog loaded",
    responses={200: json_content(ReadyResponse, "Ready"), **error_responses(503)},
    tags=["health"],
)
def ready() -> Response[Any]:
    try:
        catalog_store().ping()
        snapshot = current_catalog()
    except Exception as exc:
        logger.warning("not ready", extra={"error": type(exc).__name__})
        return json_error(
            "UNAVAILABLE", "not ready: the catalog store is unreachable", headers={"Retry-After": "5"}
        )
    if snapshot.stale:
        return json_error("UNAVAILABLE", "not ready: serving a stale catalog", headers={"Retry-After": "5"})
    catalog = snapshot.catalog
    return json_ok(
        {"status": "ready", "catalog_version": catalog.version, "personas": len(catalog.enabled())}
    )
