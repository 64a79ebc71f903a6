"""Model backend on Amazon Bedrock Runtime's Converse API.

Retries and timeouts are botocore's (standard retry mode, bounded connect/read timeouts). What
is left after them becomes core.shared.errors.Unavailable with a generic message: the client learns
that the model is unavailable and when to retry, never the model's internals. The Bedrock
error code goes to the logs only.

Time budget: ApiFunction answers through API Gateway, whose integration timeout is 29 s, and
its own Lambda timeout (template.yaml) is shorter still. The worst case of one model call is
MAX_ATTEMPTS x (CONNECT + READ) plus botocore's back-off between attempts (up to 1 s for a
throttle, plus up to 5 s more when the service asks for it with x-amz-retry-after): 2 x 10 + 6
= 26 s. That leaves the function time to answer 503 UNAVAILABLE with Retry-After itself before
Lambda or API Gateway cut it off (tests/template checks this against the template). A reply
must be generated within READ_TIMEOUT_SECONDS: keep LlmMaxTokens within what the model writes
in that time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from core.persona.persona_ports import Completion
from core.shared.errors import ModelUnavailable
from core.shared.settings import settings

if TYPE_CHECKING:
    from core.persona.prompts import Turn

CONNECT_TIMEOUT_SECONDS = 1
READ_TIMEOUT_SECONDS = 9
MAX_ATTEMPTS = 2  # the first call and one retry

# Errors worth a later retry by the client; anything else is still reported as unavailable
# (with a longer Retry-After) because the request itself was fine.
_TRANSIENT = {
    "ThrottlingException",
    "ServiceUnavailableException",
    "ModelTimeoutException",
    "ModelNotReadyException",
    "InternalServerException",
    "ServiceQuotaExceededException",
}

# A child of the service's Powertools logger (named after the service), so these records are
# written as JSON with the request's correlation id by the handler's logger.
_log = logging.getLogger(f"{settings().powertools_service_name}.bedrock")


def make_bedrock_client(
    max_attempts: int = MAX_ATTEMPTS,
    read_timeout: float = READ_TIMEOUT_SECONDS,
    connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "bedrock-runtime",
        config=Config(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"total_max_attempts": max_attempts, "mode": "standard"},
        ),
    )


class BedrockBackend:
    name = "bedrock"

    def __init__(
        self,
        model_id: str,
        max_tokens: int = 1024,
        client: Any | None = None,
        temperature: float = 0.7,
    ) -> None:
        self.model = model_id
        self.max_tokens = max_tokens
        self.temperature = temperature
        self._client = client if client is not None else make_bedrock_client()

    def complete(self, system: str, user: str) -> Completion:
        return self.converse(system, (), user)

    def converse(self, system: str, history: Sequence[Turn], user: str) -> Completion:
        """One model call with the session's earlier turns as real Converse messages (roles set
        here, never parsed out of text), so nothing a user wrote can pose as a reply."""
        from botocore.exceptions import BotoCoreError, ClientError

        started = time.perf_counter()
        try:
            resp = self._client.converse(
                modelId=self.model,
                system=[{"text": system}],
                messages=conversation(history, user),
                inferenceConfig={"maxTokens": self.max_tokens, "temperature": self.temperature},
            )
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            metadata = exc.response.get("ResponseMetadata", {})
            _log.warning(
                "bedrock converse failed",
                extra={
                    "bedrock_error_code": code,
                    "http_status": metadata.get("HTTPStatusCode"),
                    "retry_attempts": metadata.get("RetryAttempts"),
                    "model_id": self.model,
                },
            )
            retry_after = 2 if code in _TRANSIENT else 30
            raise ModelUnavailable("the model is unavailable; retry later", retry_after=retry_after) from exc
        except BotoCoreError as exc:  # timeouts, connection errors after botocore's retries
            _log.warning(
                "bedrock converse did not answer",
                extra={"bedrock_error": type(exc).__name__, "model_id": self.model},
            )
            raise ModelUnavailable("the model did not answer in time; retry later", retry_after=2) from exc
        latency_ms = (time.perf_counter() - started) * 1000
        return Completion(
            content=_text_of(resp),
            model=self.model,
            input_tokens=_usage(resp, "inputTokens"),
            output_tokens=_usage(resp, "outputTokens"),
            latency_ms=round(latency_ms, 1),
        )


def conversation(history: Sequence[Turn], user: str) -> list[dict[str, Any]]:
    """Converse messages: alternating user/assistant, starting and ending with the user. A past
    message that got no reply (stored while no model was configured) joins the next user
    message as its own content block, since Converse refuses two user messages in a row."""
    from core.persona.prompts import recent_turns

    messages: list[dict[str, Any]] = []
    pending: list[dict[str, str]] = []
    for turn in recent_turns(list(history)):
        pending.append({"text": turn.user})
        if turn.assistant is not None:
            messages.append({"role": "user", "content": pending})
            messages.append({"role": "assistant", "content": [{"text": turn.assistant}]})
            pending = []
    messages.append({"role": "user", "content": [*pending, {"text": user}]})
    return messages


def _text_of(resp: Any) -> str:
    try:
        blocks = resp["output"]["message"]["content"]
        text = "".join(b["text"] for b in blocks if isinstance(b, dict) and isinstance(b.get("text"), str))
    except (KeyError, TypeError) as exc:
        raise ModelUnavailable("the model returned no usable answer", retry_after=2) from exc
    if not text.strip():
        raise ModelUnavailable("the model returned no usable answer", retry_after=2)
    return text


def _usage(resp: Any, field: str) -> int:
    value = resp.get("usage", {}).get(field, 0) if isinstance(resp, dict) else 0
    return value if isinstance(value, int) and value >= 0 else 0
