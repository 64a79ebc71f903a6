"""The replaced service's v1/v2 dialect at the edge: pure mappings from old request bodies to core
calls and from core results to old shapes, plus the one step every old-API response goes through
(error shape, deprecation headers, the `LegacyRequests` metric).

The routers (handlers/routes/legacy_v1.py, legacy_v2.py) parse bodies with the models below and
call the same core as /v1; nothing here routes or parses keys a second way. Old error shapes are
made from the service's own error envelope after the resolver answered, so every failure the
guard, the validator or a route produces (and every security header) is the same as on /v1.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from email.utils import format_datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from core.persona.personas import PERSONA_NAME_PATTERN, Persona, capabilities
from handlers.schemas import SESSION_ID_PATTERN

# The day this service started answering the old API in its place: the `Deprecation` date
# (RFC 9745 structured field, `@<epoch seconds>`).
DEPRECATED_ON = date(2026, 11, 30)
MAX_BULK_ITEMS = 100

V1_PROCESS_PATH = "/api/persona/process"
V2_PREFIX = "/api/v2"

Dialect = Literal["v1", "v2"]

# Old route -> its successor on /v1 (the Link header and the README's migration table). The
# metric's Route dimension uses these fixed labels, never a client's raw path.
SUCCESSORS: dict[str, str] = {
    "POST /api/persona/process": "/v1/chat",
    "GET /api/v2/health": "/health",
    "GET /api/v2/status": "/health/ready",
    "POST /api/v2/process": "/v1/chat",
    "POST /api/v2/recommend": "/v1/personas/recommend",
    "POST /api/v2/bulk-process": "/v1/route:batch",
    "GET /api/v2/personas": "/v1/personas",
    "GET /api/v2/personas/{name}": "/v1/personas/{name}",
    "GET /api/v2/cache-stats": "/health/ready",
}
OTHER_V2 = "other /api/v2"


def legacy_route(method: str, path: str) -> tuple[Dialect, str] | None:
    """(dialect, route label) of an old-API request, None for the rest of the API."""
    if path == V1_PROCESS_PATH or path == V1_PROCESS_PATH + "/":
        return "v1", "POST /api/persona/process"
    if path != V2_PREFIX and not path.startswith(V2_PREFIX + "/"):
        return None
    rest = path[len(V2_PREFIX) :].rstrip("/")
    parts = rest.split("/")[1:] if rest else []
    label = f"{method.upper()} {V2_PREFIX}{rest}"
    if len(parts) == 2 and parts[0] == "personas":
        label = f"{method.upper()} {V2_PREFIX}/personas/{{name}}"
    return "v2", label if label in SUCCESSORS else OTHER_V2


_NAME = re.compile(PERSONA_NAME_PATTERN)


def successor(label: str, name: str | None = None) -> str:
    target = SUCCESSORS.get(label, "/v1/openapi.json")
    if name is None:
        return target
    return target.replace("{name}", name) if name else target.replace("/{name}", "")


# ---- request bodies -------------------------------------------------------------------------


class _OldBody(BaseModel):
    # Old clients may send fields the new service has no use for: accepted and ignored, as the old
    # service did, so a client runs unchanged.
    model_config = ConfigDict(extra="ignore", defer_build=True)


class OldKey(_OldBody):
    tone: str
    pace: str
    intent: str


class OldContext(_OldBody):
    user_id: str | None = Field(default=None, max_length=128)
    session_id: str | None = Field(default=None, pattern=SESSION_ID_PATTERN)
    # Accepted for compatibility; the service keeps history itself in the session store.
    message_history: list[Any] | None = None


def _not_blank(text: str) -> str:
    if not text.strip():
        raise PydanticCustomError("empty", "must not be empty")
    return text


class V1ProcessRequest(_OldBody):
    user_input: str
    resonance_key: str

    _user_input = field_validator("user_input")(_not_blank)


class V2ProcessRequest(_OldBody):
    user_input: str
    resonance_key: OldKey | str | None = None
    context: OldContext | None = None
    include_metadata: bool = True
    use_cache: bool = True

    _user_input = field_validator("user_input")(_not_blank)


class V2RecommendRequest(_OldBody):
    scenario: str

    _scenario = field_validator("scenario")(_not_blank)


class V2BulkRequest(_OldBody):
    requests: list[Any]
    parallel: bool = False


def key_text(key: OldKey | str | None) -> str | None:
    """An old key, a `tone-pace-intent` string or `{tone, pace, intent}`, as the one string the
    core parser reads (which corrects old intents such as `seeking_advice` or `inquiry`)."""
    if key is None or isinstance(key, str):
        return key
    return f"{key.tone}-{key.pace}-{key.intent}"


def chat_arguments(body: V1ProcessRequest | V2ProcessRequest, owner: str) -> dict[str, Any]:
    """The core ChatInput fields for an old process body."""
    context = body.context if isinstance(body, V2ProcessRequest) else None
    return {
        "message": body.user_input,
        "resonance_key": key_text(body.resonance_key),
        "session_id": context.session_id if context else None,
        "user_id": context.user_id if context else None,
        "session_owner": owner,
    }


# ---- results in old shapes --------------------------------------------------------------------


def utc_timestamp(now: datetime | None = None) -> str:
    moment = now or datetime.now(UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def lower_scores(scores: dict[str, float]) -> dict[str, float]:
    return {name.lower(): score for name, score in scores.items()}


def cache_key_of(normalized_key: str, catalog_version: int) -> str:
    return f"route:{normalized_key}:v{catalog_version}"


def v1_process(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "content": result["content"],
        "persona_used": result["persona"],
        "confidence": result["confidence"],
    }


def v2_process(
    result: dict[str, Any],
    request_id: str,
    cache_hit: bool,
    include_metadata: bool,
    now: datetime | None = None,
) -> dict[str, Any]:
    routing = result["routing"]
    normalized = result["resonance"]["normalized_key"]
    answer: dict[str, Any] = {
        "success": True,
        "content": result["content"],
        "persona_used": result["persona"],
        "resonance_key": normalized,
        "confidence": result["confidence"],
    }
    if include_metadata:
        answer["routing"] = {
            "primary_persona": routing["persona"],
            "secondary_persona": routing["secondary_persona"],
            "confidence": routing["confidence"],
            "scores": lower_scores(routing["scores"]),
            "reasoning": routing["reasoning"],
        }
        answer["performance"] = {
            "execution_time_ms": result["execution_time_ms"],
            "cache_hit": cache_hit,
            "cache_key": cache_key_of(normalized, routing["catalog_version"]),
        }
    answer["timestamp"] = utc_timestamp(now)
    answer["request_id"] = request_id
    return answer


def v2_persona(persona: Persona) -> dict[str, Any]:
    summary = capabilities(persona)
    return {
        "name": persona.name,
        "traits": summary["traits"],
        "strengths": summary["strengths"],
        "best_for_tones": summary["best_tones"],
        "best_for_paces": summary["best_paces"],
        "best_for_intents": summary["best_intents"],
    }


def v2_recommend(recommended: Persona, scores: dict[str, float], why: list[str]) -> dict[str, Any]:
    return {
        "recommended_persona": recommended.name,
        "scores": lower_scores(scores),
        "capabilities": v2_persona(recommended),
        "reasoning": why,
    }


class RouteCacheStats:
    """Per execution environment: how many old process calls found their key already ranked by
    the current catalog version's router (which memoises every key it ranks, for /v1 and old
    calls alike). What `GET /api/v2/cache-stats` and `performance.cache_hit` report."""

    MAX_KEYS = 4096

    def __init__(self) -> None:
        self.hits = 0
        self.misses = 0
        self._version: int | None = None
        self._seen: set[str] = set()

    def record(self, normalized_key: str, catalog_version: int) -> bool:
        if catalog_version != self._version:
            self._version = catalog_version
            self._seen = set()
        hit = normalized_key in self._seen
        if hit:
            self.hits += 1
        else:
            self.misses += 1
            if len(self._seen) < self.MAX_KEYS:
                self._seen.add(normalized_key)
        return hit

    def snapshot(self) -> dict[str, Any]:
        lookups = self.hits + self.misses
        return {
            "hit_rate": round(self.hits / lookups, 4) if lookups else 0.0,
            "hits": self.hits,
            "misses": self.misses,
            "cached_keys": len(self._seen),
        }


# ---- errors and headers of every old-API response --------------------------------------------

# The new envelope's code -> the old dialect's. Every problem with the request's content was
# INVALID_INPUT in the old service; the rest keep their names.
_OLD_CODES = {
    "VALIDATION_ERROR": "INVALID_INPUT",
    "BAD_REQUEST": "INVALID_INPUT",
    "INVALID_RESONANCE_KEY": "INVALID_INPUT",
}


def _field_of(code: str, details: list[Any]) -> str | None:
    for detail in details:
        if isinstance(detail, dict) and isinstance(detail.get("field"), str):
            return str(detail["field"])
    if code == "INVALID_RESONANCE_KEY":
        return "resonance_key"
    if code == "BAD_REQUEST":
        return "body"
    return None


def _message_of(error: dict[str, Any], field: str | None) -> str:
    message = str(error.get("message", ""))
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and isinstance(detail.get("message"), str) and detail.get("field"):
            return f"{detail['field']}: {detail['message']}"
    return f"{field}: {message}" if field and error.get("code") == "VALIDATION_ERROR" else message


def old_error(
    dialect: Dialect, status: int, payload: dict[str, Any], now: datetime | None = None
) -> tuple[int, dict[str, Any]]:
    """(status, body) of an error in the old dialect, from the service's error envelope.

    Statuses stay the service's, except malformed JSON: 422, as the old (FastAPI) service
    answered it."""
    error = payload.get("error") if isinstance(payload.get("error"), dict) else {}
    assert isinstance(error, dict)
    code = str(error.get("code", "INTERNAL"))
    details = error.get("details") if isinstance(error.get("details"), list) else []
    assert isinstance(details, list)
    field = _field_of(code, details)
    message = _message_of(error, field)
    if code == "BAD_REQUEST" and "JSON" in message:
        status = 422
    if dialect == "v1":
        return status, {"detail": message}
    body: dict[str, Any] = {
        "success": False,
        "error": {"code": _OLD_CODES.get(code, code), "message": message, "field": field},
        "request_id": payload.get("request_id"),
        "timestamp": utc_timestamp(now),
    }
    if details and code == "INVALID_RESONANCE_KEY":
        body["error"]["details"] = details  # the suggestions for each bad part
    return status, body


def deprecation_headers(
    label: str, base_path: str, sunset: date | None, name: str | None = None
) -> dict[str, str]:
    deprecated_at = int(
        datetime(DEPRECATED_ON.year, DEPRECATED_ON.month, DEPRECATED_ON.day, tzinfo=UTC).timestamp()
    )
    headers = {
        "Deprecation": f"@{deprecated_at}",
        "Link": f'<{base_path}{successor(label, name)}>; rel="successor-version"',
    }
    if sunset is not None:
        moment = datetime(sunset.year, sunset.month, sunset.day, tzinfo=UTC)
        headers["Sunset"] = format_datetime(moment, usegmt=True)
    return headers


def base_path_of(event: dict[str, Any]) -> str:
    """The stage or base-path prefix clients used (`/dev` on an execute-api URL), so the Link
    target resolves where the client actually is."""
    path = event.get("path")
    context = event.get("requestContext")
    full = context.get("path") if isinstance(context, dict) else None
    if isinstance(path, str) and isinstance(full, str) and full.endswith(path) and len(full) > len(path):
        prefix = full[: -len(path)]
        if prefix.startswith("/") and len(prefix) <= 128:
            return prefix
    return ""


def adapt_response(
    event: dict[str, Any], response: dict[str, Any], sunset: date | None, now: datetime | None = None
) -> str | None:
    """Give an old-API response its dialect: errors in the old shape, the deprecation headers.
    Returns the route label (for the metric), or None when the request is not an old-API one."""
    method, path = event.get("httpMethod"), event.get("path")
    if not (isinstance(method, str) and isinstance(path, str)):
        return None
    found = legacy_route(method, path)
    if found is None:
        return None
    dialect, label = found
    status = int(response.get("statusCode", 500))
    if status >= 400:
        try:
            payload = json.loads(response.get("body") or "{}")
        except ValueError:
            payload = {}
        if isinstance(payload, dict) and "error" in payload:
            status, body = old_error(dialect, status, payload, now)
            response["statusCode"] = status
            response["body"] = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
            response["isBase64Encoded"] = False
    name = path.rstrip("/").rsplit("/", 1)[-1] if label.endswith("{name}") else None
    if name is not None and not _NAME.match(name):
        name = ""  # never echo an arbitrary path segment into a header: point at the list
    multi = response.setdefault("multiValueHeaders", {})
    for header, value in deprecation_headers(label, base_path_of(event), sunset, name).items():
        multi[header] = [value]
    return label


def legacy_step(event: dict[str, Any], response: dict[str, Any]) -> None:
    """The lambda_entry step for the API function: old-API responses get their dialect, and
    count once in `LegacyRequests` with the route as a dimension, in the request's one EMF
    document (an extra dimension set, as the persona one)."""
    path = event.get("path")
    if not (isinstance(path, str) and path.startswith("/api/")):
        return  # every old-API path is under /api/: the rest of the API skips the lookup
    from core.shared.settings import settings
    from handlers.common.observability import SERVICE, metrics

    label = adapt_response(event, response, settings().legacy_sunset_date)
    if label is not None:
        metrics.add_metric(name="LegacyRequests", unit="Count", value=1)
        metrics.add_dimensions(service=SERVICE, Route=label)
