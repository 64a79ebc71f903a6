"""The API over real HTTP, against the local server and DynamoDB Local."""

from __future__ import annotations

import json
from typing import Any

import requests

from scripts.make_events import MIA

SECURITY = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def post(http: requests.Session, url: str, body: Any, **headers: str) -> requests.Response:
    return http.post(
        url, data=json.dumps(body), headers={"Content-Type": "application/json", **headers}, timeout=10
    )


def assert_headers(response: requests.Response) -> None:
    for name, value in SECURITY.items():
        assert response.headers.get(name) == value, (response.status_code, name)
    assert response.headers.get("X-Request-Id")
    assert response.headers.get("X-Function-Version")


def test_spec_example_routes_to_lua(http: requests.Session, base_url: str) -> None:
    response = post(http, base_url + "/v1/route", {"resonance_key": "Frustrated_Burst_Seeking-Advice"})
    assert response.status_code == 200
    body = response.json()
    assert (body["persona"], body["secondary_persona"], body["confidence"]) == ("Lua", "Riri", 0.823)
    assert body["resonance"]["normalized_key"] == "frustrated-burst-seek_advice"
    assert {c["rule"] for c in body["resonance"]["corrections"]} == {"case", "separator", "alias"}
    assert_headers(response)


def test_invalid_key_lists_every_bad_part_with_suggestions(http: requests.Session, base_url: str) -> None:
    response = post(http, base_url + "/v1/route", {"resonance_key": "banana-brust"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "INVALID_RESONANCE_KEY"
    parts = {d["part"]: d for d in error["details"]}
    assert set(parts) == {"tone", "intent"}  # "brust" is a typo of burst, corrected
    assert parts["tone"]["suggestions"] and len(parts["tone"]["suggestions"]) <= 3
    assert response.json()["request_id"] == response.headers["X-Request-Id"]
    assert_headers(response)


def test_validate_and_detect(http: requests.Session, base_url: str) -> None:
    valid = post(http, base_url + "/v1/resonance/validate", {"resonance_key": "calm_Medium_leanning"}).json()
    assert valid["valid"] and valid["normalized_key"] == "calm-medium-learning"
    detected = post(
        http, base_url + "/v1/resonance/detect", {"message": "왜 또 안 돼?? 진짜 짜증나!!"}
    ).json()
    assert detected["resonance_key"] == "frustrated-burst-problem_solving"
    assert detected["cues"]


def test_headers_on_every_kind_of_answer(http: requests.Session, base_url: str) -> None:
    answers = [
        http.get(base_url + "/health", timeout=10),
        http.get(base_url + "/v1/nowhere", timeout=10),
        http.delete(base_url + "/v1/route", timeout=10),
        post(http, base_url + "/v1/route", {"resonance_key": "x"}),
        http.post(base_url + "/v1/route", data="{", headers={"Content-Type": "application/json"}, timeout=10),
        http.post(base_url + "/v1/route", data="a=b", headers={"Content-Type": "text/plain"}, timeout=10),
        http.post(
            base_url + "/v1/route",
            data="x" * 70_000,
            headers={"Content-Type": "application/json"},
            timeout=10,
        ),
        http.get(base_url + "/v1/personas/Nobody", timeout=10),
    ]
    assert [a.status_code for a in answers] == [200, 404, 405, 422, 400, 415, 413, 404]
    for answer in answers:
        assert_headers(answer)
        if answer.status_code >= 400:
            assert set(answer.json()) == {"error", "request_id"}


def test_invalid_utf8_over_http_is_400(http: requests.Session, base_url: str) -> None:
    response = http.post(
        base_url + "/v1/route",
        data=b'{"resonance_key": "\xff\xfe"}',
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BAD_REQUEST"


def test_admin_create_route_conflict_and_delete(http: requests.Session, base_url: str) -> None:
    admin = base_url + "/v1/admin/personas/Mia"
    created = http.put(admin, data=json.dumps(MIA), headers={"Content-Type": "application/json"}, timeout=10)
    assert created.status_code == 201, created.text
    assert created.headers["ETag"] == '"1"'
    assert_headers(created)

    routed = post(http, base_url + "/v1/route", {"resonance_key": "calm-contemplative-reflection"}).json()
    assert routed["persona"] == "Mia"  # the write is visible at once

    fetched = http.get(base_url + "/v1/personas/Mia", timeout=10)
    assert fetched.headers["ETag"] == '"1"'
    body = fetched.json()
    body["description"] = "Edited by an operator"

    replaced = http.put(
        admin,
        data=json.dumps(body),
        headers={"Content-Type": "application/json", "If-Match": '"1"'},
        timeout=10,
    )
    assert replaced.status_code == 200 and replaced.headers["ETag"] == '"2"'

    stale = http.put(
        admin,
        data=json.dumps(body),
        headers={"Content-Type": "application/json", "If-Match": '"1"'},
        timeout=10,
    )
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "CONFLICT"
    missing = http.put(admin, data=json.dumps(body), headers={"Content-Type": "application/json"}, timeout=10)
    assert missing.status_code == 428 and missing.json()["error"]["code"] == "PRECONDITION_REQUIRED"
    assert (
        http.get(base_url + "/v1/personas/Mia", timeout=10).json()["description"] == "Edited by an operator"
    )

    deleted = http.delete(admin, headers={"If-Match": "2"}, timeout=10)
    assert deleted.status_code == 204
    assert http.get(base_url + "/v1/personas/Mia", timeout=10).status_code == 404
    names = [p["name"] for p in http.get(base_url + "/v1/personas", timeout=10).json()["personas"]]
    assert names and "Mia" not in names


def test_recommend_and_openapi(http: requests.Session, base_url: str) -> None:
    recommended = post(
        http, base_url + "/v1/personas/recommend", {"scenario": "우리 팀 출시 일정을 함께 계획해요"}
    )
    assert recommended.json()["persona"] == "Nana"
    document = http.get(base_url + "/v1/openapi.json", timeout=10).json()
    assert "/v1/route" in document["paths"] and "/v1/admin/personas/{name}" in document["paths"]
    docs = http.get(base_url + "/v1/docs", timeout=10)
    assert docs.status_code == 200 and "text/html" in docs.headers["Content-Type"]


def test_readiness(http: requests.Session, base_url: str) -> None:
    ready = http.get(base_url + "/health/ready", timeout=10).json()
    assert ready["status"] == "ready" and ready["personas"] >= 4
