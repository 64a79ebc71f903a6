"""The LiveAlias custom resource (bake mode) against moto's Lambda: creates `live` only when it is
missing, never moves it afterwards (Update and Delete make no Lambda call), and always answers
CloudFormation, with FAILED and a reason when it cannot do its job."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from handlers import live_alias
from scripts.moto_lambda import function_with_versions
from tests.integration.conftest import REGION

URL = "https://cloudformation-custom-resource-response.example/answer"


class Context:
    log_stream_name = "live-alias-stream"
    function_name = "live-alias"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:live-alias"
    aws_request_id = "live-alias-request"

    def __init__(self, remaining_ms: int = 60_000) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def api(aws_env: None) -> Iterator[tuple[Any, str]]:
    """Function "api" with published versions 1 and 2; yields (client, function ARN)."""
    with mock_aws():
        client, arn, _ = function_with_versions("api", ("v1", "v2"), live=None, region=REGION)
        yield client, arn


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    def send(url: str, body: bytes, timeout: float) -> None:
        sent.append({"url": url, "timeout": timeout, **json.loads(body)})

    monkeypatch.setattr(live_alias, "_send", send)
    return sent


def event(
    request_type: str, function_arn: str, version: str, physical_id: str | None = None
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "RequestType": request_type,
        "ResponseURL": URL,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/persona-router-prod/x",
        "RequestId": f"req-{request_type}",
        "LogicalResourceId": "LiveAlias",
        "ResourceType": "Custom::LiveAlias",
        "ResourceProperties": {
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:live-alias",
            "FunctionArn": function_arn,
            "AliasName": "live",
            "Version": f"{function_arn}:{version}",
        },
    }
    if physical_id:
        found["PhysicalResourceId"] = physical_id
    return found


def live(client: Any) -> dict[str, Any]:
    found: dict[str, Any] = client.get_alias(FunctionName="api", Name="live")
    return found


def test_create_makes_live_on_the_published_version_when_it_is_missing(
    api: tuple[Any, str], answers: list[dict[str, Any]]
) -> None:
    client, arn = api
    live_alias.lambda_handler(event("Create", arn, "2"), Context())
    assert live(client)["FunctionVersion"] == "2"
    [answer] = answers
    assert answer["Status"] == "SUCCESS" and answer["url"] == URL
    assert answer["PhysicalResourceId"] == f"{arn}:live"
    assert answer["Data"] == {"AliasArn": f"{arn}:live", "Name": "live", "Created": "true"}
    assert answer["RequestId"] == "req-Create" and answer["LogicalResourceId"] == "LiveAlias"


def test_create_leaves_an_existing_live_alias_and_its_weights(
    api: tuple[Any, str], answers: list[dict[str, Any]]
) -> None:
    client, arn = api
    client.create_alias(
        FunctionName="api",
        Name="live",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.05}},
    )
    before = live(client)
    live_alias.lambda_handler(event("Create", arn, "2"), Context())
    after = live(client)
    assert after["FunctionVersion"] == "1"
    assert after["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.05}}
    assert after["RevisionId"] == before["RevisionId"]
    assert answers[0]["Status"] == "SUCCESS" and answers[0]["Data"]["Created"] == "false"


@pytest.mark.parametrize("request_type", ["Update", "Delete"])
def test_update_and_delete_never_touch_the_alias(
    api: tuple[Any, str], answers: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, request_type: str
) -> None:
    client, arn = api
    live_alias.lambda_handler(event("Create", arn, "1"), Context())
    client.update_alias(
        FunctionName="api", Name="live", RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}}
    )  # the controller's weights
    before = live(client)

    def no_lambda() -> Any:
        raise AssertionError("Update and Delete must make no Lambda call")

    monkeypatch.setattr(live_alias, "_lambda_client", no_lambda)
    # A deploy publishes version 2: CloudFormation sends an Update with the new version.
    live_alias.lambda_handler(event(request_type, arn, "2", physical_id=f"{arn}:live"), Context())
    after = live(client)
    assert (after["FunctionVersion"], after["RevisionId"]) == ("1", before["RevisionId"])
    assert after["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.5}}
    assert answers[-1]["Status"] == "SUCCESS"
    assert answers[-1]["PhysicalResourceId"] == f"{arn}:live"  # same id: no replacement
    if request_type == "Update":
        assert answers[-1]["Data"]["AliasArn"] == f"{arn}:live"


def test_a_failed_create_answers_failed_with_the_reason(
    api: tuple[Any, str], answers: list[dict[str, Any]]
) -> None:
    client, arn = api
    live_alias.lambda_handler(event("Create", arn, "9"), Context())  # no such version
    [answer] = answers
    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith("live alias:") and answer["RequestId"] == "req-Create"
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        live(client)


def test_bad_properties_fail_create_but_never_a_delete(
    api: tuple[Any, str], answers: list[dict[str, Any]]
) -> None:
    _, arn = api
    live_alias.lambda_handler(event("Create", arn, "$LATEST"), Context())
    live_alias.lambda_handler(
        event("Delete", "not-an-arn", "1", physical_id="live-alias-LiveAlias"), Context()
    )
    assert [a["Status"] for a in answers] == ["FAILED", "SUCCESS"]
    assert "not a published version" in answers[0]["Reason"]
    assert answers[1]["PhysicalResourceId"] == "live-alias-LiveAlias"


def test_too_little_time_left_answers_failed_without_calling_lambda(
    api: tuple[Any, str], answers: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, arn = api
    monkeypatch.setattr(live_alias, "_lambda_client", lambda: pytest.fail("no time for Lambda calls"))
    remaining = live_alias.CALLS_BUDGET_MS + live_alias.ANSWER_RESERVE_MS - 1
    live_alias.lambda_handler(event("Create", arn, "2"), Context(remaining_ms=remaining))
    assert answers[0]["Status"] == "FAILED" and "TimeoutError" in answers[0]["Reason"]
    assert answers[0]["timeout"] <= remaining / 1000


def test_an_aws_error_still_gets_an_answer(
    api: tuple[Any, str], answers: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, arn = api

    class Broken:
        class exceptions:  # mirrors botocore's client.exceptions
            ResourceNotFoundException = KeyError
            ResourceConflictException = KeyError

        def get_alias(self, **_: Any) -> None:
            raise ConnectionError("endpoint unreachable")

    monkeypatch.setattr(live_alias, "_lambda_client", Broken)
    live_alias.lambda_handler(event("Create", arn, "2"), Context())
    assert answers[0]["Status"] == "FAILED" and "ConnectionError" in answers[0]["Reason"]


def test_an_undeliverable_answer_fails_the_invocation_so_lambda_retries(
    api: tuple[Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, arn = api

    def unreachable(url: str, body: bytes, timeout: float) -> None:
        raise OSError("S3 unreachable")

    monkeypatch.setattr(live_alias, "_send", unreachable)
    with pytest.raises(OSError, match="S3 unreachable"):
        live_alias.lambda_handler(event("Create", arn, "2"), Context())
    assert live(client)["FunctionVersion"] == "2"  # the retry finds it and leaves it


def test_the_answer_goes_to_https_only() -> None:
    with pytest.raises(ValueError, match="https"):
        live_alias._send("http://example.com/answer", b"{}", 1.0)
