"""Every file in events/ through the handler its function names in template.yaml (moto behind
it): the status each event documents, the error envelope, and the headers on every answer."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest

from handlers.common.http import SECURITY_HEADERS
from scripts.local_env import function_handler
from scripts.make_events import EVENTS
from scripts.make_events import main as make_events
from tests.lambda_events import LambdaContext, load_event

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"


def test_the_event_files_are_generated_and_current() -> None:
    assert make_events(["--check"]) == 0
    on_disk = {p.stem for p in EVENTS_DIR.glob("*.json")} - {"env", "persona_mia"}
    assert on_disk == set(EVENTS)


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_event(service: Any, name: str) -> None:
    function, *_, expected = EVENTS[name]
    module_name, attribute = function_handler(function).rsplit(".", 1)
    handler = getattr(importlib.import_module(module_name), attribute)
    response = handler(load_event(f"{name}.json"), LambdaContext())
    assert response["statusCode"] == expected, response.get("body")
    headers = response["multiValueHeaders"]
    for header in (*SECURITY_HEADERS, "X-Request-Id", "X-Function-Version"):
        assert header in headers, (name, header)
    assert headers["X-Request-Id"] == [f"event-{name}"]  # API Gateway's request id is the correlation id
    if expected == 204:
        assert not response.get("body")
        return
    if headers["Content-Type"][0].startswith("application/json"):
        body = json.loads(response["body"])
        if expected >= 400 and name.startswith("legacy_v2_"):
            # The old v2 dialect (docs/legacy_api.md), with every header of the service.
            assert body["success"] is False and body["error"]["code"]
            assert body["request_id"] == f"event-{name}"
            assert "Deprecation" in headers and "Link" in headers
        elif expected >= 400:
            assert set(body) == {"error", "request_id"} and body["error"]["code"]
