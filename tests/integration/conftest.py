"""Integration fixtures: real boto3 against moto's DynamoDB."""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

REGION = "us-east-1"


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    """Settings are read once per process: a test that changes the environment reloads them,
    and every test ends with them read again from the restored environment."""
    yield
    from core.shared import settings

    settings.reload()


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def create_catalog_table(client: Any, name: str = "catalog") -> str:
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


@pytest.fixture
def dynamodb(aws_env: None) -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("dynamodb", region_name=REGION)


@pytest.fixture
def catalog_table(dynamodb: Any) -> str:
    return create_catalog_table(dynamodb)


class CallCounter:
    """Counts DynamoDB API calls through botocore's event system (what actually goes out)."""

    def __init__(self, client: Any) -> None:
        self.calls: list[str] = []
        client.meta.events.register("before-call.dynamodb", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls.append(model.name)


def create_table(client: Any, name: str, keys: list[str]) -> str:
    """An on-demand table whose key attributes are all strings (HASH first, then RANGE)."""
    client.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": key, "KeyType": kind}
            for key, kind in zip(keys, ("HASH", "RANGE"), strict=False)
        ],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"} for key in keys],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


@pytest.fixture
def service(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Every table of the stack in moto, the default catalog seeded, fresh handler dependencies.
    Yields the DynamoDB client."""
    from core.persona.adapters.dynamodb_catalog import DynamoDBCatalogStore
    from core.persona.default_catalog import default_catalog
    from handlers.common import deps

    monkeypatch.setenv("CATALOG_TABLE", create_catalog_table(dynamodb))
    monkeypatch.setenv("SESSIONS_TABLE", create_table(dynamodb, "sessions", ["session_id", "turn"]))
    monkeypatch.setenv("IDEMPOTENCY_TABLE", create_table(dynamodb, "idempotency", ["id"]))
    monkeypatch.setenv("LLM_BACKEND", "none")
    DynamoDBCatalogStore("catalog", client=dynamodb).seed(default_catalog())
    from handlers.routes import chat

    deps.reset()
    chat._idempotent_runner.cache_clear()
    yield dynamodb
    deps.reset()
    chat._idempotent_runner.cache_clear()


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The service's structured log lines. Powertools' Logger keeps the stdout it saw when it was
    created, so tests add their own handler with the same formatter instead of reading stdout."""
    from handlers.common.observability import logger

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    logger.removeHandler(handler)


__all__ = ["REGION", "CallCounter", "create_catalog_table", "create_table", "os"]
