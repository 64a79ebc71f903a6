"""The replaced service's v1/v2 API and POST /v1/route:batch through the Lambda handler, on moto's
DynamoDB: documented shapes, old error shapes with every security header, deprecation headers,
the LegacyRequests metric, persona names in any case, and the batch limits."""

from __future__ import annotations

import json
from typing import Any

import pytest

from handlers.common.http import SECURITY_HEADERS
from scripts.make_events import MIA
from tests.lambda_events import LambdaContext, rest_event

OLD_PERSONA_KEYS = {"name", "traits", "strengths", "best_for_tones", "best_for_paces", "best_for_intents"}


def call(
    method: str, path: str, body: Any = None, raw: str | None = None, **headers: str
) -> tuple[int, Any, dict[str, list[str]]]:
    from handlers.admin import lambda_handler as admin_handler
    from handlers.api import lambda_handler as api_handler

    handler = admin_handler if path.startswith("/v1/admin/") else api_handler
    text = raw if raw is not None else (None if body is None else json.dumps(body, ensure_ascii=False))
    event = rest_event(method, path, text, {"Content-Type": "application/json", **headers})
    event["requestContext"]["path"] = "/dev" + path
    response = handler(event, LambdaContext())
    payload = json.loads(response["body"]) if response.get("body") else None
    return response["statusCode"], payload, response["multiValueHeaders"]


def assert_old_api_headers(headers: dict[str, list[str]], successor: str) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert headers[name] == [value], name
    assert headers["X-Request-Id"] and headers["X-Function-Version"]
    assert headers["Deprecation"][0].startswith("@") and headers["Deprecation"][0][1:].isdigit()
    assert headers["Link"] == [f'</dev{successor}>; rel="successor-version"']


PROCESS = {"user_input": "내일 발표인데 너무 떨려요", "resonance_key": "anxious-burst-seeking_advice"}


def test_v1_process_answers_the_old_shape(service: Any) -> None:
    status, body, headers = call("POST", "/api/persona/process", PROCESS)
    assert status == 200
    assert body == {"content": None, "persona_used": "Lua", "confidence": body["confidence"]}
    assert 0 < body["confidence"] <= 1
    assert_old_api_headers(headers, "/v1/chat")


def test_v1_errors_are_detail_strings_with_every_header(service: Any) -> None:
    status, body, headers = call(
        "POST", "/api/persona/process", {"user_input": "", "resonance_key": "calm-medium-learning"}
    )
    assert status == 422 and set(body) == {"detail"} and "user_input" in body["detail"]
    assert_old_api_headers(headers, "/v1/chat")


@pytest.mark.parametrize(
    "key",
    [
        {"tone": "analytical", "pace": "medium", "intent": "inquiry"},
        "analytical-medium-inquiry",
        "Analytical_Medium_Inquiry",
    ],
)
def test_v2_process_accepts_dict_or_string_keys_and_old_intents(service: Any, key: Any) -> None:
    status, body, headers = call(
        "POST", "/api/v2/process", {"user_input": "explain monads", "resonance_key": key}
    )
    assert status == 200, body
    assert body["success"] is True and body["content"] is None
    assert body["resonance_key"] == "analytical-medium-learning"
    assert set(body["routing"]) == {
        "primary_persona",
        "secondary_persona",
        "confidence",
        "scores",
        "reasoning",
    }
    assert set(body["routing"]["scores"]) == {"lua", "elro", "riri", "nana"}
    assert body["persona_used"] == body["routing"]["primary_persona"]
    assert set(body["performance"]) == {"execution_time_ms", "cache_hit", "cache_key"}
    assert body["timestamp"].endswith("Z") and body["request_id"] == headers["X-Request-Id"][0]
    assert_old_api_headers(headers, "/v1/chat")


def test_v2_process_routes_exactly_like_v1_route(service: Any) -> None:
    _, new, _ = call("POST", "/v1/route", {"resonance_key": "frustrated-burst-seek_advice"})
    _, old, _ = call(
        "POST", "/api/v2/process", {"user_input": "x", "resonance_key": "frustrated-burst-seeking_advice"}
    )
    assert old["persona_used"] == new["persona"] and old["confidence"] == new["confidence"]
    assert old["routing"]["scores"] == {name.lower(): score for name, score in new["scores"].items()}


def test_the_second_process_of_a_key_is_a_cache_hit(service: Any) -> None:
    body = {"user_input": "x", "resonance_key": "playful-flowing-planning"}
    first = call("POST", "/api/v2/process", body)[1]["performance"]
    second = call("POST", "/api/v2/process", body)[1]["performance"]
    assert (first["cache_hit"], second["cache_hit"]) == (False, True)
    assert second["cache_key"].startswith("route:playful-flowing-planning:v")


def test_context_session_id_uses_the_chat_session_store_scoped_to_the_caller(service: Any) -> None:
    body = {
        "user_input": "first turn",
        "resonance_key": "calm-medium-learning",
        "context": {"session_id": "old-s1", "user_id": "u1"},
    }
    assert call("POST", "/api/v2/process", body)[0] == 200
    items = service.scan(TableName="sessions")["Items"]
    assert [i["session_id"]["S"] for i in items] == ["ip:127.0.0.1|old-s1"]
    # the same session continues on /v1/chat: the old turn is in the new prompt's history
    _, chat, _ = call(
        "POST",
        "/v1/chat",
        {"message": "second", "resonance_key": "calm-medium-learning", "session_id": "old-s1"},
    )
    assert "first turn" in chat["prompt"]["user"]


@pytest.mark.parametrize("user_input", ["", "   "])
def test_an_empty_user_input_is_invalid_input_with_field(service: Any, user_input: str) -> None:
    status, body, headers = call(
        "POST", "/api/v2/process", {"user_input": user_input, "resonance_key": "calm-medium-learning"}
    )
    assert status == 422
    assert body["success"] is False
    assert body["error"]["code"] == "INVALID_INPUT" and body["error"]["field"] == "user_input"
    assert body["request_id"] == headers["X-Request-Id"][0] and body["timestamp"].endswith("Z")
    assert_old_api_headers(headers, "/v1/chat")


@pytest.mark.parametrize(
    ("raw", "field"),
    [('{"user_input": ', "body"), ('{"resonance_key": "calm-medium-learning"}', "user_input")],
)
def test_malformed_or_incomplete_bodies_keep_the_old_shape(service: Any, raw: str, field: str) -> None:
    status, body, _ = call("POST", "/api/v2/process", raw=raw)
    assert status == 422 and body["error"] == {**body["error"], "code": "INVALID_INPUT", "field": field}


def test_an_unresolvable_key_is_invalid_input_with_suggestions(service: Any) -> None:
    status, body, _ = call(
        "POST", "/api/v2/process", {"user_input": "x", "resonance_key": "banana-burst-statement"}
    )
    assert status == 422 and body["error"]["field"] == "resonance_key"
    assert body["error"]["details"][0]["part"] == "tone" and body["error"]["details"][0]["suggestions"]


def test_wrong_media_type_and_unknown_route_are_in_the_old_shape(service: Any) -> None:
    status, body, headers = call(
        "POST", "/api/v2/process", raw="user_input=x", **{"Content-Type": "text/plain"}
    )
    assert status == 415 and body["success"] is False and body["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    status, body, headers = call("GET", "/api/v2/nothing-here")
    assert status == 404 and body["error"]["code"] == "NOT_FOUND"
    assert_old_api_headers(headers, "/v1/openapi.json")


def test_health_and_status(service: Any) -> None:
    status, body, headers = call("GET", "/api/v2/health")
    assert status == 200 and body["status"] == "healthy" and body["version"]
    assert_old_api_headers(headers, "/health")
    status, body, _ = call("GET", "/api/v2/status")
    assert status == 200 and body["personas_loaded"] == 4 and body["uptime_seconds"] >= 0
    assert sorted(body["personas"]) == ["Elro", "Lua", "Nana", "Riri"]


def test_recommend(service: Any) -> None:
    status, body, headers = call(
        "POST", "/api/v2/recommend", {"scenario": "팀 일정을 계획하고 모두에게 공유해야 해요"}
    )
    assert status == 200
    assert body["recommended_persona"] == body["capabilities"]["name"]
    assert set(body["capabilities"]) == OLD_PERSONA_KEYS
    assert max(body["scores"], key=body["scores"].get) == body["recommended_persona"].lower()
    assert_old_api_headers(headers, "/v1/personas/recommend")
    status, body, _ = call("POST", "/api/v2/recommend", {"scenario": " "})
    assert status == 422 and body["error"]["field"] == "scenario"


def test_bulk_process_fails_only_the_bad_items(service: Any) -> None:
    requests = [
        {"user_input": "a", "resonance_key": "frustrated-burst-seeking_advice"},
        {"user_input": "b", "resonance_key": "banana-burst-statement"},
        {"user_input": "", "resonance_key": "calm-medium-learning"},
        "not an object",
        {"user_input": "c", "resonance_key": {"tone": "calm", "pace": "medium", "intent": "inquiry"}},
    ]
    status, body, headers = call("POST", "/api/v2/bulk-process", {"requests": requests, "parallel": True})
    assert status == 200
    assert (body["success"], body["total"], body["successful"], body["failed"]) == (True, 5, 2, 3)
    results = body["results"]
    assert [r["success"] for r in results] == [True, False, False, False, True]
    assert results[0]["persona_used"] == "Lua" and results[4]["resonance_key"] == "calm-medium-learning"
    assert results[1]["error"]["field"] == "resonance_key" and results[1]["index"] == 1
    assert results[2]["error"] == {**results[2]["error"], "code": "INVALID_INPUT", "field": "user_input"}
    assert results[3]["error"]["code"] == "INVALID_INPUT"
    assert_old_api_headers(headers, "/v1/route:batch")


def test_bulk_process_limits(service: Any) -> None:
    item = {"user_input": "a", "resonance_key": "calm-medium-learning"}
    status, body, _ = call("POST", "/api/v2/bulk-process", {"requests": [item] * 101})
    assert status == 422 and body["error"]["field"] == "requests"
    status, body, _ = call("POST", "/api/v2/bulk-process", {"requests": []})
    assert status == 200 and body["total"] == 0


@pytest.mark.parametrize("name", ["lua", "Lua", "LUA"])
def test_persona_names_in_any_case(service: Any, name: str) -> None:
    status, body, headers = call("GET", f"/api/v2/personas/{name}")
    assert status == 200 and set(body) == OLD_PERSONA_KEYS and body["name"] == "Lua"
    assert_old_api_headers(headers, f"/v1/personas/{name}")
    status, body, _ = call("GET", f"/v1/personas/{name}")
    assert status == 200 and body["name"] == "Lua"


def test_unknown_persona_is_404_with_the_closest_names(service: Any) -> None:
    status, body, _ = call("GET", "/v1/personas/nanna")
    assert status == 404 and body["error"]["code"] == "NOT_FOUND"
    assert body["error"]["details"] == [{"name": "nanna", "suggestions": ["Nana"]}]
    status, body, _ = call("GET", "/api/v2/personas/nanna")
    assert status == 404 and body["error"]["code"] == "NOT_FOUND" and "Nana" in body["error"]["message"]


def test_persona_list_and_cache_stats(service: Any) -> None:
    status, body, _ = call("GET", "/api/v2/personas")
    assert status == 200 and body["total"] == 4 and all(set(p) == OLD_PERSONA_KEYS for p in body["personas"])
    call("POST", "/api/v2/process", {"user_input": "x", "resonance_key": "urgent-burst-planning"})
    call("POST", "/api/v2/process", {"user_input": "y", "resonance_key": "urgent-burst-planning"})
    status, body, headers = call("GET", "/api/v2/cache-stats")
    assert status == 200 and 0 < body["hit_rate"] <= 1 and body["hits"] >= 1
    assert body["catalog_version"] >= 1
    assert_old_api_headers(headers, "/health/ready")


def test_sunset_header_when_the_operator_sets_a_date(service: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.shared import settings

    _, _, headers = call("GET", "/api/v2/health")
    assert "Sunset" not in headers
    monkeypatch.setenv("LEGACY_SUNSET_DATE", "2027-06-30")
    settings.reload()
    _, _, headers = call("GET", "/api/v2/health")
    assert headers["Sunset"] == ["Wed, 30 Jun 2027 00:00:00 GMT"]
    _, _, new_headers = call("GET", "/health")
    assert "Sunset" not in new_headers and "Deprecation" not in new_headers


def test_legacy_requests_metric_has_the_route_dimension_in_the_one_document(
    service: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    call("GET", "/api/v2/personas/lua")  # a first invocation also prints the ColdStart document
    capsys.readouterr()
    call("GET", "/api/v2/personas/riri")
    docs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert len(docs) == 1  # one EMF document per warm request
    doc = docs[0]
    directive = doc["_aws"]["CloudWatchMetrics"][0]
    assert "LegacyRequests" in {m["Name"] for m in directive["Metrics"]}
    assert ["FunctionVersion", "service", "Route"] in directive["Dimensions"]
    assert doc["Route"] == "GET /api/v2/personas/{name}"  # a fixed label, not the raw path
    call("POST", "/v1/route", {"resonance_key": "calm-medium-learning"})
    new_docs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert all("LegacyRequests" not in d for d in new_docs)


# ---- POST /v1/route:batch ------------------------------------------------------------------------


def test_batch_keeps_order_and_fails_items_alone(service: Any) -> None:
    keys = [
        "frustrated-burst-seek_advice",
        "banana-burst-seek_advice",
        "Calm_Medium_Leanning",
        "analytical-medium-learning",
    ]
    items: list[Any] = [{"resonance_key": k} for k in keys] + [
        {"nope": 1},
        {"resonance_key": "banana", "on_invalid": "default"},
    ]
    status, body, headers = call("POST", "/v1/route:batch", {"items": items})
    assert status == 200 and "Deprecation" not in headers
    results = body["results"]
    assert len(results) == 6
    singles = [call("POST", "/v1/route", {"resonance_key": k})[1] for k in keys]
    assert results[0] == singles[0] and results[2] == singles[2] and results[3] == singles[3]
    assert results[1] == {"error": {k: v for k, v in singles[1]["error"].items()}}
    assert results[1]["error"]["code"] == "INVALID_RESONANCE_KEY"
    assert results[4]["error"]["code"] == "VALIDATION_ERROR"
    assert results[5]["resonance"]["normalized_key"] == "calm-medium-learning"


def test_batch_of_100_is_fine_and_limits_are_422(service: Any) -> None:
    items = [{"resonance_key": "curious-flowing-learning"}] * 100
    status, body, _ = call("POST", "/v1/route:batch", {"items": items})
    assert status == 200 and len(body["results"]) == 100 and all("persona" in r for r in body["results"])
    status, body, _ = call("POST", "/v1/route:batch", {"items": items + items[:1]})
    assert status == 422 and body["error"]["code"] == "VALIDATION_ERROR" and "100" in body["error"]["message"]
    status, body, _ = call("POST", "/v1/route:batch", {"items": []})
    assert status == 422 and body["error"]["details"][0]["field"] == "items"
    status, body, _ = call("POST", "/v1/route:batch", {"keys": []})
    assert status == 422


def test_batch_items_use_their_sessions(service: Any) -> None:
    # Lua answers the session's turn; routing a key Lua does not top then shows her continuity bonus.
    call(
        "POST",
        "/v1/chat",
        {"message": "hi", "resonance_key": "frustrated-burst-seek_advice", "session_id": "b-1"},
    )
    _, body, _ = call(
        "POST", "/v1/route:batch", {"items": [{"resonance_key": "calm-medium-learning", "session_id": "b-1"}]}
    )
    assert body["results"][0]["breakdown"]["Lua"]["continuity"] > 0


# ---- admin writes in another case ------------------------------------------------------------------


def test_admin_put_in_another_case_addresses_the_existing_persona(service: Any) -> None:
    lua = call("GET", "/v1/personas/Lua")[1]
    lua.pop("version")
    lua["description"] = "Edited through a lower-case path."
    status, body, _ = call("PUT", "/v1/admin/personas/lua", {**lua, "name": "lua"})
    assert status == 428  # replacing the existing Lua needs If-Match: no second persona created
    status, body, _ = call("PUT", "/v1/admin/personas/LUA", lua, **{"If-Match": '"1"'})
    assert status == 200 and body["name"] == "Lua" and body["version"] == 2
    personas = call("GET", "/v1/personas")[1]["personas"]
    assert sorted(p["name"] for p in personas) == ["Elro", "Lua", "Nana", "Riri"]
    assert call("GET", "/api/v2/personas/lua")[0] == 200


def test_admin_put_of_a_new_persona_keeps_its_spelling(service: Any) -> None:
    status, body, _ = call("PUT", "/v1/admin/personas/Mia", MIA)
    assert status == 201 and body["name"] == "Mia"
    assert call("GET", "/v1/personas/mia")[1]["name"] == "Mia"
    status, _, _ = call("DELETE", "/v1/admin/personas/MIA", **{"If-Match": '"1"'})
    assert status == 204
    assert call("GET", "/v1/personas/Mia")[0] == 404


def test_openapi_marks_every_old_route_deprecated_and_documents_the_batch_route(service: Any) -> None:
    status, document, _ = call("GET", "/v1/openapi.json")
    assert status == 200
    paths = document["paths"]
    old = {p: ops for p, ops in paths.items() if p.startswith("/api/")}
    assert len(old) == 9  # /api/persona/process + 8 paths under /api/v2
    assert all(op.get("deprecated") is True for ops in old.values() for op in ops.values())
    assert "post" in paths["/v1/route:batch"] and not paths["/v1/route:batch"]["post"].get("deprecated")
    assert not paths["/v1/route"]["post"].get("deprecated")
