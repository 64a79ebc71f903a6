"""The catalog as one execution environment sees it: loaded once, reused while fresh.

A warm request costs no DynamoDB call while the cached catalog is younger than the TTL. After
that one GetItem compares versions; only a changed version triggers the full Query. If the
store fails, the last good catalog keeps serving (reported through `on_stale`) and the store is
retried after a back-off rather than on every request. A write made through this cache
refreshes it at once, so the environment that wrote sees its write immediately.

Two rules keep a hung store from slowing warm requests down:
- the back-off deadline counts from when the failed call returned, not from when it started
  (a call that took longer than the back-off would otherwise leave it already expired);
- one refresh at a time: while one thread refreshes, others that hold a catalog get it at once
  instead of queueing behind the slow call (the local server runs requests in threads).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.shared.errors import Unavailable

if TYPE_CHECKING:
    from core.persona.persona_ports import CatalogStore
    from core.persona.personas import Catalog, Persona
    from core.persona.routing import Router

# After a failed refresh, wait this long before asking the store again (per environment),
# doubling with each further failure up to the TTL (so a recovered store is seen within one
# TTL, as a changed catalog would be); a success resets it.
ERROR_BACKOFF_SECONDS = 1.0


@dataclass(frozen=True)
class CatalogSnapshot:
    catalog: Catalog
    router: Router
    stale: bool = False


class CatalogCache:
    def __init__(
        self,
        store: CatalogStore,
        ttl_seconds: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        on_stale: Callable[[Exception], None] | None = None,
    ) -> None:
        self._store = store
        self._ttl = ttl_seconds
        self._clock = clock
        self._on_stale = on_stale
        self._snapshot: CatalogSnapshot | None = None
        self._fresh_until = 0.0
        self._failures = 0
        self._lock = threading.Lock()

    @property
    def store(self) -> CatalogStore:
        return self._store

    def get(self) -> CatalogSnapshot:
        snapshot = self._snapshot
        if snapshot is not None and self._clock() < self._fresh_until:
            return snapshot
        if snapshot is not None:
            # Someone is already asking the store: serve what we have rather than wait for it.
            if not self._lock.acquire(blocking=False):
                return snapshot
        else:
            self._lock.acquire()  # nothing to serve yet: wait for the first load
        try:
            return self._refresh()
        finally:
            self._lock.release()

    def invalidate(self) -> None:
        self._fresh_until = 0.0

    def put_persona(self, persona: Persona, expected_version: int | None) -> Persona:
        stored = self._store.put_persona(persona, expected_version)
        self.invalidate()
        return stored

    def delete_persona(self, name: str, expected_version: int) -> None:
        self._store.delete_persona(name, expected_version)
        self.invalidate()

    def _refresh(self) -> CatalogSnapshot:
        snapshot = self._snapshot
        if snapshot is not None and self._clock() < self._fresh_until:
            return snapshot  # another thread refreshed while we waited for the lock
        try:
            if snapshot is not None and self._store.version() == snapshot.catalog.version:
                fresh = snapshot if not snapshot.stale else CatalogSnapshot(snapshot.catalog, snapshot.router)
            else:
                catalog = self._store.load()
                if catalog is None:
                    raise Unavailable("the persona catalog is empty; seed it first", retry_after=5)
                fresh = CatalogSnapshot(catalog, _make_router(catalog))
        except Exception as exc:
            if snapshot is None:
                if isinstance(exc, Unavailable):
                    raise
                raise Unavailable("the persona catalog cannot be loaded", retry_after=2) from exc
            if self._on_stale is not None:
                self._on_stale(exc)
            self._failures += 1
            ceiling = max(self._ttl, ERROR_BACKOFF_SECONDS)
            backoff = min(ERROR_BACKOFF_SECONDS * 2 ** min(self._failures - 1, 16), ceiling)
            self._snapshot = CatalogSnapshot(snapshot.catalog, snapshot.router, stale=True)
            # Read the clock now, after the failed call: a hung store may have taken longer
            # than the back-off itself.
            self._fresh_until = self._clock() + backoff
            return self._snapshot
        self._failures = 0
        self._snapshot = fresh
        self._fresh_until = self._clock() + self._ttl
        return fresh


def _make_router(catalog: Catalog) -> Router:
    from core.persona.routing import Router

    return Router(catalog)
