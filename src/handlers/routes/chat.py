"""POST /v1/chat: the full pipeline, with optional Idempotency-Key (Powertools Idempotency).

A retried request with the same Idempotency-Key returns the stored first answer without a
second model call; the same key with a different body is refused (422), and a retry that
arrives while the first is still running gets 409 with Retry-After.
"""

from __future__ import annotations

import json
import threading
from functools import cache
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from core.persona.prompts import ChatContext
from core.shared.errors import Conflict, Unavailable, ValidationFailed
from core.shared.settings import settings
from handlers.common.deps import chat_service
from handlers.common.http import caller_scope
from handlers.common.observability import logger, metrics, record_persona
from handlers.common.responses import check_message_size, json_ok
from handlers.common.tracing import annotate
from handlers.schemas import SessionId, error_responses

router = APIGatewayRouter()

IDEMPOTENCY_TTL_SECONDS = 3600


class ChatRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        defer_build=True,
        # Swagger UI's "Try it out" starts from the first example (Korean and English bodies).
        json_schema_extra={
            "examples": [
                {"message": "요즘 일이 너무 많아서 지쳐요. 어떻게 하면 좋을까요?", "session_id": "demo-ko-1"},
                {
                    "message": "Can you help me plan the launch checklist for next week?",
                    "resonance_key": "collaborative-flowing-planning",
                    "locale": "en",
                    "session_id": "demo-en-1",
                },
            ]
        },
    )

    message: str = Field(min_length=1, description="The user's message (at most 8,000 characters)")
    resonance_key: str | None = Field(default=None, description="Omit to infer it from the message")
    on_invalid: Literal["error", "default"] = "error"
    session_id: SessionId | None = None
    user_id: str | None = Field(default=None, max_length=128)
    locale: str = Field(default="ko", pattern=r"^[a-z]{2}(-[A-Za-z]{2})?$")
    context: ChatContext | None = None

    @field_validator("message")
    @classmethod
    def _message_not_blank(cls, message: str) -> str:
        # Only spaces would be routed on an inferred key with nothing behind it (issue 15).
        if not message.strip():
            raise PydanticCustomError("blank", "message must contain more than whitespace")
        return message


class LlmInfo(BaseModel):
    model_config = ConfigDict(defer_build=True)

    backend: str
    model: str | None
    latency_ms: float
    input_tokens: int
    output_tokens: int


class PromptOut(BaseModel):
    model_config = ConfigDict(defer_build=True)

    system: str
    user: str


class ChatResponse(BaseModel):
    model_config = ConfigDict(defer_build=True)

    persona: str
    confidence: float
    content: str | None
    prompt: PromptOut
    routing: dict[str, Any]
    resonance: dict[str, Any]
    session_id: str
    execution_time_ms: float
    llm: LlmInfo


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=128,
        pattern=r"^[\x21-\x7e]+$",
        description="Makes a retried chat return the first answer without a second model call",
    ),
]


def _run(body: dict[str, Any]) -> dict[str, Any]:
    # Imported on the first chat: the pipeline is not needed by a cold start that only routes.
    from core.persona.chat_pipeline import ChatInput

    context = body.get("context") or {}
    return chat_service().chat(
        ChatInput(
            message=body["message"],
            resonance_key=body.get("resonance_key"),
            on_invalid=body.get("on_invalid", "error"),
            session_id=body.get("session_id"),
            user_id=body.get("user_id"),
            locale=body.get("locale", "ko"),
            context=context,
            session_owner=body.get("session_owner"),
        )
    )


class _Execution(threading.local):
    """Whether the idempotent call ran the pipeline (False: Powertools returned a stored answer).
    Per thread: the local server may run requests side by side."""

    ran = False


_EXECUTION = _Execution()


@cache
def _idempotent_runner() -> Any:
    """Built on first use: Idempotency and its DynamoDB layer cost ~90 ms of imports that the
    other routes should not pay at cold start."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    table = settings().idempotency_table
    if not table:
        raise Unavailable("idempotent requests are not configured", retry_after=30)
    config = IdempotencyConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="body",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=IDEMPOTENCY_TTL_SECONDS,
    )
    from core.shared.aws_clients import client

    # The service's bounded DynamoDB client: built by Powertools itself, the layer would wait
    # botocore's default 60 s for a hung table.
    persistence = DynamoDBPersistenceLayer(table_name=table, boto3_client=client("dynamodb"))

    # The stored answer is the serialised text, so a replay returns the very bytes of the first
    # answer (a stored dict would come back re-serialised with sorted keys).
    @idempotent_function(data_keyword_argument="request", persistence_store=persistence, config=config)
    def run(request: dict[str, Any]) -> str:
        _EXECUTION.ran = True
        return _serialise(_run(request["body"]))

    return run, config


def _serialise(result: dict[str, Any]) -> str:
    return json.dumps(result, ensure_ascii=False, separators=(",", ":"))


def _run_idempotent(key: str, body: dict[str, Any]) -> tuple[str, bool]:
    """The answer and whether it is a replay of a stored one. `key` is already scoped to the
    caller."""
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyPersistenceLayerError,
        IdempotencyValidationError,
    )

    run, config = _idempotent_runner()
    config.register_lambda_context(router.lambda_context)
    _EXECUTION.ran = False
    try:
        stored: str | dict[str, Any] = run(request={"key": key, "body": body})
    except IdempotencyValidationError:
        raise ValidationFailed(
            "this Idempotency-Key was already used with a different request body",
            [{"field": "Idempotency-Key", "message": "reused with a different body"}],
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise Conflict(
            "a request with this Idempotency-Key is still in progress; retry shortly",
            [{"field": "Idempotency-Key", "reason": "in_progress"}],
            retry_after=1,
        ) from None
    except IdempotencyPersistenceLayerError as exc:
        raise Unavailable("idempotency store unavailable; retry later", retry_after=2) from exc
    # A record written before answers were stored as text holds a dict: serialise it here.
    text = stored if isinstance(stored, str) else _serialise(stored)
    return text, not _EXECUTION.ran


@router.post(
    "/v1/chat",
    summary="Route a message, build the persona's prompt and (with a model configured) its reply",
    responses={
        200: {"description": "Chat answer", "content": {"application/json": {"model": ChatResponse}}},
        **error_responses(400, 409, 413, 415, 422, 503),
    },
    tags=["chat"],
)
def chat(body: ChatRequest, idempotency_key: IdempotencyKey = None) -> Response[Any]:
    check_message_size(body.message, "message")
    payload = body.model_dump(exclude_none=True)
    caller = caller_scope(router.current_event.raw_event)
    payload["session_owner"] = caller
    replayed = False
    if idempotency_key:
        text, replayed = _run_idempotent(f"{caller}|{idempotency_key}", payload)
        result = json.loads(text)
    else:
        result = _run(payload)
        text = _serialise(result)
    logger.append_keys(persona=result["persona"], resonance_key=result["resonance"]["normalized_key"])
    annotate(persona=result["persona"], resonance_key=result["resonance"]["normalized_key"])
    logger.info(
        "chat answered",
        extra={"backend": result["llm"]["backend"], "session_id": result["session_id"], "replayed": replayed},
    )
    record_persona(result["persona"])
    llm = result["llm"]
    if replayed:
        # The stored answer's model usage was counted when it was made, not again.
        metrics.add_metric(name="IdempotentReplays", unit="Count", value=1)
    elif llm["backend"] != "none":
        metrics.add_metric(name="ModelLatency", unit="Milliseconds", value=llm["latency_ms"])
        metrics.add_metric(name="InputTokens", unit="Count", value=llm["input_tokens"])
        metrics.add_metric(name="OutputTokens", unit="Count", value=llm["output_tokens"])
    return json_ok(text)
