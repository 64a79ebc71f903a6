"""SnapStart hooks of the API function against moto's DynamoDB, triggered through the local
registry as Lambda would trigger them: before the snapshot the catalog is loaded and every key
ranked, nothing of the warm-up requests is left behind; after a restore the catalog is checked
again, clients are new, `random` is re-seeded and no request state crosses over."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from tests.integration.conftest import CallCounter
from tests.lambda_events import LambdaContext, rest_event

ROUTE = json.dumps({"resonance_key": "calm-medium-learning"})


@pytest.fixture
def api(service: Any) -> Any:
    from handlers import api
    from handlers.common import snapstart

    before, after = snapstart.registered()
    assert before and after  # installed by the entry module at import
    return api


def request_id_header(response: dict[str, Any]) -> str:
    return str(response["multiValueHeaders"]["X-Request-Id"][0])


def route(api: Any, request_id: str) -> dict[str, Any]:
    event = rest_event("POST", "/v1/route", ROUTE, {"Content-Type": "application/json"}, request_id)
    return api.lambda_handler(event, LambdaContext())


def catalog_client() -> Any:
    from handlers.common import deps

    return deps.catalog_store()._client


def test_before_snapshot_loads_the_catalog_and_ranks_every_key(api: Any) -> None:
    from core.persona.vocabulary import INTENTS, PACES, TONES
    from handlers.common import deps, snapstart
    from handlers.routes import chat

    snapstart.run_before_snapshot()

    snapshot = deps.catalog_cache().get()
    assert len(snapshot.router._cache) == len(TONES) * len(PACES) * len(INTENTS)
    # Validators that defer_build keeps off the plain cold start are built into the snapshot.
    assert type(chat.ChatRequest.__pydantic_validator__).__name__ == "SchemaValidator"
    counter = CallCounter(catalog_client())
    assert route(api, "first-after-snapshot")["statusCode"] == 200
    assert counter.calls == []  # the first request after the snapshot needs no DynamoDB call


def test_before_snapshot_leaves_no_request_state(api: Any) -> None:
    from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

    from handlers.common import snapstart
    from handlers.common.app import REQUEST
    from handlers.common.observability import logger, metrics

    snapstart.run_before_snapshot()

    assert REQUEST.request_id == "-"
    assert logger.get_correlation_id() is None
    assert "persona" not in logger.get_current_keys()
    assert metrics.provider.metric_set == {}
    assert "current_event" not in vars(BaseRouter)


def test_after_restore_checks_the_catalog_version_with_one_get_item(api: Any) -> None:
    from handlers.common import snapstart

    snapstart.run_before_snapshot()
    snapstart.run_after_restore()

    counter = CallCounter(catalog_client())
    first = route(api, "restored-1")
    assert first["statusCode"] == 200
    assert counter.calls == ["GetItem"]  # version unchanged: the snapshot's routing tables stay
    route(api, "restored-2")
    assert counter.calls == ["GetItem"]  # then fresh again for the TTL


def test_a_catalog_changed_since_the_snapshot_is_reloaded_after_restore(api: Any) -> None:
    from core.persona.adapters.dynamodb_catalog import DynamoDBCatalogStore
    from handlers.common import deps, snapstart

    snapstart.run_before_snapshot()
    version_in_snapshot = deps.catalog_cache().get().catalog.version
    # An operator edits a persona while the snapshot waits in Lambda's cache.
    store = DynamoDBCatalogStore("catalog", client=service_client(api))
    persona = store.load().personas[0]  # type: ignore[union-attr]
    store.put_persona(persona.model_copy(update={"description": "edited"}), persona.version)

    snapstart.run_after_restore()
    counter = CallCounter(catalog_client())
    assert route(api, "restored")["statusCode"] == 200
    assert counter.calls == ["GetItem", "Query"]
    assert deps.catalog_cache().get().catalog.version > version_in_snapshot


def service_client(api: Any) -> Any:
    import boto3

    return boto3.client("dynamodb", region_name="us-east-1")


def test_after_restore_gives_every_client_a_new_connection(api: Any) -> None:
    from handlers.common import deps, snapstart
    from handlers.routes import chat

    snapstart.run_before_snapshot()
    old_catalog_client = catalog_client()
    old_sessions = deps.session_store()
    chat._idempotent_runner()

    snapstart.run_after_restore()

    assert catalog_client() is not old_catalog_client
    assert deps.session_store() is not old_sessions
    assert chat._idempotent_runner.cache_info().currsize == 0


def test_after_restore_reseeds_random(api: Any) -> None:
    from handlers.common import snapstart

    random.seed(1234)  # the state a snapshot would freeze
    frozen = random.random()
    random.seed(1234)
    snapstart.run_after_restore()
    first = random.random()
    random.seed(1234)
    snapstart.run_after_restore()
    second = random.random()
    assert frozen != first and first != second


def test_no_request_id_crosses_a_restore(api: Any, log_lines: Any) -> None:
    from handlers.common import snapstart
    from handlers.common.observability import logger

    snapstart.run_before_snapshot()
    before = route(api, "request-before-snapshot")
    assert request_id_header(before) == "request-before-snapshot"
    assert logger.get_correlation_id() == "request-before-snapshot"  # what a snapshot could freeze
    snapstart.run_after_restore()
    assert logger.get_correlation_id() is None
    seen = len(log_lines())
    logger.info("first line after restore")  # outside any request: no correlation id at all
    assert log_lines()[seen].get("correlation_id") is None
    after = route(api, "request-after-restore")
    assert request_id_header(after) == "request-after-restore"


def test_before_snapshot_on_an_unseeded_table_still_publishes(dynamodb: Any, monkeypatch: Any) -> None:
    from handlers import api
    from handlers.common import deps, snapstart
    from tests.integration.conftest import create_catalog_table

    monkeypatch.setenv("CATALOG_TABLE", create_catalog_table(dynamodb, "empty"))
    deps.reset()
    try:
        snapstart.run_before_snapshot()  # a new stack publishes before its seed runs: no raise
        assert deps.catalog_cache.cache_info().currsize == 1  # it tried
        response = route(api, "unseeded")
        assert response["statusCode"] == 503
    finally:
        deps.reset()
