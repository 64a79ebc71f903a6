"""The core calls behind the old v1/v2 API, shared by its two routers: an old process body runs
the same chat pipeline as POST /v1/chat (same key parser, same session store, scoped to the
caller), and counts in the same request metrics."""

from __future__ import annotations

from typing import Any

from handlers.common.deps import chat_service
from handlers.common.http import caller_scope
from handlers.common.legacy_dialect import (
    RouteCacheStats,
    V1ProcessRequest,
    V2ProcessRequest,
    chat_arguments,
)
from handlers.common.observability import logger
from handlers.common.responses import check_message_size

# Old process calls in this execution environment (GET /api/v2/cache-stats).
ROUTE_CACHE = RouteCacheStats()


def process(body: V1ProcessRequest | V2ProcessRequest, event: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The /v1/chat result for an old process body, and whether its key was already ranked."""
    check_message_size(body.user_input, "user_input")
    from core.persona.chat_pipeline import ChatInput  # on first use: off the routing cold start

    result = chat_service().chat(ChatInput(**chat_arguments(body, caller_scope(event))))
    normalized = result["resonance"]["normalized_key"]
    logger.append_keys(persona=result["persona"], resonance_key=normalized)
    hit = ROUTE_CACHE.record(normalized, result["routing"]["catalog_version"])
    return result, hit
