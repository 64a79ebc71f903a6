"""Dependencies created once per execution environment, on first use.

Created lazily so a request that needs none of them (health, validate, detect) pays nothing,
and module-level so warm invocations reuse clients and caches. In one process (the local
server) the public and admin handlers share the same catalog cache, so a write is visible to
routing at once, as it is in the Lambda environment that made it.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from core.shared import settings as settings_module
from core.shared.errors import Unavailable
from core.shared.settings import settings
from handlers.common.observability import logger, metrics

if TYPE_CHECKING:
    from core.persona.adapters.dynamodb_catalog import DynamoDBCatalogStore
    from core.persona.adapters.dynamodb_sessions import DynamoDBSessionStore
    from core.persona.catalog_cache import CatalogCache, CatalogSnapshot
    from core.persona.chat_pipeline import ChatService
    from core.persona.persona_ports import ModelBackend


def _required_env(name: str) -> str:
    value = getattr(settings(), name.lower())
    if not value:
        # A deployment mistake, not a client error: say so without leaking configuration.
        logger.error("missing environment variable", extra={"variable": name})
        raise Unavailable("the service is not configured", retry_after=30)
    return value


def _on_stale(exc: Exception) -> None:
    logger.warning("catalog refresh failed; serving the last good catalog", extra={"error": repr(exc)})


def _client_failed(exc: Exception) -> Unavailable:
    # botocore refuses to build a client without a region or with a bad endpoint: a deployment
    # problem that a retry elsewhere may not have, reported as 503 rather than a bare 500.
    logger.error("AWS client could not be created", extra={"error": type(exc).__name__})
    return Unavailable("the service is not configured", retry_after=30)


@cache
def catalog_store() -> DynamoDBCatalogStore:
    from core.persona.adapters.dynamodb_catalog import DynamoDBCatalogStore

    table = _required_env("CATALOG_TABLE")
    try:
        return DynamoDBCatalogStore(table)
    except Exception as exc:
        raise _client_failed(exc) from exc


@cache
def catalog_cache() -> CatalogCache:
    from core.persona.catalog_cache import CatalogCache

    ttl = settings().catalog_cache_ttl_seconds
    return CatalogCache(catalog_store(), ttl_seconds=ttl, on_stale=_on_stale)


def current_catalog() -> CatalogSnapshot:
    """The cached catalog snapshot; counts every stale serve as a metric."""
    snapshot = catalog_cache().get()
    if snapshot.stale:
        metrics.add_metric(name="StaleCatalogServed", unit="Count", value=1)
    return snapshot


@cache
def session_store() -> DynamoDBSessionStore:
    from core.persona.adapters.dynamodb_sessions import DynamoDBSessionStore

    table = _required_env("SESSIONS_TABLE")
    try:
        return DynamoDBSessionStore(table, ttl_days=settings().session_ttl_days)
    except Exception as exc:
        raise _client_failed(exc) from exc


@cache
def model_backend() -> ModelBackend:
    from core.persona.model_backends import make_backend

    kind = settings().llm_backend
    try:
        return make_backend(
            kind,
            model_id=settings().bedrock_model_id,
            max_tokens=settings().llm_max_tokens,
        )
    except ValueError as exc:
        logger.error("model backend misconfigured", extra={"backend": kind, "error": str(exc)})
        raise Unavailable("the model backend is not configured", retry_after=30) from exc


@cache
def chat_service() -> ChatService:
    from core.persona.chat_pipeline import ChatService

    sessions = session_store() if settings().sessions_table else None
    return ChatService(current_catalog, model_backend(), sessions, on_routed=_routed)


def _routed(persona: str, resonance_key: str) -> None:
    logger.append_keys(persona=persona, resonance_key=resonance_key)


def reset() -> None:
    """Forget every cached dependency and read the settings again (tests, and the local server
    after a restart of DynamoDB)."""
    settings_module.reload()
    for dependency in (catalog_store, catalog_cache, session_store, model_backend, chat_service):
        clear = getattr(dependency, "cache_clear", None)  # tests may have swapped one for a fake
        if clear is not None:
            clear()
