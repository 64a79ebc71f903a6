"""Faults against real processes: DynamoDB Local stopped and restarted under a running server,
a model endpoint that does not answer, and twenty writers racing on one persona."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from scripts.dynamodb_local import free_port
from tests.e2e.conftest import Stack, start_stack, stop_stack

ROUTE = {"resonance_key": "frustrated-burst-seek_advice"}


@pytest.fixture
def short_ttl_stack() -> Iterator[Stack]:
    stack = start_stack({"CATALOG_CACHE_TTL_SECONDS": "1"})
    try:
        yield stack
    finally:
        stop_stack(stack)


def route(stack: Stack) -> requests.Response:
    return stack.session.post(
        stack.url + "/v1/route",
        data=json.dumps(ROUTE),
        headers={"Content-Type": "application/json"},
        timeout=15,
    )


def test_dynamodb_down_then_back(short_ttl_stack: Stack) -> None:
    stack = short_ttl_stack
    assert route(stack).status_code == 200  # the catalog is cached now
    stack.dynamodb.stop()
    time.sleep(1.5)  # past the cache TTL: every refresh now fails
    for _ in range(5):
        answer = route(stack)
        assert answer.status_code == 200, answer.text  # served from the last good catalog
        assert answer.json()["persona"] == "Lua"
    ready = stack.session.get(stack.url + "/health/ready", timeout=15)
    assert ready.status_code == 503
    assert ready.json()["error"]["code"] == "UNAVAILABLE" and ready.headers["Retry-After"]

    stack.restart_dynamodb()
    deadline = time.monotonic() + 20
    while stack.session.get(stack.url + "/health/ready", timeout=15).status_code != 200:
        assert time.monotonic() < deadline, "readiness did not recover"
        time.sleep(0.5)
    assert route(stack).status_code == 200


def test_a_failing_model_is_503_with_retry_after() -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    stack = start_stack({"LLM_BACKEND": "bedrock", "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": closed})
    try:
        answer = stack.session.post(
            stack.url + "/v1/chat",
            data=json.dumps({"message": "hello", "resonance_key": "calm-medium-learning"}),
            headers={"Content-Type": "application/json"},
            timeout=60,
        )
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"]["code"] == "UNAVAILABLE"
        assert int(answer.headers["Retry-After"]) >= 1
        assert "127.0.0.1" not in answer.text  # no internals leak
    finally:
        stop_stack(stack)


def test_twenty_concurrent_writers_one_winner_per_version(stack: Stack) -> None:
    url = stack.url + "/v1/admin/personas/Riri"
    current = stack.session.get(stack.url + "/v1/personas/Riri", timeout=10)
    version = int(current.headers["ETag"].strip('"'))
    body = current.json()

    def write(i: int) -> int:
        edited = {**body, "description": f"writer {i}"}
        with requests.Session() as own:
            return own.put(
                url,
                data=json.dumps(edited),
                timeout=30,
                headers={"Content-Type": "application/json", "If-Match": f'"{version}"'},
            ).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(write, range(20)))
    assert sorted(set(statuses)) <= [200, 409], statuses
    assert statuses.count(200) == 1, statuses  # one write wins the version; the rest are told
    after = stack.session.get(stack.url + "/v1/personas/Riri", timeout=10)
    assert after.headers["ETag"] == f'"{version + 1}"'
    assert after.json()["description"].startswith("writer ")
