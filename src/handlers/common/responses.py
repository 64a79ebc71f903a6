"""Response helpers every router uses: a JSON answer, the message-size check, the docs page."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response

from core.shared.errors import PayloadTooLarge
from handlers.common.http import CSP_DOCS, JSON_CONTENT_TYPE
from handlers.schemas import MAX_MESSAGE_CHARS


def json_ok(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response[Any]:
    """A JSON response; a str body is taken as already serialised."""
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(status_code=status, content_type=JSON_CONTENT_TYPE, body=text, headers=headers)


def check_message_size(text: str, field: str) -> None:
    if len(text) > MAX_MESSAGE_CHARS:
        raise PayloadTooLarge(
            f"{field} is longer than {MAX_MESSAGE_CHARS} characters",
            [{"field": field, "limit_chars": MAX_MESSAGE_CHARS, "length": len(text)}],
        )


def docs_response(html: str) -> Response[Any]:
    return Response(
        status_code=200,
        content_type="text/html; charset=utf-8",
        body=html,
        headers={"Content-Security-Policy": CSP_DOCS},
    )
