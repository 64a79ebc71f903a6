"""The CatalogSeed custom resource against moto: seeds only an empty table, keeps operator edits,
always answers CloudFormation, and answers in time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from core.shared import settings
from handlers import seed
from tests.integration.conftest import create_catalog_table

URL = "https://cloudformation-custom-resource-response.example/answer"


class Context:
    log_stream_name = "seed-stream"
    function_name = "seed"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:seed"
    aws_request_id = "seed-request"

    def __init__(self, remaining_ms: int = 60_000) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def answers(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    monkeypatch.setenv("CATALOG_TABLE", create_catalog_table(dynamodb))
    settings.reload()
    sent: list[dict[str, Any]] = []

    def send(url: str, body: bytes, timeout: float) -> None:
        sent.append({"url": url, "timeout": timeout, **json.loads(body)})

    monkeypatch.setattr(seed, "_send", send)
    yield sent


def event(request_type: str) -> dict[str, Any]:
    return {
        "RequestType": request_type,
        "ResponseURL": URL,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/persona-router-dev/x",
        "RequestId": "req-1",
        "LogicalResourceId": "CatalogSeed",
        "ResourceType": "Custom::CatalogSeed",
    }


def items(dynamodb: Any) -> dict[str, dict[str, Any]]:
    return {item["sk"]["S"]: item for item in dynamodb.scan(TableName="catalog")["Items"]}


def test_create_seeds_an_empty_table(dynamodb: Any, answers: list[dict[str, Any]]) -> None:
    seed.lambda_handler(event("Create"), Context())
    assert [a["Status"] for a in answers] == ["SUCCESS"]
    assert answers[0]["Data"] == {"Seeded": "true"}
    assert answers[0]["RequestId"] == "req-1" and answers[0]["LogicalResourceId"] == "CatalogSeed"
    assert set(items(dynamodb)) == {"META", "PERSONA#Lua", "PERSONA#Elro", "PERSONA#Riri", "PERSONA#Nana"}


def test_update_never_overwrites_an_operators_edit(dynamodb: Any, answers: list[dict[str, Any]]) -> None:
    seed.lambda_handler(event("Create"), Context())
    dynamodb.update_item(
        TableName="catalog",
        Key={"pk": {"S": "CATALOG"}, "sk": {"S": "PERSONA#Lua"}},
        UpdateExpression="SET #d = :d",
        ExpressionAttributeNames={"#d": "data"},
        ExpressionAttributeValues={":d": {"S": '{"edited": true}'}},
    )
    seed.lambda_handler(event("Update"), Context())
    assert [a["Status"] for a in answers] == ["SUCCESS", "SUCCESS"]
    assert answers[1]["Data"] == {"Seeded": "false"}
    assert items(dynamodb)["PERSONA#Lua"]["data"]["S"] == '{"edited": true}'


def test_delete_answers_success_and_keeps_the_data(dynamodb: Any, answers: list[dict[str, Any]]) -> None:
    seed.lambda_handler(event("Create"), Context())
    seed.lambda_handler(event("Delete"), Context())
    assert [a["Status"] for a in answers] == ["SUCCESS", "SUCCESS"]
    assert "META" in items(dynamodb)


def test_a_failing_seed_answers_failed_with_a_reason(
    dynamodb: Any, answers: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CATALOG_TABLE", "no-such-table")
    settings.reload()
    seed.lambda_handler(event("Create"), Context())
    assert [a["Status"] for a in answers] == ["FAILED"]
    assert "catalog seed failed" in answers[0]["Reason"]
    assert "Traceback" not in answers[0]["Reason"]


def test_too_little_time_answers_failed_without_writing(dynamodb: Any, answers: list[dict[str, Any]]) -> None:
    seed.lambda_handler(event("Create"), Context(remaining_ms=seed.SEED_BUDGET_MS))
    assert [a["Status"] for a in answers] == ["FAILED"]
    assert "TimeoutError" in answers[0]["Reason"]
    assert items(dynamodb) == {}


def test_the_answer_never_waits_longer_than_the_time_left(
    dynamodb: Any, answers: list[dict[str, Any]]
) -> None:
    seed.lambda_handler(event("Delete"), Context(remaining_ms=4_000))
    assert answers[0]["timeout"] <= 3.0
    seed.lambda_handler(event("Delete"), Context(remaining_ms=600_000))
    assert answers[1]["timeout"] == seed.MAX_ANSWER_TIMEOUT_S


def test_an_answer_that_cannot_be_delivered_fails_the_invocation_for_a_retry(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CATALOG_TABLE", create_catalog_table(dynamodb, "catalog2"))
    settings.reload()

    def unreachable(url: str, body: bytes, timeout: float) -> None:
        raise OSError("connection reset")

    monkeypatch.setattr(seed, "_send", unreachable)
    with pytest.raises(OSError):
        seed.lambda_handler(event("Create"), Context())


def test_only_https_answer_urls_are_used() -> None:
    with pytest.raises(ValueError, match="https"):
        seed._send("http://169.254.169.254/latest", b"{}", 1.0)
