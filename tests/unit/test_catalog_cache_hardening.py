"""CatalogCache against a hung store (issue 12, defect 2): the back-off counts from when the
failed call returned, and while one refresh is running every other caller gets the catalog it
already has at once."""

from __future__ import annotations

import threading
import time

from core.persona.catalog_cache import ERROR_BACKOFF_SECONDS, CatalogCache
from core.persona.default_catalog import default_catalog
from core.persona.personas import Catalog


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class SlowFailingStore:
    """A store that answers once, then fails after `delay` (advanced on the fake clock, or real
    sleeping when `block` is set) and counts the calls it got."""

    def __init__(self, clock: FakeClock, delay: float) -> None:
        self.clock = clock
        self.delay = delay
        self.calls = 0
        self.failing = False
        self.block: threading.Event | None = None
        self.entered = threading.Event()
        self.catalog: Catalog = default_catalog()

    def _call(self) -> None:
        self.calls += 1
        if not self.failing:
            return
        self.entered.set()
        if self.block is not None:
            self.block.wait(10)
        self.clock.now += self.delay
        raise TimeoutError("read timed out")

    def version(self) -> int | None:
        self._call()
        return self.catalog.version

    def load(self) -> Catalog | None:
        self._call()
        return self.catalog


def test_backoff_counts_from_the_end_of_the_failed_call() -> None:
    clock = FakeClock()
    store = SlowFailingStore(clock, delay=9.0)  # the hung call takes far longer than the back-off
    cache = CatalogCache(store, ttl_seconds=10, clock=clock)  # type: ignore[arg-type]
    cache.get()
    store.failing = True
    clock.now += 11  # past the TTL
    assert cache.get().stale
    assert store.calls == 2
    # Right after the slow failure, within the back-off: no second slow call.
    clock.now += ERROR_BACKOFF_SECONDS / 2
    for _ in range(5):
        assert cache.get().stale
    assert store.calls == 2
    clock.now += ERROR_BACKOFF_SECONDS
    cache.get()
    assert store.calls == 3  # one retry per back-off period, no more


def test_backoff_doubles_while_the_store_keeps_failing_and_resets_after_success() -> None:
    clock = FakeClock()
    store = SlowFailingStore(clock, delay=0.0)
    cache = CatalogCache(store, ttl_seconds=10, clock=clock)  # type: ignore[arg-type]
    cache.get()
    store.failing = True
    clock.now += 11
    cache.get()  # failure 1: back-off 1 s
    clock.now += 1.01
    cache.get()  # failure 2: back-off 2 s
    clock.now += 1.5
    cache.get()
    assert store.calls == 3  # still backing off
    clock.now += 1.0
    cache.get()
    assert store.calls == 4
    store.failing = False
    clock.now += 100
    assert not cache.get().stale
    assert store.calls == 5


def test_backoff_never_exceeds_the_ttl() -> None:
    clock = FakeClock()
    store = SlowFailingStore(clock, delay=0.0)
    cache = CatalogCache(store, ttl_seconds=3, clock=clock)  # type: ignore[arg-type]
    cache.get()
    store.failing = True
    clock.now += 4
    for _ in range(10):  # many failures in a row
        cache.get()
        clock.now += 3.01
    calls = store.calls
    cache.get()
    assert store.calls == calls + 1  # 3 s after the last failure the store is asked again


def test_other_threads_get_the_stale_catalog_while_one_refresh_hangs() -> None:
    clock = FakeClock()
    store = SlowFailingStore(clock, delay=0.0)
    cache = CatalogCache(store, ttl_seconds=10, clock=clock)  # type: ignore[arg-type]
    warm = cache.get()
    store.failing = True
    store.block = threading.Event()
    clock.now += 11
    slow = threading.Thread(target=cache.get)
    slow.start()
    assert store.entered.wait(5)  # the refresh is inside the hung call
    try:
        started = time.perf_counter()
        answers = [cache.get() for _ in range(20)]
        elapsed = time.perf_counter() - started
    finally:
        store.block.set()
        slow.join(10)
    assert all(a.catalog is warm.catalog for a in answers)
    assert elapsed < 2.0  # served at once, not after the hung call (which waits up to 10 s)
    assert store.calls == 2  # only the one refresh reached the store


def test_the_first_load_waits_for_the_running_one() -> None:
    clock = FakeClock()
    store = SlowFailingStore(clock, delay=0.0)
    gate = threading.Event()
    original = store.load

    def slow_load() -> Catalog | None:
        gate.wait(5)
        return original()

    store.load = slow_load  # type: ignore[method-assign]
    cache = CatalogCache(store, ttl_seconds=10, clock=clock)  # type: ignore[arg-type]
    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get())) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.1)
    gate.set()
    for t in threads:
        t.join(10)
    assert len(results) == 3  # nobody got "no catalog" while the first load ran
    assert store.calls == 1
