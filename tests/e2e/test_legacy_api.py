"""The old v1/v2 API and the batch route over real HTTP, against the local server and DynamoDB
Local: shapes, old errors with every security header, deprecation headers, names in any case."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from tests.e2e.test_api import assert_headers, post


def assert_deprecated(response: requests.Response, successor: str) -> None:
    assert_headers(response)
    assert response.headers["Deprecation"].startswith("@")
    assert response.headers["Link"] == f'<{successor}>; rel="successor-version"'


def test_v1_process(http: requests.Session, base_url: str) -> None:
    body = {"user_input": "도와주세요", "resonance_key": "frustrated-burst-seeking_advice"}
    response = post(http, base_url + "/api/persona/process", body)
    assert response.status_code == 200
    assert response.json() == {"content": None, "persona_used": "Lua", "confidence": 0.823}
    assert_deprecated(response, "/v1/chat")
    bad = post(
        http, base_url + "/api/persona/process", {"user_input": "", "resonance_key": "calm-medium-learning"}
    )
    assert bad.status_code == 422 and set(bad.json()) == {"detail"}
    assert_deprecated(bad, "/v1/chat")


def test_v2_process_and_empty_input(http: requests.Session, base_url: str) -> None:
    key = {"tone": "calm", "pace": "medium", "intent": "inquiry"}
    response = post(
        http, base_url + "/api/v2/process", {"user_input": "what is a monad", "resonance_key": key}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and body["resonance_key"] == "calm-medium-learning"
    assert set(body["routing"]["scores"]) == {"lua", "elro", "riri", "nana"}
    assert_deprecated(response, "/v1/chat")
    bad = post(http, base_url + "/api/v2/process", {"user_input": "", "resonance_key": key})
    assert bad.status_code == 422
    error = bad.json()
    assert error["success"] is False and error["error"]["code"] == "INVALID_INPUT"
    assert error["error"]["field"] == "user_input" and error["request_id"] and error["timestamp"]
    assert_deprecated(bad, "/v1/chat")
    malformed = http.post(
        base_url + "/api/v2/process",
        data='{"user_input": ',
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert malformed.status_code == 422 and malformed.json()["error"]["field"] == "body"


def test_bulk_process_fails_only_the_bad_item(http: requests.Session, base_url: str) -> None:
    requests_ = [
        {"user_input": "a", "resonance_key": "frustrated-burst-seeking_advice"},
        {"user_input": "b", "resonance_key": "banana-burst-statement"},
        {"user_input": "c", "resonance_key": "curious-flowing-inquiry"},
    ]
    response = post(http, base_url + "/api/v2/bulk-process", {"requests": requests_})
    assert response.status_code == 200
    body = response.json()
    assert (body["total"], body["successful"]) == (3, 2)
    assert [r["success"] for r in body["results"]] == [True, False, True]
    assert body["results"][1]["error"]["field"] == "resonance_key"


@pytest.mark.parametrize("name", ["lua", "LUA", "Lua"])
def test_persona_names_in_any_case(http: requests.Session, base_url: str, name: str) -> None:
    old = http.get(f"{base_url}/api/v2/personas/{name}", timeout=10)
    assert old.status_code == 200 and old.json()["name"] == "Lua"
    assert_deprecated(old, f"/v1/personas/{name}")
    new = http.get(f"{base_url}/v1/personas/{name}", timeout=10)
    assert new.status_code == 200 and new.json()["name"] == "Lua"


def test_health_status_recommend_personas_cache_stats(http: requests.Session, base_url: str) -> None:
    for path, successor in (
        ("/api/v2/health", "/health"),
        ("/api/v2/status", "/health/ready"),
        ("/api/v2/personas", "/v1/personas"),
        ("/api/v2/cache-stats", "/health/ready"),
    ):
        response = http.get(base_url + path, timeout=10)
        assert response.status_code == 200, path
        assert_deprecated(response, successor)
    response = post(http, base_url + "/api/v2/recommend", {"scenario": "분석 결과를 표로 정리해 주세요"})
    assert response.status_code == 200 and response.json()["recommended_persona"]
    assert_deprecated(response, "/v1/personas/recommend")


def test_route_batch(http: requests.Session, base_url: str) -> None:
    items: list[Any] = [{"resonance_key": "Frustrated_Burst_Seeking-Advice"}, {"resonance_key": "banana"}]
    items += [{"resonance_key": "calm-medium-learning"}] * 98
    response = post(http, base_url + "/v1/route:batch", {"items": items})
    assert response.status_code == 200
    assert_headers(response)
    assert "Deprecation" not in response.headers
    results = response.json()["results"]
    assert len(results) == 100
    assert results[0]["persona"] == "Lua" and results[1]["error"]["code"] == "INVALID_RESONANCE_KEY"
    assert all(r["persona"] == results[2]["persona"] for r in results[2:])
    too_many = post(http, base_url + "/v1/route:batch", {"items": items + items[:1]})
    assert too_many.status_code == 422 and too_many.json()["error"]["code"] == "VALIDATION_ERROR"
    empty = http.post(
        base_url + "/v1/route:batch",
        data=json.dumps({"items": []}),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert empty.status_code == 422
