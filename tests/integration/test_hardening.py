"""Issue 12's defects through the real handlers (moto, and a stalled socket where botocore's own
timeouts must act): media-type case, RoutingFailures only for real routing failures, hung or
unreachable DynamoDB as 503 UNAVAILABLE with Retry-After, idempotent replay bytes."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

from tests.fault_proxy import FaultProxy
from tests.lambda_events import LambdaContext, rest_event


def _call(method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    from handlers.api import lambda_handler

    text = body if isinstance(body, str) or body is None else json.dumps(body)
    return lambda_handler(rest_event(method, path, body=text, headers=headers), LambdaContext())


def _admin(method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    from handlers.admin import lambda_handler

    text = body if isinstance(body, str) or body is None else json.dumps(body)
    return lambda_handler(rest_event(method, path, body=text, headers=headers), LambdaContext())


def _metric_names(out: str) -> set[str]:
    names: set[str] = set()
    for line in out.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            for directive in json.loads(line)["_aws"]["CloudWatchMetrics"]:
                names.update(m["Name"] for m in directive["Metrics"])
    return names


def _code(response: dict[str, Any]) -> str:
    return str(json.loads(response["body"])["error"]["code"])


ROUTE = {"resonance_key": "frustrated-burst-seek_advice"}
CHAT = {"message": "hello", "resonance_key": "calm-medium-learning"}


@pytest.mark.parametrize(
    "content_type", ["APPLICATION/JSON", "Application/Json", "application/JSON; charset=UTF-8"]
)
@pytest.mark.parametrize(("path", "body"), [("/v1/route", ROUTE), ("/v1/chat", CHAT)])
def test_media_type_in_any_case_is_served(
    service: Any, capsys: pytest.CaptureFixture[str], content_type: str, path: str, body: Any
) -> None:
    response = _call("POST", path, body, {"Content-Type": content_type})
    assert response["statusCode"] == 200, response["body"]
    assert "RoutingFailures" not in _metric_names(capsys.readouterr().out)


def test_an_unexpected_exception_is_500_but_never_a_routing_failure(
    service: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.persona.routing import Router

    def broken(*_: Any, **__: Any) -> Any:
        raise TypeError("a bug no check foresaw")

    monkeypatch.setattr(Router, "route", broken)
    response = _call(
        "POST", "/v1/route", {"resonance_key": "calm-medium-planning"}, {"Content-Type": "application/json"}
    )
    assert response["statusCode"] == 500 and _code(response) == "INTERNAL"
    names = _metric_names(capsys.readouterr().out)
    assert "UnhandledErrors" in names and "ServerErrors" in names
    assert "RoutingFailures" not in names


class Unreachable:
    """A DynamoDB client whose every call fails as botocore does after its retries."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __getattr__(self, name: str) -> Any:
        def call(**_: Any) -> Any:
            raise self.error

        return call


ERRORS = [
    ReadTimeoutError(endpoint_url="http://dynamodb"),
    EndpointConnectionError(endpoint_url="http://dynamodb"),
]


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_route_with_a_session_when_sessions_cannot_be_read_is_503(
    service: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], error: Exception
) -> None:
    from core.persona.adapters.dynamodb_sessions import DynamoDBSessionStore
    from handlers.common import deps

    monkeypatch.setattr(
        deps, "session_store", lambda: DynamoDBSessionStore("sessions", client=Unreachable(error))
    )
    response = _call(
        "POST", "/v1/route", {**ROUTE, "session_id": "s-1"}, {"Content-Type": "application/json"}
    )
    assert response["statusCode"] == 503, response["body"]
    assert _code(response) == "UNAVAILABLE"
    assert int(response["multiValueHeaders"]["Retry-After"][0]) >= 1


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_chat_with_a_session_when_sessions_cannot_be_read_is_503(
    service: Any, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    from core.persona.adapters.dynamodb_sessions import DynamoDBSessionStore
    from handlers.common import deps

    deps.chat_service()  # built with the real store, then its store is swapped
    monkeypatch.setattr(
        deps.chat_service(), "_sessions", DynamoDBSessionStore("sessions", client=Unreachable(error))
    )
    response = _call("POST", "/v1/chat", {**CHAT, "session_id": "s-1"}, {"Content-Type": "application/json"})
    assert response["statusCode"] == 503 and _code(response) == "UNAVAILABLE", response["body"]
    assert "Retry-After" in response["multiValueHeaders"]


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_admin_writes_when_the_catalog_cannot_be_reached_are_503(
    service: Any, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    from handlers.common import deps

    current = json.loads(_call("GET", "/v1/personas/Riri")["body"])
    store = deps.catalog_store()
    monkeypatch.setattr(store, "_client", Unreachable(error))
    headers = {"Content-Type": "application/json", "If-Match": f'"{current["version"]}"'}
    put = _admin("PUT", "/v1/admin/personas/Riri", {**current, "description": "x"}, headers)
    assert put["statusCode"] == 503 and _code(put) == "UNAVAILABLE", put["body"]
    assert "Retry-After" in put["multiValueHeaders"]
    delete = _admin("DELETE", "/v1/admin/personas/Riri", None, {"If-Match": f'"{current["version"]}"'})
    assert delete["statusCode"] == 503 and _code(delete) == "UNAVAILABLE", delete["body"]


def test_a_botocore_error_past_the_adapters_is_still_503(
    service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handlers.common import deps

    def hung() -> Any:
        raise ReadTimeoutError(endpoint_url="http://dynamodb")

    monkeypatch.setattr(deps, "current_catalog", hung)
    import handlers.routes.public as public

    monkeypatch.setattr(public, "current_catalog", hung)
    response = _call("GET", "/v1/personas")
    assert response["statusCode"] == 503 and _code(response) == "UNAVAILABLE"
    assert "Retry-After" in response["multiValueHeaders"]


def test_an_idempotent_replay_returns_the_first_answers_bytes(service: Any) -> None:
    headers = {"Content-Type": "application/json", "Idempotency-Key": "replay-bytes-1"}
    first = _call("POST", "/v1/chat", CHAT, headers)
    again = _call("POST", "/v1/chat", CHAT, headers)
    assert first["statusCode"] == again["statusCode"] == 200
    assert again["body"] == first["body"]


def test_chat_with_an_idempotency_key_on_a_stalled_table_is_a_bounded_503(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No moto here: botocore talks to a socket that accepts and never answers (defect 4: the
    idempotency layer's own client waited 60 s per attempt)."""
    from handlers.common import deps
    from handlers.routes import chat

    with FaultProxy(mode="stall") as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", proxy.endpoint)
        monkeypatch.setenv("IDEMPOTENCY_TABLE", "idempotency")
        monkeypatch.setenv("CATALOG_TABLE", "catalog")
        monkeypatch.setenv("LLM_BACKEND", "none")
        deps.reset()
        chat._idempotent_runner.cache_clear()
        try:
            started = time.monotonic()
            response = _call(
                "POST", "/v1/chat", CHAT, {"Content-Type": "application/json", "Idempotency-Key": "stalled-1"}
            )
            elapsed = time.monotonic() - started
        finally:
            deps.reset()
            chat._idempotent_runner.cache_clear()
    assert response["statusCode"] == 503 and _code(response) == "UNAVAILABLE", response["body"]
    assert "Retry-After" in response["multiValueHeaders"]
    assert elapsed < 8, elapsed  # 2 attempts x 1.5 s read timeout + back-off; was 60 s per attempt


@pytest.mark.parametrize("path", ["/v1/route", "/api/persona/process"])
def test_a_body_route_without_a_body_and_with_a_foreign_media_type_is_415(
    service: Any, capsys: pytest.CaptureFixture[str], path: str
) -> None:
    # Found by tests/e2e/test_headers_fuzz.py: the resolver's own media-type error was a 500.
    response = _call("POST", path, None, {"Content-Type": "text/plain"})
    assert response["statusCode"] == 415, response["body"]
    assert "UnhandledErrors" not in _metric_names(capsys.readouterr().out)
