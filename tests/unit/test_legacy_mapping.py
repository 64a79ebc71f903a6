"""The old v1/v2 dialect's pure mappings: old bodies -> core call arguments, core results -> old
shapes, errors -> old error shapes, and the headers every old-API answer carries."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from core.persona.default_catalog import default_catalog
from core.persona.resonance import parse_resonance_key
from handlers.common.legacy_dialect import (
    DEPRECATED_ON,
    RouteCacheStats,
    V1ProcessRequest,
    V2BulkRequest,
    V2ProcessRequest,
    adapt_response,
    chat_arguments,
    deprecation_headers,
    key_text,
    legacy_route,
    old_error,
    v1_process,
    v2_persona,
    v2_process,
    v2_recommend,
)

NOW = datetime(2027, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


def chat_result(persona: str = "Lua") -> dict[str, Any]:
    """A /v1/chat result as the core pipeline shapes it (only the fields the mapping reads)."""
    scores = {"Lua": 1.0, "Elro": 0.44, "Riri": 0.59, "Nana": 0.59}
    routing = {
        "persona": persona,
        "secondary_persona": "Riri",
        "confidence": 0.823,
        "scores": scores,
        "reasoning": "Lua leads Riri by 0.41, decided by tone (frustrated): 0.50 vs 0.30.",
        "catalog_version": 7,
        "resonance": {"normalized_key": "frustrated-burst-seek_advice"},
    }
    return {
        "persona": persona,
        "confidence": 0.823,
        "content": "reply text",
        "routing": routing,
        "resonance": routing["resonance"],
        "execution_time_ms": 1.25,
    }


# ---- old bodies -> core calls -------------------------------------------------------------------


def test_a_structured_key_becomes_the_one_string_the_key_parser_reads() -> None:
    body = V2ProcessRequest.model_validate(
        {
            "user_input": "hi",
            "resonance_key": {"tone": "Frustrated", "pace": "burst", "intent": "seeking_advice"},
        }
    )
    text = key_text(body.resonance_key)
    assert text == "Frustrated-burst-seeking_advice"
    assert parse_resonance_key(text).normalized_key == "frustrated-burst-seek_advice"


def test_a_string_key_is_passed_as_sent() -> None:
    body = V2ProcessRequest.model_validate({"user_input": "hi", "resonance_key": "calm-medium-inquiry"})
    assert key_text(body.resonance_key) == "calm-medium-inquiry"


@pytest.mark.parametrize(
    ("old_intent", "resolved"),
    [
        ("seeking_advice", "seek_advice"),
        ("inquiry", "learning"),
        ("statement", "reflection"),
        ("expressive", "reflection"),
    ],
)
def test_old_intents_are_corrected_by_the_same_parser(old_intent: str, resolved: str) -> None:
    body = V2ProcessRequest.model_validate(
        {"user_input": "x", "resonance_key": {"tone": "calm", "pace": "medium", "intent": old_intent}}
    )
    key = parse_resonance_key(key_text(body.resonance_key) or "")
    assert key.intent == resolved
    assert any(c.part == "intent" and c.rule == "alias" for c in key.corrections)


def test_context_gives_the_session_and_user_and_the_caller_owns_the_session() -> None:
    body = V2ProcessRequest.model_validate(
        {
            "user_input": "hello",
            "resonance_key": "calm-medium-learning",
            "context": {"user_id": "u1", "session_id": "s-1", "message_history": [{"role": "user"}]},
        }
    )
    assert chat_arguments(body, "apikey:abc") == {
        "message": "hello",
        "resonance_key": "calm-medium-learning",
        "session_id": "s-1",
        "user_id": "u1",
        "session_owner": "apikey:abc",
    }


def test_missing_context_and_key_mean_no_session_and_an_inferred_key() -> None:
    body = V2ProcessRequest.model_validate({"user_input": "hello"})
    arguments = chat_arguments(body, "ip:1.2.3.4")
    assert arguments["session_id"] is None and arguments["user_id"] is None
    assert arguments["resonance_key"] is None  # the pipeline infers it, as /v1/chat does


def test_v1_body_maps_like_v2_without_context() -> None:
    body = V1ProcessRequest.model_validate({"user_input": "hello", "resonance_key": "calm-medium-learning"})
    assert chat_arguments(body, "o")["session_id"] is None


@pytest.mark.parametrize("user_input", ["", "   ", "\n"])
def test_an_empty_user_input_is_refused_naming_the_field(user_input: str) -> None:
    with pytest.raises(ValidationError) as caught:
        V2ProcessRequest.model_validate({"user_input": user_input, "resonance_key": "calm-medium-learning"})
    assert caught.value.errors()[0]["loc"] == ("user_input",)


def test_unknown_old_fields_are_ignored_and_a_bad_session_id_is_refused() -> None:
    body = V2ProcessRequest.model_validate({"user_input": "x", "legacy_flag": 1, "use_cache": False})
    assert body.use_cache is False
    with pytest.raises(ValidationError):
        V2ProcessRequest.model_validate({"user_input": "x", "context": {"session_id": "has space"}})


def test_bulk_items_are_left_for_one_by_one_checks() -> None:
    body = V2BulkRequest.model_validate({"requests": [{"user_input": "ok"}, 5, "x"]})
    assert len(body.requests) == 3


# ---- core results -> old shapes -------------------------------------------------------------------


def test_v1_process_shape() -> None:
    assert v1_process(chat_result()) == {"content": "reply text", "persona_used": "Lua", "confidence": 0.823}


def test_v2_process_shape_with_lower_case_score_keys() -> None:
    answer = v2_process(chat_result(), "req-1", cache_hit=True, include_metadata=True, now=NOW)
    assert answer == {
        "success": True,
        "content": "reply text",
        "persona_used": "Lua",
        "resonance_key": "frustrated-burst-seek_advice",
        "confidence": 0.823,
        "routing": {
            "primary_persona": "Lua",
            "secondary_persona": "Riri",
            "confidence": 0.823,
            "scores": {"lua": 1.0, "elro": 0.44, "riri": 0.59, "nana": 0.59},
            "reasoning": chat_result()["routing"]["reasoning"],
        },
        "performance": {
            "execution_time_ms": 1.25,
            "cache_hit": True,
            "cache_key": "route:frustrated-burst-seek_advice:v7",
        },
        "timestamp": "2027-01-02T03:04:05.678Z",
        "request_id": "req-1",
    }


def test_v2_process_without_metadata_drops_routing_and_performance() -> None:
    answer = v2_process(chat_result(), "r", cache_hit=False, include_metadata=False, now=NOW)
    assert "routing" not in answer and "performance" not in answer
    assert answer["persona_used"] == "Lua" and answer["success"] is True


def test_content_is_null_when_no_model_answered() -> None:
    result = chat_result()
    result["content"] = None
    assert v1_process(result)["content"] is None
    assert v2_process(result, "r", False, True)["content"] is None


def test_persona_and_recommend_shapes() -> None:
    lua = default_catalog().require("lua")
    persona = v2_persona(lua)
    assert set(persona) == {
        "name",
        "traits",
        "strengths",
        "best_for_tones",
        "best_for_paces",
        "best_for_intents",
    }
    assert persona["name"] == "Lua" and "frustrated" in persona["best_for_tones"]
    recommended = v2_recommend(lua, {"Lua": 0.9, "Nana": 0.5}, ["why"])
    assert recommended["recommended_persona"] == "Lua"
    assert recommended["scores"] == {"lua": 0.9, "nana": 0.5}
    assert recommended["capabilities"] == persona


def test_cache_stats_count_hits_per_catalog_version() -> None:
    stats = RouteCacheStats()
    assert stats.record("calm-medium-learning", 1) is False
    assert stats.record("calm-medium-learning", 1) is True
    assert stats.record("calm-medium-learning", 2) is False  # a new catalog ranks keys afresh
    assert stats.snapshot() == {"hit_rate": round(1 / 3, 4), "hits": 1, "misses": 2, "cached_keys": 1}


# ---- errors and headers -------------------------------------------------------------------------------


def envelope(code: str, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or []}, "request_id": "req-9"}


def test_v2_validation_error_is_invalid_input_with_the_field() -> None:
    payload = envelope(
        "VALIDATION_ERROR",
        "the request is not valid",
        [{"field": "user_input", "message": "must not be empty"}],
    )
    status, body = old_error("v2", 422, payload, NOW)
    assert status == 422
    assert body == {
        "success": False,
        "error": {"code": "INVALID_INPUT", "message": "user_input: must not be empty", "field": "user_input"},
        "request_id": "req-9",
        "timestamp": "2027-01-02T03:04:05.678Z",
    }


def test_v1_errors_are_detail_strings() -> None:
    status, body = old_error("v1", 404, envelope("NOT_FOUND", "no route for GET /x"))
    assert (status, body) == (404, {"detail": "no route for GET /x"})


def test_malformed_json_is_422_as_the_old_service_answered() -> None:
    status, body = old_error("v2", 400, envelope("BAD_REQUEST", "the request body is not valid JSON"))
    assert status == 422 and body["error"]["code"] == "INVALID_INPUT" and body["error"]["field"] == "body"


def test_a_bad_key_keeps_its_suggestions() -> None:
    details = [{"part": "tone", "input": "banana", "suggestions": ["calm"]}]
    _, body = old_error("v2", 422, envelope("INVALID_RESONANCE_KEY", "bad key", details))
    assert body["error"]["field"] == "resonance_key" and body["error"]["details"] == details


def test_service_errors_keep_their_status_and_code() -> None:
    status, body = old_error("v2", 503, envelope("UNAVAILABLE", "busy"))
    assert status == 503 and body["error"]["code"] == "UNAVAILABLE"


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("POST", "/api/persona/process", ("v1", "POST /api/persona/process")),
        ("POST", "/api/v2/process", ("v2", "POST /api/v2/process")),
        ("GET", "/api/v2/personas/LUA", ("v2", "GET /api/v2/personas/{name}")),
        ("GET", "/api/v2/anything/else", ("v2", "other /api/v2")),
        ("GET", "/api/v2", ("v2", "other /api/v2")),
        ("POST", "/v1/route", None),
        ("GET", "/api/v22/x", None),
    ],
)
def test_route_labels_are_a_fixed_set(method: str, path: str, expected: Any) -> None:
    assert legacy_route(method, path) == expected


def test_deprecation_link_and_sunset_headers() -> None:
    headers = deprecation_headers("POST /api/v2/process", "/dev", date(2027, 5, 1))
    epoch = int(datetime(DEPRECATED_ON.year, DEPRECATED_ON.month, DEPRECATED_ON.day, tzinfo=UTC).timestamp())
    assert headers == {
        "Deprecation": f"@{epoch}",
        "Link": '</dev/v1/chat>; rel="successor-version"',
        "Sunset": "Sat, 01 May 2027 00:00:00 GMT",
    }
    assert "Sunset" not in deprecation_headers("GET /api/v2/health", "", None)


def test_adapt_response_rewrites_only_old_api_answers() -> None:
    event = {
        "httpMethod": "GET",
        "path": "/api/v2/personas/x y",
        "requestContext": {"path": "/prod/api/v2/personas/x y"},
    }
    response: dict[str, Any] = {
        "statusCode": 404,
        "body": json.dumps(envelope("NOT_FOUND", "persona 'x y' does not exist")),
        "multiValueHeaders": {},
    }
    assert adapt_response(event, response, None, NOW) == "GET /api/v2/personas/{name}"
    assert json.loads(response["body"])["error"]["code"] == "NOT_FOUND"
    # a name that is not a persona name is never echoed into a header
    assert response["multiValueHeaders"]["Link"] == ['</prod/v1/personas>; rel="successor-version"']
    untouched: dict[str, Any] = {
        "statusCode": 404,
        "body": json.dumps(envelope("NOT_FOUND", "x")),
        "multiValueHeaders": {},
    }
    assert adapt_response({"httpMethod": "GET", "path": "/v1/x"}, untouched, None) is None
    assert untouched["multiValueHeaders"] == {} and "error" in json.loads(untouched["body"])
