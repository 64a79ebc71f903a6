"""Request and response models at the HTTP edge (SPEC section 5). Request models are validated
by Powertools; response models document the contract in the OpenAPI document."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.persona.routing_models import RoutingResult

# Limits that are part of the contract. Over-long keys and messages get their own error codes
# (INVALID_RESONANCE_KEY / PAYLOAD_TOO_LARGE), so the models leave them to the routes.
MAX_MESSAGE_CHARS = 8000
# Where the documentation is served (handlers.routes.docs) and described (handlers.openapi_document).
OPENAPI_PATH = "/v1/openapi.json"
SWAGGER_PATH = "/v1/docs"
SESSION_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"

SessionId = Annotated[str, Field(pattern=SESSION_ID_PATTERN, description="Client-chosen session id")]


class _Request(BaseModel):
    # Built on the first request that uses the model, so a cold route pays only for its own.
    model_config = ConfigDict(extra="forbid", defer_build=True)


class RouteRequest(_Request):
    # Examples make Swagger UI's "Try it out" send a body that works (Korean and English keys).
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"resonance_key": "frustrated-burst-seek_advice"},
                {"resonance_key": "좌절-burst-조언", "session_id": "demo-session-1"},
                {"resonance_key": "Curious_Flowing_Learning", "on_invalid": "default"},
            ]
        }
    )

    resonance_key: str = Field(description="`tone-pace-intent`, e.g. frustrated-burst-seek_advice")
    on_invalid: Literal["error", "default"] = "error"
    session_id: SessionId | None = None


class ValidateRequest(_Request):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"resonance_key": "Frustrated_Brust_Seeking-Advice"},
                {"resonance_key": "차분-medium-학습"},
            ]
        }
    )

    resonance_key: str


class DetectRequest(_Request):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"message": "배포가 또 실패했어요!! 어떻게 해야 하죠??"},
                {"message": "I keep getting a timeout in production. How do I fix it?"},
            ]
        }
    )

    message: str


class RecommendRequest(_Request):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"scenario": "팀원들과 다음 분기 출시 일정을 함께 정리하고 싶어요"},
                {"scenario": "A customer is upset and wants a quick, kind answer"},
            ]
        }
    )

    scenario: str = Field(min_length=1)


# ---- responses (documentation; the routes return plain dicts of these shapes) --------------


class _Doc(BaseModel):
    # Built only when the OpenAPI document is asked for: keeps them off the cold-start path.
    model_config = ConfigDict(defer_build=True)


class CorrectionOut(_Doc):
    part: str
    input: str
    resolved: str
    rule: str


class RouteResponse(RoutingResult):
    """The /v1/route answer: exactly the core's RoutingResult (one source for its fields)."""

    model_config = ConfigDict(defer_build=True)


class KeyProblemOut(_Doc):
    part: str
    input: str | None
    reason: str
    suggestions: list[str]


class ValidateResponse(_Doc):
    valid: bool
    normalized_key: str | None
    corrections: list[CorrectionOut]
    errors: list[KeyProblemOut]


class PartGuessOut(_Doc):
    value: str
    confidence: float


class DetectResponse(_Doc):
    resonance_key: str
    parts: dict[str, PartGuessOut]
    cues: list[str]


class PersonaSummary(_Doc):
    name: str
    display_name: str
    description: str
    traits: list[str]
    strengths: list[str]
    prompt_style: str
    priority: int
    version: int
    best_tones: list[str]
    best_paces: list[str]
    best_intents: list[str]


class PersonaList(_Doc):
    personas: list[PersonaSummary]
    catalog_version: int


class RecommendResponse(_Doc):
    persona: str
    scores: dict[str, float]
    why: list[str]
    resonance_key: str


class HealthResponse(_Doc):
    status: str
    version: str


class ReadyResponse(_Doc):
    status: str
    catalog_version: int
    personas: int


class VocabularyEntry(_Doc):
    value: str
    meaning: dict[str, str]
    aliases: list[str]


class VocabularyResponse(_Doc):
    tones: list[VocabularyEntry]
    paces: list[VocabularyEntry]
    intents: list[VocabularyEntry]
    defaults: dict[str, str]
    key_format: str
    combinations: int


class LandingResponse(_Doc):
    service: str
    version: str
    message: str
    links: dict[str, str]


class ErrorBody(_Doc):
    code: str
    message: str
    details: list[dict[str, Any]]


class ErrorResponse(_Doc):
    error: ErrorBody
    request_id: str


def json_content(model: type[BaseModel], description: str) -> Any:
    return {"description": description, "content": {"application/json": {"model": model}}}


def error_responses(*statuses: int) -> dict[int, Any]:
    return {status: json_content(ErrorResponse, "Error") for status in statuses}


class LegacyV1Error(_Doc):
    """The replaced service's v1 error shape."""

    detail: str


class LegacyV2ErrorBody(_Doc):
    code: str
    message: str
    field: str | None
    details: list[dict[str, Any]] | None = None


class LegacyV2Error(_Doc):
    """The replaced service's v2 error shape."""

    success: bool
    error: LegacyV2ErrorBody
    request_id: str | None
    timestamp: str


# Every old route may also meet the service's own edge answers (body guard, routing, outage).
LEGACY_EDGE_STATUSES = (400, 404, 405, 413, 415, 422, 503)


def legacy_error_responses(dialect: str, *statuses: int) -> dict[int, Any]:
    """The old route's documented answers: its success (in the old shape) and its errors."""
    model = LegacyV1Error if dialect == "v1" else LegacyV2Error
    errors = {
        status: json_content(model, f"Error in the old {dialect} shape")
        for status in sorted({*LEGACY_EDGE_STATUSES, *statuses})
    }
    return {200: {"description": f"Success in the old {dialect} shape"}, **errors}
