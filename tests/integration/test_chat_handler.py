"""POST /v1/chat through the real Lambda handler against moto: idempotent retries, model
failures, and the logs and metrics a request leaves behind."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from core.persona.persona_ports import Completion
from core.shared.errors import Unavailable
from handlers.common import deps
from tests.integration.conftest import create_catalog_table
from tests.integration.test_sessions import create_sessions_table
from tests.lambda_events import LambdaContext, rest_event


class CountingBackend:
    name = "bedrock"
    model = "test-model"

    def __init__(self) -> None:
        self.calls = 0
        self.fail: Exception | None = None

    def complete(self, system: str, user: str) -> Completion:
        self.calls += 1
        if self.fail is not None:
            raise self.fail
        return Completion(
            content=f"reply {self.calls}", model=self.model, input_tokens=11, output_tokens=5, latency_ms=3.0
        )


def create_idempotency_table(client: Any, name: str = "idempotency") -> str:
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


@pytest.fixture
def backend(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingBackend]:
    from core.persona.adapters.dynamodb_catalog import DynamoDBCatalogStore
    from core.persona.default_catalog import default_catalog

    monkeypatch.setenv("CATALOG_TABLE", create_catalog_table(dynamodb))
    monkeypatch.setenv("SESSIONS_TABLE", create_sessions_table(dynamodb))
    monkeypatch.setenv("IDEMPOTENCY_TABLE", create_idempotency_table(dynamodb))
    DynamoDBCatalogStore("catalog", client=dynamodb).seed(default_catalog())
    counting = CountingBackend()
    deps.reset()
    from handlers.routes import chat as chat_routes

    chat_routes._idempotent_runner.cache_clear()
    monkeypatch.setattr(deps, "model_backend", lambda: counting)
    yield counting
    deps.reset()
    chat_routes._idempotent_runner.cache_clear()


def _chat(
    body: dict[str, Any], idempotency_key: str | None = None, api_key_id: str | None = None
) -> dict[str, Any]:
    from handlers.api import lambda_handler

    headers = {"Content-Type": "application/json"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    event = rest_event("POST", "/v1/chat", body=json.dumps(body), headers=headers)
    if api_key_id:
        event["requestContext"]["identity"]["apiKeyId"] = api_key_id
    return lambda_handler(event, LambdaContext())


def _body(response: dict[str, Any]) -> dict[str, Any]:
    return json.loads(response["body"])


def test_chat_answers_with_model_content(backend: CountingBackend) -> None:
    response = _chat({"message": "짜증나!! 빨리 해결해줘", "resonance_key": "frustrated-burst-seek_advice"})
    assert response["statusCode"] == 200
    body = _body(response)
    assert body["persona"] == "Lua"
    assert body["content"] == "reply 1"
    assert body["llm"] == {
        "backend": "bedrock",
        "model": "test-model",
        "latency_ms": 3.0,
        "input_tokens": 11,
        "output_tokens": 5,
    }
    assert set(body) >= {"persona", "confidence", "content", "prompt", "routing", "resonance", "session_id"}


def test_same_idempotency_key_twice_calls_the_model_once(backend: CountingBackend) -> None:
    payload = {"message": "plan the launch with the team", "session_id": "idem-1"}
    first = _chat(payload, "key-123")
    second = _chat(payload, "key-123")
    assert first["statusCode"] == second["statusCode"] == 200
    assert backend.calls == 1
    assert _body(first) == _body(second)


def test_same_key_different_body_is_refused_and_changes_nothing(backend: CountingBackend) -> None:
    _chat({"message": "first body"}, "key-456")
    response = _chat({"message": "another body"}, "key-456")
    assert response["statusCode"] == 422
    error = _body(response)["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert "Idempotency-Key" in error["message"]
    assert backend.calls == 1


def test_different_keys_are_independent(backend: CountingBackend) -> None:
    _chat({"message": "hello"}, "key-a")
    _chat({"message": "hello"}, "key-b")
    assert backend.calls == 2


def test_failed_model_call_is_not_remembered(backend: CountingBackend) -> None:
    backend.fail = Unavailable("the model is unavailable; retry later", retry_after=2)
    failed = _chat({"message": "hello"}, "key-retry")
    assert failed["statusCode"] == 503
    assert failed["multiValueHeaders"]["Retry-After"] == ["2"]
    backend.fail = None
    retried = _chat({"message": "hello"}, "key-retry")
    assert retried["statusCode"] == 200
    assert backend.calls == 2


def test_message_over_8000_characters_is_413(backend: CountingBackend) -> None:
    response = _chat({"message": "가" * 8001})
    assert response["statusCode"] == 413
    assert _body(response)["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert backend.calls == 0


def test_logs_carry_correlation_id_and_never_the_message(
    backend: CountingBackend, log_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    secret = "my secret diary entry 12345"
    from handlers.api import lambda_handler

    event = rest_event(
        "POST",
        "/v1/chat",
        body=json.dumps({"message": secret, "resonance_key": "calm-medium-learning"}),
        headers={"Content-Type": "application/json"},
        request_id="corr-abc-1",
    )
    response = lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 200
    lines = log_lines()
    assert lines, "the request logs at least one structured line"
    assert all(line.get("correlation_id") == "corr-abc-1" for line in lines)
    answered = [line for line in lines if line.get("message") == "chat answered"]
    assert answered and answered[0]["persona"] == "Elro"
    assert answered[0]["resonance_key"] == "calm-medium-learning"
    assert secret not in json.dumps(lines)


def test_chat_emits_model_metrics(backend: CountingBackend, capsys: pytest.CaptureFixture[str]) -> None:
    _chat({"message": "hello", "resonance_key": "calm-medium-learning"})
    out = capsys.readouterr().out
    emf = [json.loads(line) for line in out.splitlines() if '"_aws"' in line]
    names = {m["Name"] for doc in emf for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert {"ModelLatency", "InputTokens", "OutputTokens", "Requests", "Latency", "PersonaSelected"} <= names


def test_one_callers_idempotency_key_never_replays_for_another_caller(backend: CountingBackend) -> None:
    payload = {"message": "same words", "resonance_key": "calm-medium-learning"}
    mine = _chat(payload, "shared-key", api_key_id="key-of-team-a")
    theirs = _chat(payload, "shared-key", api_key_id="key-of-team-b")
    assert mine["statusCode"] == theirs["statusCode"] == 200
    assert backend.calls == 2
    assert _body(mine)["session_id"] != _body(theirs)["session_id"]
    again = _chat(payload, "shared-key", api_key_id="key-of-team-a")
    assert backend.calls == 2 and _body(again) == _body(mine)


def test_a_replay_counts_itself_not_the_model_usage_again(
    backend: CountingBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    payload = {"message": "hello", "resonance_key": "calm-medium-learning"}
    _chat(payload, "key-replay")
    capsys.readouterr()
    _chat(payload, "key-replay")
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    names = {m["Name"] for doc in emf for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert "IdempotentReplays" in names
    assert not {"ModelLatency", "InputTokens", "OutputTokens"} & names


def test_a_retry_while_the_first_is_in_progress_is_409_with_retry_after(backend: CountingBackend) -> None:
    payload = {"message": "slow one", "resonance_key": "calm-medium-learning"}
    seen: dict[str, Any] = {}

    class Reentrant(CountingBackend):
        def complete(self, system: str, user: str) -> Completion:
            # The client retries while the first call is still waiting for the model.
            seen["retry"] = _chat(payload, "key-in-flight")
            return super().complete(system, user)

    reentrant = Reentrant()
    deps.model_backend = lambda: reentrant  # type: ignore[assignment]
    deps.chat_service.cache_clear()
    first = _chat(payload, "key-in-flight")
    assert first["statusCode"] == 200
    retry = seen["retry"]
    assert retry["statusCode"] == 409
    assert _body(retry)["error"]["code"] == "CONFLICT"
    assert retry["multiValueHeaders"]["Retry-After"] == ["1"]
    assert reentrant.calls == 1


def test_a_session_id_reused_by_another_caller_sees_none_of_the_first_callers_history(
    backend: CountingBackend,
) -> None:
    first = {"message": "my private note", "resonance_key": "calm-medium-learning", "session_id": "s-1"}
    _chat(first, api_key_id="key-of-team-a")
    follow_up = {"message": "and then?", "resonance_key": "calm-medium-learning", "session_id": "s-1"}
    same_caller = _body(_chat(follow_up, api_key_id="key-of-team-a"))
    other_caller = _body(_chat(follow_up, api_key_id="key-of-team-b"))
    assert "my private note" in same_caller["prompt"]["user"]
    assert "my private note" not in other_caller["prompt"]["user"]
    assert other_caller["session_id"] == same_caller["session_id"] == "s-1"


def _metric_names(out: str) -> set[str]:
    docs = [json.loads(line) for line in out.splitlines() if '"_aws"' in line]
    return {m["Name"] for doc in docs for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}


def test_a_model_outage_is_a_model_failure_not_a_routing_failure(
    backend: CountingBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    from core.shared.errors import ModelUnavailable

    backend.fail = ModelUnavailable("the model is unavailable; retry later", retry_after=2)
    capsys.readouterr()
    assert _chat({"message": "hello", "resonance_key": "calm-medium-learning"})["statusCode"] == 503
    names = _metric_names(capsys.readouterr().out)
    assert {"ServerErrors", "ModelFailures"} <= names
    assert "RoutingFailures" not in names


def test_an_unexpected_exception_is_an_unhandled_error_not_a_routing_failure(
    backend: CountingBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    # Issue 12: an exception nobody expected may be of a client's making, so it must never feed
    # the RoutingFailures alarm that rolls deploys back (the 5XX-rate alarm still sees it).
    backend.fail = RuntimeError("a bug in the pipeline")
    capsys.readouterr()
    response = _chat({"message": "hello", "resonance_key": "calm-medium-learning"})
    assert response["statusCode"] == 500
    assert _body(response)["error"]["code"] == "INTERNAL"
    names = _metric_names(capsys.readouterr().out)
    assert {"ServerErrors", "UnhandledErrors"} <= names
    assert "ModelFailures" not in names and "RoutingFailures" not in names


def test_a_model_failure_is_logged_with_the_persona_and_key(
    backend: CountingBackend, log_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    backend.fail = Unavailable("the model is unavailable; retry later", retry_after=2)
    response = _chat({"message": "hello", "resonance_key": "frustrated-burst-seek_advice"})
    assert response["statusCode"] == 503
    failed = [line for line in log_lines() if line.get("message") == "request failed"]
    assert failed, "the 503 is logged"
    assert failed[0]["persona"] == "Lua"
    assert failed[0]["resonance_key"] == "frustrated-burst-seek_advice"
