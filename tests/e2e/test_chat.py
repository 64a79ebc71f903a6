"""POST /v1/chat through the local server with backend `none`: the prompt comes back, turns
are stored in DynamoDB Local, continuity and idempotent retries work over HTTP."""

from __future__ import annotations

import json
import uuid

import requests


def chat(http: requests.Session, base_url: str, body: dict, key: str | None = None) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    return http.post(base_url + "/v1/chat", data=json.dumps(body), headers=headers, timeout=10)


def test_chat_returns_the_prompt_without_a_model(http: requests.Session, base_url: str) -> None:
    response = chat(
        http, base_url, {"message": "How do I plan my study week? {persona} ${HOME}", "locale": "en"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["content"] is None and body["llm"]["backend"] == "none"
    assert "{persona} ${HOME}" in body["prompt"]["user"]  # user text verbatim
    assert body["prompt"]["system"].startswith(f"You are {body['persona']}")
    assert body["session_id"] and body["routing"]["persona"] == body["persona"]


def test_sessions_keep_history_and_continuity(http: requests.Session, base_url: str) -> None:
    session = f"e2e-{uuid.uuid4().hex[:8]}"
    first = chat(
        http,
        base_url,
        {
            "message": "first message",
            "resonance_key": "curious-flowing-learning",
            "session_id": session,
            "locale": "en",
        },
    ).json()
    assert first["persona"] == "Elro"
    chat(
        http,
        base_url,
        {
            "message": "second message",
            "resonance_key": "calm-medium-learning",
            "session_id": session,
            "locale": "en",
        },
    )
    third = chat(
        http,
        base_url,
        {
            "message": "third",
            "resonance_key": "curious-flowing-learning",
            "session_id": session,
            "locale": "en",
        },
    ).json()
    assert "first message" in third["prompt"]["user"] and "second message" in third["prompt"]["user"]
    assert third["routing"]["breakdown"][third["persona"]]["continuity"] > 0


def test_idempotent_retry_returns_the_first_answer(http: requests.Session, base_url: str) -> None:
    key = uuid.uuid4().hex
    body = {"message": "retry me", "resonance_key": "calm-medium-learning"}
    first = chat(http, base_url, body, key)
    second = chat(http, base_url, body, key)
    assert first.status_code == second.status_code == 200
    assert first.json()["session_id"] == second.json()["session_id"]
    assert first.json()["execution_time_ms"] == second.json()["execution_time_ms"]
    changed = chat(http, base_url, {**body, "message": "something else"}, key)
    assert changed.status_code == 422 and changed.json()["error"]["code"] == "VALIDATION_ERROR"
