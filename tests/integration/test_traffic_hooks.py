"""Traffic hooks: the new version's answers to the smoke events decide what CodeDeploy hears.
Healthy answers come from the real handler (moto behind it); CodeDeploy and Lambda are
botocore Stubbers, so any call the hook should not make fails the test. The deadline tests run
on a fake clock that slow invokes move forward."""

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

from core.shared import settings
from handlers import traffic_hooks
from scripts.local_env import function_settings
from tests.lambda_events import LambdaContext

TARGET = "arn:aws:lambda:us-east-1:123456789012:function:api:42"
HOOK_EVENT = {"DeploymentId": "d-ABC123", "LifecycleEventHookExecutionId": "hook-exec-1"}
# What a hook invocation has left when it starts: its Lambda timeout in template.yaml.
HOOK_TIMEOUT_MS = int(function_settings("PreTrafficHookFunction")["timeout"] * 1000)


class HookContext(LambdaContext):
    """A Lambda context whose remaining time counts down on the hook's clock."""

    def __init__(self, remaining_ms: int = HOOK_TIMEOUT_MS) -> None:
        super().__init__()
        self.ends_at = traffic_hooks._now() + remaining_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.ends_at - traffic_hooks._now()) * 1000))


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


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
    settings.reload()
    monkeypatch.setattr(traffic_hooks, "_clients", lambda: (lambda_client, codedeploy))
    for stub in stubs:
        stub.activate()
    result = traffic_hooks.pre_traffic_handler(HOOK_EVENT, HookContext())
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


def _invoke_response(answer: dict[str, Any]) -> dict[str, Any]:
    return {"StatusCode": 200, "ExecutedVersion": "42", "Payload": _payload(answer)}


def _with_route_body(answers: dict[str, dict[str, Any]], **changes: Any) -> dict[str, Any]:
    body = {**json.loads(answers["route_valid"]["body"]), **changes}
    return {**answers["route_valid"], "body": json.dumps(body)}


def test_the_route_check_accepts_any_persona_the_catalog_picks(service: Any) -> None:
    """An operator's catalog edit may change who wins the smoke key; the deploy must not fail."""
    answers = _real_answers()
    scores = json.loads(answers["route_valid"]["body"])["scores"]
    runner_up = sorted(p for p in scores if p != json.loads(answers["route_valid"]["body"])["persona"])[0]
    edited = _with_route_body(answers, persona=runner_up, confidence=0.41)
    assert traffic_hooks.check_response("route_valid", _invoke_response(edited)) is None


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"persona": "Nobody"}, "not one of the scored personas"),
        ({"persona": 7}, "not one of the scored personas"),
        ({"scores": {}}, "scores is not a non-empty object"),
        ({"confidence": 1.2}, "confidence"),
        ({"confidence": -0.1}, "confidence"),
        ({"confidence": "0.8"}, "confidence"),
        ({"confidence": True}, "confidence"),
        ({"resonance": {"normalized_key": "calm-medium-learning"}}, "normalized_key"),
        ({"resonance": None}, "normalized_key"),
    ],
)
def test_the_route_check_rejects_a_wrong_shape(service: Any, changes: dict[str, Any], problem: str) -> None:
    answers = _real_answers()
    found = traffic_hooks.check_response(
        "route_valid", _invoke_response(_with_route_body(answers, **changes))
    )
    assert found is not None and problem in found


def test_the_smoke_key_is_the_one_the_route_event_sends() -> None:
    event = json.loads((traffic_hooks.SMOKE_DIR / "route_valid.json").read_text(encoding="utf-8"))
    assert json.loads(event["body"])["resonance_key"] == traffic_hooks.ROUTE_SMOKE_KEY


class ModelThatMustNotBeCalled:
    """A model backend as the bedrock stages have one; the smoke event must never reach it."""

    name = "bedrock"
    model = "must-not-be-called"

    def __init__(self) -> None:
        self.calls = 0

    def complete(self, system: str, user: str) -> Any:
        self.calls += 1
        raise AssertionError("a smoke event called the model")


def test_the_chat_route_is_smoke_tested_without_a_model_call(
    service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handlers.api import lambda_handler
    from handlers.common import deps

    backend = ModelThatMustNotBeCalled()
    deps.reset()
    monkeypatch.setattr(deps, "model_backend", lambda: backend)
    event = json.loads((traffic_hooks.SMOKE_DIR / "chat_invalid_key.json").read_text(encoding="utf-8"))
    answer = lambda_handler(event, LambdaContext())
    assert backend.calls == 0
    assert traffic_hooks.check_response("chat_invalid_key", _invoke_response(answer)) is None
    # The check is not satisfied by an answer that went on to the model.
    answered = {**answer, "statusCode": 200}
    assert traffic_hooks.check_response("chat_invalid_key", _invoke_response(answered)) is not None


def test_a_chat_route_that_fails_reports_failed(service: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = _real_answers()
    unavailable = {**answers["chat_invalid_key"], "statusCode": 503}
    result = _run(
        monkeypatch, lambda name: unavailable if name == "chat_invalid_key" else answers[name], "Failed"
    )
    assert result == {"status": "Failed"}


class SlowLambda:
    """Every invoke uses its whole worst case (connect + read timeout) on the fake clock and then
    times out; it counts the calls."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.calls = 0

    def invoke(self, **_: Any) -> Any:
        self.calls += 1
        self.clock.now += traffic_hooks.INVOKE_WORST_CASE_SECONDS
        raise ReadTimeoutError(endpoint_url="https://lambda.us-east-1.amazonaws.com")


class RecordingCodeDeploy:
    """Records each report with the time on the fake clock when it was made."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.reports: list[tuple[str, float]] = []

    def put_lifecycle_event_hook_execution_status(self, **kwargs: Any) -> dict[str, Any]:
        self.reports.append((kwargs["status"], self.clock.now))
        return {"lifecycleEventHookExecutionId": kwargs["lifecycleEventHookExecutionId"]}


def _run_slow(
    monkeypatch: pytest.MonkeyPatch, remaining_ms: int
) -> tuple[SlowLambda, RecordingCodeDeploy, float]:
    clock = FakeClock()
    monkeypatch.setattr(traffic_hooks, "_now", clock)
    lambda_client, codedeploy = SlowLambda(clock), RecordingCodeDeploy(clock)
    monkeypatch.setattr(traffic_hooks, "_clients", lambda: (lambda_client, codedeploy))
    monkeypatch.setenv("TARGET_FUNCTION_VERSION_ARN", TARGET)
    settings.reload()
    context = HookContext(remaining_ms)
    assert traffic_hooks.post_traffic_handler(HOOK_EVENT, context) == {"status": "Failed"}
    return lambda_client, codedeploy, context.ends_at


def test_the_deadline_stops_invoking_and_leaves_time_to_report(monkeypatch: pytest.MonkeyPatch) -> None:
    # 60 s, the hooks' former timeout: six invokes of 13 s each could not fit, and a hook killed
    # by Lambda never reports.
    lambda_client, codedeploy, ends_at = _run_slow(monkeypatch, remaining_ms=60_000)
    budget = 60 - traffic_hooks.REPORT_RESERVE_SECONDS
    assert lambda_client.calls == budget // traffic_hooks.INVOKE_WORST_CASE_SECONDS
    assert 0 < lambda_client.calls < len(traffic_hooks.CHECKS)
    [(status, reported_at)] = codedeploy.reports
    assert status == "Failed"
    assert ends_at - reported_at >= traffic_hooks.REPORT_RESERVE_SECONDS


def test_the_template_timeout_lets_every_smoke_test_time_out_and_still_report(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lambda_client, codedeploy, ends_at = _run_slow(monkeypatch, remaining_ms=HOOK_TIMEOUT_MS)
    assert lambda_client.calls == len(traffic_hooks.CHECKS)
    [(status, reported_at)] = codedeploy.reports
    assert status == "Failed"
    assert ends_at - reported_at >= traffic_hooks.REPORT_RESERVE_SECONDS


def test_no_time_left_reports_failed_without_invoking(monkeypatch: pytest.MonkeyPatch) -> None:
    lambda_client, codedeploy, _ = _run_slow(monkeypatch, remaining_ms=5_000)
    assert lambda_client.calls == 0
    assert [status for status, _ in codedeploy.reports] == ["Failed"]


def test_a_skipped_smoke_test_is_reported_as_a_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    monkeypatch.setattr(traffic_hooks, "_now", clock)
    problems = traffic_hooks.run_smoke_tests(SlowLambda(clock), TARGET, deadline=clock.now + 15)
    names = list(traffic_hooks.CHECKS)
    assert problems[0] == f"{names[0]}: invoke failed (ReadTimeoutError)"
    assert problems[-1] == f"not run before the hook's deadline: {names[1:]}"


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
