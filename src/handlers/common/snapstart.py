"""Lambda SnapStart runtime hooks: what runs before the snapshot and after each restore.

With SnapStart (template.yaml, `SnapStartEnabled`), Lambda initialises a published version once,
snapshots the memory of that execution environment, and starts later environments from the
snapshot. One snapshot then serves many environments, possibly days after it was taken, so:

- **before the snapshot** we do the work every cold start would repeat: import what the first
  requests import lazily, load the catalog, rank every key, build the deferred pydantic
  validators, and resolve a few synthetic requests (no client request id, no session, no
  model call) so the resolver's own first-request work is in the snapshot too;
- **after each restore** we mark the cached catalog stale (the next request checks its version
  with one GetItem), give every AWS client a fresh connection pool, re-seed `random`, and clear
  anything a request left behind (request id, correlation id, log keys, metrics, the
  resolver's current event). Sessions and idempotency records are never cached in memory; the
  session store, model backend and idempotency layer are rebuilt lazily, with new clients.
  `uuid.uuid4()` reads os.urandom on every call, so session ids stay unique across restores.

The hooks are registered with the Lambda runtime's `snapshot_restore_py` module, which exists
only inside the managed Python runtimes. Elsewhere (tests, the local server, the bench) this
module keeps its own registry, and `run_before_snapshot()` / `run_after_restore()` run the hooks
in the order Lambda would: before-snapshot hooks in reverse order of registration,
after-restore hooks in order of registration.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from types import ModuleType
from typing import Any

from handlers.common.observability import logger, metrics

Hook = Callable[[], None]

try:  # present in Lambda's managed Python runtimes (3.12 and later), not on PyPI installs here
    from snapshot_restore_py import (  # type: ignore[import-not-found, unused-ignore]
        register_after_restore as _runtime_after_restore,
    )
    from snapshot_restore_py import (  # type: ignore[import-not-found, unused-ignore]
        register_before_snapshot as _runtime_before_snapshot,
    )
except ImportError:
    _runtime_before_snapshot = None
    _runtime_after_restore = None

_BEFORE: list[Hook] = []
_AFTER: list[Hook] = []


def in_lambda_runtime() -> bool:
    """True when the Lambda runtime's hook registry is importable (the hooks run for real)."""
    return _runtime_before_snapshot is not None


def register_before_snapshot(hook: Hook) -> Hook:
    """Run `hook` before Lambda takes the snapshot. Registering the same callable twice is a
    no-op: the local server imports both entry modules into one process."""
    if hook not in _BEFORE:
        _BEFORE.append(hook)
        if _runtime_before_snapshot is not None:
            _runtime_before_snapshot(hook)
    return hook


def register_after_restore(hook: Hook) -> Hook:
    """Run `hook` every time Lambda resumes an environment from the snapshot."""
    if hook not in _AFTER:
        _AFTER.append(hook)
        if _runtime_after_restore is not None:
            _runtime_after_restore(hook)
    return hook


def run_before_snapshot() -> None:
    """What Lambda does before the snapshot (reverse order of registration); for tests and bench."""
    for hook in reversed(_BEFORE):
        hook()


def run_after_restore() -> None:
    """What Lambda does after a restore (order of registration); for tests and bench."""
    for hook in _AFTER:
        hook()


def registered() -> tuple[tuple[Hook, ...], tuple[Hook, ...]]:
    return tuple(_BEFORE), tuple(_AFTER)


# ---- the service's hooks ---------------------------------------------------------------------

# Synthetic requests resolved before the snapshot. Their request id says what they are, they
# carry no session id and no Idempotency-Key, and none of them reaches the model or a write.
WARMUP_REQUEST_ID = "snapstart-warmup"
Requests = tuple[tuple[str, str, dict[str, Any] | None], ...]
_WARMUP_REQUESTS: Requests = (
    ("POST", "/v1/route", {"resonance_key": "frustrated-burst-seek_advice"}),
    ("POST", "/v1/route", {"resonance_key": "Calm_Medium_Learning"}),  # the normalising path
    ("POST", "/v1/resonance/validate", {"resonance_key": "calm-medium-learning"}),
    ("POST", "/v1/resonance/detect", {"message": "요즘 일이 너무 많아서 어떻게 해야 할지 모르겠어요"}),
    ("GET", "/health", None),
    ("GET", "/v1/personas", None),
)


def warmup_event(method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
    headers = {"Content-Type": "application/json", "Host": "snapstart.local"}
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "requestId": WARMUP_REQUEST_ID,
            "stage": "snapstart",
            "httpMethod": method,
            "path": path,
            "resourcePath": path,
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }


def build_deferred_models(modules: tuple[ModuleType, ...]) -> None:
    """Build the validators that `defer_build` keeps off the plain cold start: in a snapshot
    they cost nothing at restore."""
    from pydantic import BaseModel

    for module in modules:
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, BaseModel) and value is not BaseModel:
                value.model_rebuild(force=True)


def _import_lazy_modules() -> None:
    """Modules that requests import on first use (chat, sessions, idempotency)."""
    import aws_lambda_powertools.utilities.idempotency
    import aws_lambda_powertools.utilities.idempotency.exceptions  # noqa: F401

    import core.persona.adapters.dynamodb_sessions
    import core.persona.chat_pipeline
    import core.persona.model_backends  # noqa: F401


def warm_catalog() -> None:
    """Load the catalog and rank every key once, so routing in a restored environment is a
    dictionary lookup from the first request."""
    from handlers.common import deps

    deps.current_catalog().router.warm_all()


def forget_request_state() -> None:
    """Nothing of a request may outlive it into a snapshot or across a restore."""
    from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

    from handlers.common.app import REQUEST

    REQUEST.request_id = "-"
    REQUEST.model_failed = False
    logger.set_correlation_id(None)
    logger.remove_keys(["persona", "resonance_key"])
    metrics.clear_metrics()
    # The resolver keeps the last event and context on the class (shared by every router).
    for name in ("current_event", "lambda_context"):
        if name in vars(BaseRouter):
            delattr(BaseRouter, name)


def _attempt(step: str, work: Callable[[], object]) -> None:
    """A failed warm-up step never fails the version publish (a new stack publishes before its
    catalog is seeded): the restored environment then does that work on its first request."""
    try:
        work()
    except Exception as exc:  # any failure only means less was warmed
        logger.warning("snapshot warm-up step failed", extra={"step": step, "error": type(exc).__name__})


def _resolve(app: Any, method: str, path: str, body: dict[str, Any] | None) -> None:
    response = app.resolve(warmup_event(method, path, body), None)
    if response.get("statusCode", 500) >= 500:
        raise RuntimeError(f"{method} {path} answered {response.get('statusCode')}")


def make_before_snapshot(app: Any, requests: Requests, models: tuple[ModuleType, ...]) -> Hook:
    def before_snapshot() -> None:
        _attempt("imports", _import_lazy_modules)
        _attempt("models", lambda: build_deferred_models(models))
        _attempt("catalog", warm_catalog)
        for method, path, body in requests:
            _attempt(f"{method} {path}", partial(_resolve, app, method, path, body))
        if hasattr(app, "clear_context"):
            app.clear_context()
        forget_request_state()

    return before_snapshot


def renew_connections() -> None:
    """Fresh AWS clients (new connection pools) where clients exist; the rest are lazy."""
    from core.persona.adapters.dynamodb_catalog import make_client
    from handlers.common import deps

    if deps.catalog_store.cache_info().currsize:
        # The catalog store keeps its parsed catalog in the cache above it; only its client's
        # sockets are stale, so replace the client rather than the store and lose the catalog.
        deps.catalog_store()._client = make_client()
    for dependency in (deps.chat_service, deps.session_store, deps.model_backend):
        dependency.cache_clear()


def _mark_catalog_stale() -> None:
    from handlers.common import deps

    if deps.catalog_cache.cache_info().currsize:
        deps.catalog_cache().invalidate()  # the snapshot may be days old: check the version first


def make_after_restore(renew: tuple[Hook, ...]) -> Hook:
    def after_restore() -> None:
        import random  # here: the plain cold start does not need it

        random.seed()  # from os.urandom: restored environments must not share a random sequence
        _attempt("catalog", _mark_catalog_stale)
        _attempt("connections", renew_connections)
        for step in renew:  # the entry module's own clients (e.g. the idempotency layer)
            _attempt("renew", step)
        forget_request_state()

    return after_restore


_INSTALLED: set[int] = set()


def install(
    app: Any,
    requests: Requests = _WARMUP_REQUESTS,
    models: tuple[ModuleType, ...] = (),
    renew: tuple[Hook, ...] = (),
) -> None:
    """Register the hooks for one resolver (called by each Lambda entry module at import):
    `requests` are resolved before the snapshot, the pydantic models of `models` are built, and
    `renew` runs after each restore to drop the entry's own cached clients."""
    if id(app) in _INSTALLED:
        return
    _INSTALLED.add(id(app))
    register_before_snapshot(make_before_snapshot(app, requests, models))
    register_after_restore(make_after_restore(renew))
