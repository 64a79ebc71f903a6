"""Traffic hooks: the new version's answers to the smoke events decide what CodeDeploy hears.
Healthy answers come from the real handler (moto behind it); CodeDeploy and Lambda are
botocore Stubbers, so any call the hook should not make fails the test."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ReadTimeoutError
from botocore.response import StreamingBody
from botocore.stub import Stubber

from handlers import traffic_hooks
from tests.lambda_events import LambdaContext

TARGET = "arn:aws:lambda:us-east-1:123456789012:function:api:42"
HOOK_EVENT = {"DeploymentId": "d-ABC123", "LifecycleEventHookExecutionId": "hook-exec-1"}


def _payload(obj: Any) -> StreamingBody:
    raw = json.dumps(obj).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


def _real_answers() -> dict[str, dict[str, Any]]:
    from handlers.api import lambda_handler

    answers = {}
    for name in traffic_hooks.CHECKS:
        event = json.loads((traffic_hooks.SMOKE_DIR / f"{name}.json").read_text(encoding="utf-8"))
        answers[name] = lambda_handler(event, LambdaContext())
    return answers


def _run(
    monkeypatch: pytest.MonkeyPatch,
    answer: Callable[[str], dict[str, Any]],
    expected_status: str,
    lambda_client: Any | None = None,
) -> dict[str, str]:
    codedeploy = boto3.client("codedeploy", region_name="us-east-1")
    deploy_stub = Stubber(codedeploy)
    deploy_stub.add_response(
        "put_lifecycle_event_hook_execution_status",
        {"lifecycleEventHookExecutionId": "hook-exec-1"},
        {
            "deploymentId": "d-ABC123",
            "lifecycleEventHookExecutionId": "hook-exec-1",
            "status": expected_status,
        },
    )
    stubs = [deploy_stub]
    if lambda_client is None:
        lambda_client = boto3.client("lambda", region_name="us-east-1")
        lambda_stub = Stubber(lambda_client)
        for name in traffic_hooks.CHECKS:
            event = (traffic_hooks.SMOKE_DIR / f"{name}.json").read_text(encoding="utf-8")
            lambda_stub.add_response(
                "invoke",
                {"StatusCode": 200, "ExecutedVersion": "42", "Payload": _payload(answer(name))},
                {"FunctionName": TARGET, "InvocationType": "RequestResponse", "Payload": event},
            )
        stubs.append(lambda_stub)
    monkeypatch.setenv("TARGET_FUNCTION_VERSION_ARN", TARGET)
    monkeypatch.setattr(traffic_hooks, "_clients", lambda: (lambda_client, codedeploy))
    for stub in stubs:
        stub.activate()
    result = traffic_hooks.pre_traffic_handler(HOOK_EVENT, LambdaContext())
    for stub in stubs:
        stub.assert_no_pending_responses()
        stub.deactivate()
    return result


def test_a_healthy_version_reports_succeeded(service: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = _real_answers()
    assert _run(monkeypatch, lambda name: answers[name], "Succeeded") == {"status": "Succeeded"}


def test_a_version_answering_500_reports_failed(service: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = _real_answers()
    broken = {**answers["route_valid"], "statusCode": 500}
    result = _run(monkeypatch, lambda name: broken if name == "route_valid" else answers[name], "Failed")
    assert result == {"status": "Failed"}


def test_a_wrong_shape_reports_failed(service: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = _real_answers()
    body = json.loads(answers["route_valid"]["body"])
    del body["confidence"]
    wrong = {**answers["route_valid"], "body": json.dumps(body)}
    assert _run(monkeypatch, lambda name: wrong if name == "route_valid" else answers[name], "Failed") == {
        "status": "Failed"
    }


def test_missing_security_headers_report_failed(service: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = _real_answers()
    bare = {"statusCode": 200, "body": answers["health"]["body"]}
    assert (
        _run(monkeypatch, lambda name: bare if name == "health" else answers[name], "Failed")["status"]
        == "Failed"
    )


class _TimingOut:
    """A Lambda client whose every invoke times out; it counts the calls."""

    def __init__(self) -> None:
        self.calls = 0

    def invoke(self, **_: Any) -> Any:
        self.calls += 1
        raise ReadTimeoutError(endpoint_url="https://lambda.us-east-1.amazonaws.com")


def test_a_timeout_reports_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    client = _TimingOut()
    assert _run(monkeypatch, lambda name: {}, "Failed", lambda_client=client) == {"status": "Failed"}
    assert client.calls == len(traffic_hooks.CHECKS)


def test_a_crash_still_reports_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    class Exploding:
        def invoke(self, **_: Any) -> Any:
            return {"StatusCode": 200, "Payload": None}  # .read() on None raises inside the check

    assert _run(monkeypatch, lambda name: {}, "Failed", lambda_client=Exploding()) == {"status": "Failed"}


def test_smoke_copies_match_the_events() -> None:
    for name in traffic_hooks.CHECKS:
        shipped = (traffic_hooks.SMOKE_DIR / f"{name}.json").read_text(encoding="utf-8")
        source = (traffic_hooks.SMOKE_DIR.parents[2] / "events" / f"{name}.json").read_text(encoding="utf-8")
        assert shipped == source, name
