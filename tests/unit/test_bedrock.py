"""BedrockBackend against botocore: Stubber for single answers, and a fake HTTP layer
(`before-send`) where botocore's own retry loop must run — Stubber answers above that loop,
so it cannot show a throttle being retried."""

from __future__ import annotations

import json
import logging
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.stub import Stubber

from core.persona.adapters import bedrock
from core.persona.adapters.bedrock import BedrockBackend
from core.shared.errors import Unavailable

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"


def _client(max_attempts: int = 3) -> Any:
    return boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": max_attempts, "mode": "standard"}),
    )


def _answer(text: str = "안녕하세요", input_tokens: int = 42, output_tokens: int = 7) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": input_tokens, "outputTokens": output_tokens, "totalTokens": 49},
        "metrics": {"latencyMs": 12},
    }


EXPECTED_PARAMS = {
    "modelId": MODEL,
    "system": [{"text": "SYSTEM"}],
    "messages": [{"role": "user", "content": [{"text": "USER"}]}],
    "inferenceConfig": {"maxTokens": 256, "temperature": 0.7},
}


def test_success_returns_content_and_tokens() -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_response("converse", _answer(), EXPECTED_PARAMS)
        completion = BedrockBackend(MODEL, max_tokens=256, client=client).complete("SYSTEM", "USER")
        stub.assert_no_pending_responses()
    assert completion.content == "안녕하세요"
    assert (completion.input_tokens, completion.output_tokens) == (42, 7)
    assert completion.model == MODEL
    assert completion.latency_ms >= 0


@pytest.mark.parametrize(
    "output",
    [
        {"message": {"role": "assistant", "content": []}},
        {"message": {"role": "assistant", "content": [{"text": "   "}]}},
        {
            "message": {
                "role": "assistant",
                "content": [{"image": {"format": "png", "source": {"bytes": b"x"}}}],
            }
        },
    ],
)
def test_malformed_output_is_a_clean_unavailable(output: dict[str, Any]) -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_response("converse", {**_answer(), "output": output})
        with pytest.raises(Unavailable) as err:
            BedrockBackend(MODEL, client=client).complete("s", "u")
    assert err.value.message == "the model returned no usable answer"
    assert err.value.retry_after > 0


def _bedrock_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == bedrock._log.name]


def test_model_error_does_not_leak_internals(caplog: pytest.LogCaptureFixture) -> None:
    client = _client()
    caplog.set_level(logging.WARNING, logger=bedrock._log.name)
    with Stubber(client) as stub:
        stub.add_client_error(
            "converse",
            service_error_code="ValidationException",
            service_message="internal detail: account 123456789012 model arn:aws:bedrock:secret",
            http_status_code=400,
        )
        with pytest.raises(Unavailable) as err:
            BedrockBackend(MODEL, client=client).complete("s", "u")
    client_facing = err.value.message + json.dumps(err.value.details)
    for internal in ("123456789012", "arn:", "ValidationException"):
        assert internal not in client_facing
    assert err.value.details == []
    assert err.value.retry_after == 30  # not a transient error: the request was fine, retry much later
    # The code is kept for the operators, in the logs, without the service's message.
    [record] = _bedrock_records(caplog)
    assert record.bedrock_error_code == "ValidationException"  # type: ignore[attr-defined]
    assert record.model_id == MODEL  # type: ignore[attr-defined]
    assert "123456789012" not in record.getMessage()


def test_the_default_client_has_the_budgeted_timeouts_and_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    config = bedrock.make_bedrock_client().meta.config
    assert config.connect_timeout == bedrock.CONNECT_TIMEOUT_SECONDS
    assert config.read_timeout == bedrock.READ_TIMEOUT_SECONDS
    assert config.retries == {"total_max_attempts": bedrock.MAX_ATTEMPTS, "mode": "standard"}


class FakeBedrockHttp:
    """Answers at the HTTP layer so botocore's retry handler sees real throttles."""

    def __init__(self, client: Any, throttles: int) -> None:
        self.throttles = throttles
        self.calls = 0
        client.meta.events.register("before-send.bedrock-runtime.Converse", self)

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        self.calls += 1
        if self.calls <= self.throttles:
            return AWSResponse(
                request.url,
                429,
                {"x-amzn-errortype": "ThrottlingException", "content-type": "application/json"},
                _Raw(b'{"message":"Too many requests"}'),
            )
        return AWSResponse(
            request.url, 200, {"content-type": "application/json"}, _Raw(json.dumps(_answer()).encode())
        )


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body

    def read(self, *_: Any, **__: Any) -> bytes:
        return self.body


@pytest.fixture(autouse=True)
def no_backoff_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    # botocore's standard retry sleeps with jittered exponential back-off; the retry count is
    # what is under test, not the wait.
    import botocore.retries.standard as standard

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)


def test_throttling_then_success_is_retried_by_botocore() -> None:
    client = _client(max_attempts=3)
    http = FakeBedrockHttp(client, throttles=2)
    completion = BedrockBackend(MODEL, client=client).complete("s", "u")
    assert http.calls == 3
    assert completion.content == "안녕하세요"


def test_throttling_exhausted_is_unavailable_with_retry_after(caplog: pytest.LogCaptureFixture) -> None:
    client = _client(max_attempts=bedrock.MAX_ATTEMPTS)
    http = FakeBedrockHttp(client, throttles=10)
    caplog.set_level(logging.WARNING, logger=bedrock._log.name)
    with pytest.raises(Unavailable) as err:
        BedrockBackend(MODEL, client=client).complete("s", "u")
    assert http.calls == bedrock.MAX_ATTEMPTS, "botocore makes exactly max_attempts attempts"
    assert err.value.retry_after == 2
    assert err.value.details == []
    assert "Throttling" not in err.value.message
    [record] = _bedrock_records(caplog)
    assert record.bedrock_error_code == "ThrottlingException"  # type: ignore[attr-defined]
    assert record.retry_attempts == bedrock.MAX_ATTEMPTS - 1  # type: ignore[attr-defined]


def test_timeout_is_unavailable() -> None:
    from botocore.exceptions import ReadTimeoutError

    client = _client(max_attempts=2)
    calls = []

    def timeout(request: Any, **_: Any) -> None:
        calls.append(1)
        raise ReadTimeoutError(endpoint_url=request.url)

    client.meta.events.register("before-send.bedrock-runtime.Converse", timeout)
    with pytest.raises(Unavailable) as err:
        BedrockBackend(MODEL, client=client).complete("s", "u")
    assert len(calls) == 2
    assert "in time" in err.value.message
    assert err.value.retry_after == 2
    assert err.value.details == []
