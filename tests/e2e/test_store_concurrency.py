"""Concurrent writers against DynamoDB Local (Amazon's engine), not moto: moto's in-memory
backend is not thread-safe, so a race run on it would test moto. Each test gets tables of its
own, and every thread its own boto3 client, as separate Lambda environments would have."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from core.persona.adapters.dynamodb_catalog import DynamoDBCatalogStore
from core.persona.adapters.dynamodb_sessions import DynamoDBSessionStore
from core.persona.default_catalog import default_catalog
from core.persona.prompts import Turn
from core.shared.errors import Conflict
from scripts.dynamodb_local import DynamoDBLocal, client
from scripts.local_env import table_definitions


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with DynamoDBLocal() as local:
        yield local.endpoint


def fresh_table(endpoint: str, logical_id: str) -> str:
    """A new table with the key schema of `logical_id` in template.yaml, under a unique name."""
    definition = table_definitions()[logical_id]
    name = f"{logical_id}-{uuid.uuid4().hex[:8]}"
    dynamodb = client(endpoint)
    dynamodb.create_table(
        TableName=name,
        KeySchema=definition["KeySchema"],
        AttributeDefinitions=definition["AttributeDefinitions"],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.get_waiter("table_exists").wait(TableName=name)
    return name


def race[T](workers: int, calls: int, work: Callable[[int], T]) -> list[T]:
    """Run work(0..calls-1) on `workers` threads released together by a barrier, so the calls
    overlap instead of running one after the other as thread start-up would otherwise order them."""
    barrier = threading.Barrier(workers)
    started = threading.local()

    def run(i: int) -> T:
        if not getattr(started, "done", False):
            started.done = True
            barrier.wait(timeout=60)
        return work(i)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, range(calls)))


def catalog_store(endpoint: str, table: str) -> DynamoDBCatalogStore:
    return DynamoDBCatalogStore(table, client=client(endpoint))


def test_concurrent_seeds_write_exactly_once(endpoint: str) -> None:
    table = fresh_table(endpoint, "CatalogTable")
    stores = [catalog_store(endpoint, table) for _ in range(8)]
    results = race(8, 8, lambda i: stores[i].seed(default_catalog()))
    assert results.count(True) == 1, results
    loaded = catalog_store(endpoint, table).load()
    assert loaded is not None
    assert sorted(p.name for p in loaded.personas) == ["Elro", "Lua", "Nana", "Riri"]


def test_concurrent_writers_one_wins_per_version(endpoint: str) -> None:
    table = fresh_table(endpoint, "CatalogTable")
    base = default_catalog().personas[0].model_copy(update={"name": "Mina", "version": 1})
    created = catalog_store(endpoint, table).put_persona(base, None)
    stores = [catalog_store(endpoint, table) for _ in range(20)]

    def write(i: int) -> str:
        try:
            stores[i].put_persona(created.model_copy(update={"description": f"writer {i}"}), 1)
            return "won"
        except Conflict:
            return "conflict"

    outcomes = race(10, 20, write)
    assert outcomes.count("won") == 1, outcomes
    assert outcomes.count("conflict") == 19, outcomes
    loaded = catalog_store(endpoint, table).load()
    assert loaded is not None
    final = next(p for p in loaded.personas if p.name == "Mina")
    assert final.version == 2
    assert final.description == f"writer {outcomes.index('won')}"


def test_twenty_concurrent_turns_are_all_stored(endpoint: str) -> None:
    table = fresh_table(endpoint, "SessionsTable")

    def frozen_store() -> DynamoDBSessionStore:
        # The same clock value for every writer: the random suffix alone must keep the keys apart.
        return DynamoDBSessionStore(table, client=client(endpoint), clock=lambda: 1_800_000_000.0)

    stores = [frozen_store() for _ in range(20)]
    race(20, 20, lambda i: stores[i].append("busy", Turn(user=f"turn {i}")))
    stored = frozen_store().history("busy", limit=100)
    assert sorted(t.user for t in stored) == sorted(f"turn {i}" for i in range(20))
