"""The deploy path through the pre-traffic hook handler: Lambda versions and aliases and the
rollout table in moto, CodeDeploy (list_deployments, put_lifecycle_event_hook_execution_status)
through botocore's Stubber, and release notifications read back from an SQS queue subscribed to
the SNS topic in moto. The smoke tests themselves are covered by test_traffic_hooks.py; here
they pass, so what is tested is what a deploy does after them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from core.release.adapters.codedeploy_deployments import RUNNING, CodeDeployDeployments
from core.release.adapters.dynamodb_rollouts import DynamoDBRolloutStore
from core.shared import settings
from handlers import rollout_schedule, traffic_hooks
from scripts.moto_lambda import function_with_versions
from tests.integration.conftest import REGION, create_table
from tests.lambda_events import LambdaContext

APP, GROUP = "persona-app", "persona-api-group"
DEPLOYMENT = "d-NEWDEPLOY1"


@dataclass
class Stack:
    lambda_client: Any
    store: DynamoDBRolloutStore
    queue_url: str
    sqs: Any
    topic_arn: str

    def live(self) -> tuple[str, dict[str, float]]:
        found = self.lambda_client.get_alias(FunctionName="api", Name="live")
        return found["FunctionVersion"], (found.get("RoutingConfig") or {}).get(
            "AdditionalVersionWeights"
        ) or {}

    def messages(self) -> list[dict[str, Any]]:
        found = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not batch:
                return found
            for message in batch:
                found.append(json.loads(json.loads(message["Body"])["Message"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def stack(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """Function "api" with versions 1 (alone on `live`), 2 and 3; the rollout table; the release
    topic with a queue subscribed; the hooks' environment in bake mode."""
    with mock_aws():
        client, _, _ = function_with_versions("api", ("v1", "v2", "v3"), region=REGION)
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        table = create_table(dynamodb, "rollouts", ["pk", "sk"])
        sns = boto3.client("sns", region_name=REGION)
        topic = sns.create_topic(Name="release")["TopicArn"]
        sqs = boto3.client("sqs", region_name=REGION)
        queue = sqs.create_queue(QueueName="release-inbox")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
        for name, value in {
            "RELEASE_MODE": "bake",
            "RELEASE_PLAN": "5:24,50:48:ab,100:0",
            "RELEASE_OVERRIDE": "none",
            "API_FUNCTION_NAME": "api",
            "ROLLOUT_TABLE": table,
            "RELEASE_TOPIC_ARN": topic,
            "DEPLOYMENT_APPLICATION": APP,
            "DEPLOYMENT_GROUP": GROUP,
            "POWERTOOLS_METRICS_NAMESPACE": "PersonaRouter/test",
        }.items():
            monkeypatch.setenv(name, value)
        settings.reload()
        # Smoke tests pass (test_traffic_hooks.py covers them); what follows them is under test.
        monkeypatch.setattr(traffic_hooks, "run_smoke_tests", lambda *_: [])
        yield Stack(client, DynamoDBRolloutStore(table, client=dynamodb), queue, sqs, topic)


class CodeDeploy:
    """One stubbed CodeDeploy client for the hook's report and the controller's deployment check,
    in the order they happen."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.client = boto3.client("codedeploy", region_name=REGION)
        self.stub = Stubber(self.client)
        monkeypatch.setattr(traffic_hooks, "_clients", lambda: (object(), self.client))
        monkeypatch.setattr(
            rollout_schedule, "_deployments", lambda: CodeDeployDeployments(APP, GROUP, client=self.client)
        )

    def deployments(self, *ids: str) -> None:
        self.stub.add_response(
            "list_deployments",
            {"deployments": list(ids)},
            {"applicationName": APP, "deploymentGroupName": GROUP, "includeOnlyStatuses": RUNNING},
        )

    def ended(self, status: str, deployment: str = DEPLOYMENT) -> None:
        self.stub.add_response(
            "get_deployment", {"deploymentInfo": {"status": status}}, {"deploymentId": deployment}
        )

    def starts_bake(self, deployment: str = DEPLOYMENT) -> None:
        """The pre-traffic hook of `deployment` finds only itself running, so it starts the bake
        and reports success."""
        self.deployments(deployment)
        self.expect_report("Succeeded", deployment)

    def expect_report(self, status: str, deployment: str = DEPLOYMENT) -> None:
        self.stub.add_response(
            "put_lifecycle_event_hook_execution_status",
            {"lifecycleEventHookExecutionId": "hook-1"},
            {"deploymentId": deployment, "lifecycleEventHookExecutionId": "hook-1", "status": status},
        )


def _deploy(version: str, deployment: str = DEPLOYMENT) -> dict[str, str]:
    event = {"DeploymentId": deployment, "LifecycleEventHookExecutionId": "hook-1"}
    target = f"arn:aws:lambda:{REGION}:123456789012:function:api:{version}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TARGET_FUNCTION_VERSION_ARN", target)
        settings.reload()
        return traffic_hooks.pre_traffic_handler(event, LambdaContext())


def test_a_bake_mode_deploy_starts_the_bake_at_the_first_share(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    codedeploy = CodeDeploy(monkeypatch)
    # The deploy\'s own deployment is running: it does not block the bake it starts.
    codedeploy.starts_bake()
    with codedeploy.stub:
        assert _deploy("2") == {"status": "Succeeded"}
        codedeploy.stub.assert_no_pending_responses()
    assert stack.live() == ("1", {"2": 0.05})
    rollout = stack.store.get("api")
    assert rollout is not None
    assert (rollout.status, rollout.stable_version, rollout.candidate_version) == ("baking", "1", "2")
    assert [stage.weight for stage in rollout.plan] == [0.05, 0.5, 1.0]
    [message] = stack.messages()
    assert message["transition"] == "started"
    assert (message["stable_version"], message["candidate_version"]) == ("1", "2")
    assert (message["stage"], message["stage_weight"]) == (1, 0.05)
    assert message["rollout_id"] == f"api#{int(rollout.started_at)}"


def test_a_deploy_during_a_bake_is_refused_with_the_reason(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    codedeploy = CodeDeploy(monkeypatch)
    codedeploy.starts_bake("d-FIRST")
    codedeploy.expect_report("Failed")
    with codedeploy.stub:
        assert _deploy("2", "d-FIRST") == {"status": "Succeeded"}
        stack.messages()
        assert _deploy("3") == {"status": "Failed"}
        codedeploy.stub.assert_no_pending_responses()
    assert stack.live() == ("1", {"2": 0.05})  # the bake goes on untouched
    rollout = stack.store.get("api")
    assert rollout is not None and (rollout.status, rollout.candidate_version) == ("baking", "2")
    [message] = stack.messages()
    assert message["transition"] == "deploy_refused"
    assert message["deployment_id"] == DEPLOYMENT
    assert message["candidate_version"] == "2"
    assert "ReleaseOverride=rollback:2" in message["reason"] and "promote:2" in message["reason"]


def test_an_override_naming_the_bake_rolls_it_back_first_and_records_it(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    codedeploy = CodeDeploy(monkeypatch)
    codedeploy.starts_bake("d-FIRST")
    codedeploy.starts_bake()
    with codedeploy.stub:
        assert _deploy("2", "d-FIRST") == {"status": "Succeeded"}
        monkeypatch.setenv("RELEASE_OVERRIDE", "rollback:2")
        assert _deploy("3") == {"status": "Succeeded"}
        codedeploy.stub.assert_no_pending_responses()
    assert stack.live() == ("1", {"3": 0.05})
    rollout = stack.store.get("api")
    assert rollout is not None and (rollout.status, rollout.candidate_version) == ("baking", "3")
    messages = stack.messages()
    transitions = [(m["transition"], m["candidate_version"]) for m in messages]
    assert transitions == [("started", "2"), ("rolled_back", "2"), ("deploy_override", "2"), ("started", "3")]
    # The rollback says why: this deploy and its override, in the message and the audit history.
    for message in messages[1:3]:
        assert (
            f"deploy {DEPLOYMENT}" in message["reason"] and "ReleaseOverride=rollback:2" in message["reason"]
        )
    assert rollout.history[0].action == "start"


def test_an_override_naming_another_version_does_not_end_the_bake(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    codedeploy = CodeDeploy(monkeypatch)
    codedeploy.starts_bake("d-FIRST")
    codedeploy.expect_report("Failed")
    with codedeploy.stub:
        assert _deploy("2", "d-FIRST") == {"status": "Succeeded"}
        monkeypatch.setenv("RELEASE_OVERRIDE", "rollback:7")  # left over from an older bake
        assert _deploy("3") == {"status": "Failed"}
    assert stack.live() == ("1", {"2": 0.05})


def test_another_deployment_in_progress_refuses_the_bake(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    codedeploy = CodeDeploy(monkeypatch)
    codedeploy.deployments(DEPLOYMENT, "d-OTHER")
    codedeploy.expect_report("Failed")
    with codedeploy.stub:
        assert _deploy("2") == {"status": "Failed"}
        codedeploy.stub.assert_no_pending_responses()
    assert stack.live() == ("1", {})
    assert stack.store.get("api") is None
    [message] = stack.messages()
    assert message["transition"] == "deploy_refused" and "d-OTHER" in message["reason"]


def test_canary_mode_deploys_leave_live_and_the_rollout_table_alone(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELEASE_MODE", "canary")
    codedeploy = CodeDeploy(monkeypatch)
    codedeploy.expect_report("Succeeded")  # no deployment check: nothing is started
    with codedeploy.stub:
        assert _deploy("2") == {"status": "Succeeded"}
        codedeploy.stub.assert_no_pending_responses()
    assert stack.live() == ("1", {})
    assert stack.store.get("api") is None
    assert stack.messages() == []


def test_the_controller_announces_operator_actions_and_force_waits_for_codedeploy(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.shared.errors import Conflict

    codedeploy = CodeDeploy(monkeypatch)
    codedeploy.starts_bake("d-FIRST")
    codedeploy.deployments("d-SHIFTING")
    with codedeploy.stub:
        assert _deploy("2", "d-FIRST") == {"status": "Succeeded"}
        controller = rollout_schedule.build_controller("PersonaRouter/test")
        controller.act("api", "pause", "ticket 1")
        # Someone moves the alias; --force must not override a CodeDeploy shift in progress.
        stack.lambda_client.update_alias(
            FunctionName="api",
            Name="live",
            FunctionVersion="3",
            RoutingConfig={"AdditionalVersionWeights": {}},
        )
        with pytest.raises(Conflict, match="d-SHIFTING"):
            controller.act("api", "rollback", "give up", force=True)
        codedeploy.stub.assert_no_pending_responses()
    assert stack.live() == ("3", {})
    transitions = [m["transition"] for m in stack.messages()]
    assert transitions == ["started", "paused"]


def test_a_failing_tick_is_announced_as_a_controller_error(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    codedeploy = CodeDeploy(monkeypatch)
    codedeploy.starts_bake()
    with codedeploy.stub:
        assert _deploy("2") == {"status": "Succeeded"}
    stack.messages()
    controller = rollout_schedule.build_controller("PersonaRouter/test")

    def broken(*_: Any) -> Any:
        raise RuntimeError("state unreadable")

    monkeypatch.setattr(controller._store, "get", broken)  # all() still lists the rollout
    summary = controller.tick_all()
    assert "state unreadable" in summary.failures["api"]
    [message] = stack.messages()
    assert message["transition"] == "controller_error" and "state unreadable" in message["reason"]
    assert message["candidate_version"] == "2"


def test_a_bake_whose_deploy_rolled_back_is_rolled_back_by_the_next_run(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The pre-traffic hook started the bake, then an alarm or the post-traffic smoke test failed
    # the deployment: CloudFormation and CodeDeploy went back, so `live` must too.
    codedeploy = CodeDeploy(monkeypatch)
    codedeploy.starts_bake()
    codedeploy.ended("InProgress")
    codedeploy.ended("Failed")
    with codedeploy.stub:
        assert _deploy("2") == {"status": "Succeeded"}
        assert stack.live() == ("1", {"2": 0.05})
        controller = rollout_schedule.build_controller("PersonaRouter/test")
        assert controller.tick("api").action == "hold"  # still deploying: the bake stands
        decision = controller.tick("api")
        codedeploy.stub.assert_no_pending_responses()
    assert decision.action == "rollback" and DEPLOYMENT in decision.reason
    assert stack.live() == ("1", {})
    rollout = stack.store.get("api")
    assert rollout is not None and rollout.status == "rolled_back"
    assert [m["transition"] for m in stack.messages()] == ["started", "rolled_back"]
