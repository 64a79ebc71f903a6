"""DynamoDBCatalogStore and CatalogCache against moto: load, pagination, conflicts, seeding,
cache freshness, stale serving on errors, and zero calls on the warm path."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from core.persona.adapters.dynamodb_catalog import DynamoDBCatalogStore
from core.persona.catalog_cache import CatalogCache
from core.persona.default_catalog import default_catalog
from core.persona.personas import Catalog, Persona
from core.shared.errors import Conflict, NotFound, PreconditionRequired, Unavailable
from tests.integration.conftest import CallCounter


def _persona(name: str, **changes: Any) -> Persona:
    base = default_catalog().personas[0]
    return base.model_copy(update={"name": name, "version": 1, **changes})


@pytest.fixture
def store(dynamodb: Any, catalog_table: str) -> DynamoDBCatalogStore:
    return DynamoDBCatalogStore(catalog_table, client=dynamodb)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_empty_table_loads_nothing(store: DynamoDBCatalogStore) -> None:
    assert store.load() is None
    assert store.version() is None


def test_seed_writes_default_catalog_once(store: DynamoDBCatalogStore) -> None:
    assert store.seed(default_catalog()) is True
    loaded = store.load()
    assert loaded is not None
    assert sorted(p.name for p in loaded.personas) == ["Elro", "Lua", "Nana", "Riri"]
    assert loaded.version == default_catalog().version
    assert loaded.config == default_catalog().config
    # A second seed finds the catalog and leaves it alone.
    assert store.seed(default_catalog()) is False


def test_seed_never_overwrites_operator_edit(store: DynamoDBCatalogStore) -> None:
    store.seed(default_catalog())
    lua = next(p for p in store.load().personas if p.name == "Lua")  # type: ignore[union-attr]
    edited = store.put_persona(lua.model_copy(update={"description": "edited by an operator"}), lua.version)
    assert store.seed(default_catalog()) is False
    after = next(p for p in store.load().personas if p.name == "Lua")  # type: ignore[union-attr]
    assert after.description == "edited by an operator"
    assert after.version == edited.version == 2


def test_operator_write_into_empty_table_blocks_seed(store: DynamoDBCatalogStore) -> None:
    store.put_persona(_persona("Solo"), None)
    assert store.seed(default_catalog()) is False
    loaded = store.load()
    assert loaded is not None and [p.name for p in loaded.personas] == ["Solo"]


def test_repeated_seeds_write_exactly_once(store: DynamoDBCatalogStore) -> None:
    # One after the other: moto is not thread-safe, so the concurrent version of this test runs
    # against DynamoDB Local (tests/e2e/test_store_concurrency.py).
    results = [store.seed(default_catalog()) for _ in range(8)]
    assert results == [True] + [False] * 7
    assert len(store.load().personas) == 4  # type: ignore[union-attr]


def test_every_write_bumps_catalog_version(store: DynamoDBCatalogStore) -> None:
    store.seed(default_catalog())
    v0 = store.version()
    assert v0 is not None
    created = store.put_persona(_persona("Mina"), None)
    assert created.version == 1
    assert store.version() == v0 + 1
    replaced = store.put_persona(created.model_copy(update={"priority": 9}), 1)
    assert replaced.version == 2
    assert store.version() == v0 + 2
    store.delete_persona("Mina", 2)
    assert store.version() == v0 + 3
    assert "Mina" not in [p.name for p in store.load().personas]  # type: ignore[union-attr]


def test_create_existing_requires_precondition(store: DynamoDBCatalogStore) -> None:
    store.put_persona(_persona("Mina"), None)
    with pytest.raises(PreconditionRequired) as err:
        store.put_persona(_persona("Mina"), None)
    assert err.value.details[0]["current_version"] == 1


def test_stale_replace_is_a_conflict_and_changes_nothing(store: DynamoDBCatalogStore) -> None:
    created = store.put_persona(_persona("Mina"), None)
    store.put_persona(created.model_copy(update={"priority": 5}), 1)
    version_before = store.version()
    with pytest.raises(Conflict) as err:
        store.put_persona(created.model_copy(update={"priority": 7}), 1)
    assert err.value.details[0] == {"name": "Mina", "expected_version": 1, "current_version": 2}
    assert store.version() == version_before
    assert next(p for p in store.load().personas if p.name == "Mina").priority == 5  # type: ignore[union-attr]


def test_replace_or_delete_missing_is_not_found(store: DynamoDBCatalogStore) -> None:
    with pytest.raises(NotFound):
        store.put_persona(_persona("Ghost"), 3)
    with pytest.raises(NotFound):
        store.delete_persona("Ghost", 1)


def test_stale_delete_is_a_conflict(store: DynamoDBCatalogStore) -> None:
    created = store.put_persona(_persona("Mina"), None)
    store.put_persona(created, 1)
    with pytest.raises(Conflict):
        store.delete_persona("Mina", 1)
    assert "Mina" in [p.name for p in store.load().personas]  # type: ignore[union-attr]


def test_writers_of_one_version_one_wins(store: DynamoDBCatalogStore) -> None:
    # Sequential here; the threaded race runs against DynamoDB Local (tests/e2e/test_store_concurrency.py).
    created = store.put_persona(_persona("Mina"), None)

    def write(i: int) -> str:
        try:
            store.put_persona(created.model_copy(update={"description": f"writer {i}"}), 1)
            return "won"
        except Conflict:
            return "conflict"

    outcomes = [write(i) for i in range(5)]
    assert outcomes == ["won"] + ["conflict"] * 4
    final = next(p for p in store.load().personas if p.name == "Mina")  # type: ignore[union-attr]
    assert final.version == 2
    assert final.description == "writer 0"


def test_load_paginates_past_one_megabyte(store: DynamoDBCatalogStore, dynamodb: Any) -> None:
    store.seed(default_catalog())
    big = "x" * 7000  # about 7 KB of prompt text per persona: 200 personas is well over 1 MB
    base = default_catalog().personas[0]
    prompts = {loc: t.model_copy(update={"system": t.system + big}) for loc, t in base.prompts.items()}
    for i in range(200):
        store.put_persona(_persona(f"Bulk{i:03d}", prompts=prompts), None)
    counter = CallCounter(dynamodb)
    loaded = store.load()
    assert loaded is not None and len(loaded.personas) == 204
    assert counter.calls.count("Query") >= 2, "a >1 MB catalog must take more than one page"


# ---- cache -----------------------------------------------------------------------------------


def test_warm_path_makes_no_dynamodb_call(store: DynamoDBCatalogStore, dynamodb: Any) -> None:
    store.seed(default_catalog())
    clock = FakeClock()
    cache = CatalogCache(store, ttl_seconds=10, clock=clock)
    counter = CallCounter(dynamodb)
    first = cache.get()
    assert counter.calls == ["Query"]
    for _ in range(100):
        clock.now += 0.05
        assert cache.get() is first
    assert counter.calls == ["Query"], "warm requests within the TTL must not call DynamoDB"


def test_after_ttl_one_getitem_when_unchanged(store: DynamoDBCatalogStore, dynamodb: Any) -> None:
    store.seed(default_catalog())
    clock = FakeClock()
    cache = CatalogCache(store, ttl_seconds=10, clock=clock)
    first = cache.get()
    counter = CallCounter(dynamodb)
    clock.now += 11
    assert cache.get() is first
    assert counter.calls == ["GetItem"]


def test_other_environment_write_seen_within_ttl(store: DynamoDBCatalogStore) -> None:
    store.seed(default_catalog())
    clock = FakeClock()
    reader = CatalogCache(store, ttl_seconds=10, clock=clock)
    before = reader.get()
    # Another execution environment writes straight to the table.
    DynamoDBCatalogStore(store.table_name, client=store._client).put_persona(_persona("Mina"), None)
    assert reader.get() is before  # still within the TTL: cached
    clock.now += 10.01
    after = reader.get()
    assert after.catalog.version == before.catalog.version + 1
    assert after.catalog.get("Mina") is not None


def test_own_write_is_visible_at_once(store: DynamoDBCatalogStore) -> None:
    store.seed(default_catalog())
    cache = CatalogCache(store, ttl_seconds=3600, clock=FakeClock())
    cache.get()
    cache.put_persona(_persona("Mina"), None)
    assert cache.get().catalog.get("Mina") is not None


class FailingStore:
    """Wraps a store and fails on demand, like DynamoDB being unreachable."""

    def __init__(self, inner: DynamoDBCatalogStore) -> None:
        self.inner = inner
        self.failing = False

    def _check(self) -> None:
        if self.failing:
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "down"}}, "Query")

    def load(self) -> Catalog | None:
        self._check()
        return self.inner.load()

    def version(self) -> int | None:
        self._check()
        return self.inner.version()

    def put_persona(self, persona: Persona, expected_version: int | None) -> Persona:
        self._check()
        return self.inner.put_persona(persona, expected_version)

    def delete_persona(self, name: str, expected_version: int) -> None:
        self._check()
        self.inner.delete_persona(name, expected_version)

    def seed(self, catalog: Catalog) -> bool:
        self._check()
        return self.inner.seed(catalog)


def test_serves_last_good_catalog_when_store_fails(store: DynamoDBCatalogStore) -> None:
    store.seed(default_catalog())
    failing = FailingStore(store)
    clock = FakeClock()
    errors: list[Exception] = []
    cache = CatalogCache(failing, ttl_seconds=10, clock=clock, on_stale=errors.append)
    good = cache.get()
    failing.failing = True
    clock.now += 11
    stale = cache.get()
    assert stale.stale is True
    assert stale.catalog is good.catalog
    assert len(errors) == 1
    # Within the back-off the store is not asked again.
    clock.now += 0.5
    assert cache.get().stale is True
    assert len(errors) == 1
    # Recovery: the next refresh after the back-off clears the stale flag.
    failing.failing = False
    clock.now += 1
    assert cache.get().stale is False


def test_no_catalog_and_store_down_is_unavailable(store: DynamoDBCatalogStore) -> None:
    failing = FailingStore(store)
    failing.failing = True
    with pytest.raises(Unavailable):
        CatalogCache(failing, clock=FakeClock()).get()


def test_empty_table_is_unavailable(store: DynamoDBCatalogStore) -> None:
    with pytest.raises(Unavailable):
        CatalogCache(store, clock=FakeClock()).get()
