"""template.yaml, release half: the controller and hooks are wired to the release topic and to
CodeDeploy with least privilege, alarms on the controller reach the topic, and the release mode
the template offers is one whose client alias no deploy can break."""

from __future__ import annotations

import json

import pytest

from tests.template.test_template import ENVIRONMENTS, actions, statements, translated

pytestmark = pytest.mark.template


def _granted(env: str, role: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for statement in statements(env, role):
        assert statement["Effect"] == "Allow"
        for action in actions(statement):
            found.setdefault(action, set()).add(json.dumps(statement["Resource"], sort_keys=True))
    return found


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_controller_publishes_every_transition_to_the_encrypted_topic(env: str) -> None:
    template = translated(env)["Resources"]
    variables = template["RolloutControllerFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["RELEASE_TOPIC_ARN"] == {"Ref": "AlarmTopic"}
    assert variables["DEPLOYMENT_APPLICATION"] == {"Ref": "ServerlessDeploymentApplication"}
    assert variables["DEPLOYMENT_GROUP"] == {"Ref": "ApiFunctionDeploymentGroup"}
    granted = _granted(env, "RolloutControllerFunctionRole")
    assert granted["sns:Publish"] == {json.dumps({"Ref": "AlarmTopic"})}
    key = json.dumps({"Fn::GetAtt": ["AlarmTopicKey", "Arn"]})
    assert granted["kms:GenerateDataKey"] == {key} and granted["kms:Decrypt"] == {key}
    assert template["AlarmTopic"]["Properties"]["KmsMasterKeyId"] == {"Ref": "AlarmTopicKey"}
    [group] = granted["codedeploy:ListDeployments"]
    assert "deploymentgroup:${ServerlessDeploymentApplication}/${ApiFunctionDeploymentGroup}" in group
    # Only the alias the controller owns, nothing CloudFormation's other aliases.
    assert granted["lambda:UpdateAlias"] == {json.dumps({"Fn::Sub": "${ApiFunction.Arn}:live"})}


def test_controller_errors_and_rollbacks_alarm_to_the_topic() -> None:
    template = translated("prod")["Resources"]
    errors = template["RolloutControllerErrorsAlarm"]["Properties"]
    watched = {
        (
            m["MetricStat"]["Metric"]["Namespace"]
            if isinstance(m["MetricStat"]["Metric"]["Namespace"], str)
            else "ns",
            m["MetricStat"]["Metric"]["MetricName"],
        )
        for m in errors["Metrics"]
        if "MetricStat" in m
    }
    assert watched == {("ns", "RolloutFailures"), ("AWS/Lambda", "Errors")}
    rollbacks = template["RolloutRollbacksAlarm"]["Properties"]
    assert rollbacks["MetricName"] == "RolloutRollbacks"
    assert rollbacks["Namespace"] == {"Ref": "MetricsNamespace"}
    for alarm in (errors, rollbacks):
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
        assert alarm["Threshold"] == 1 and alarm["TreatMissingData"] == "notBreaching"


def test_the_pre_traffic_hook_gets_the_release_settings() -> None:
    template = translated("prod")["Resources"]
    variables = template["PreTrafficHookFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["RELEASE_MODE"] == {"Ref": "ReleaseMode"}
    assert variables["RELEASE_PLAN"] == {"Ref": "ReleasePlan"}
    assert variables["RELEASE_OVERRIDE"] == {"Ref": "ReleaseOverride"}


def test_only_canary_mode_is_offered_while_the_api_integrates_through_sam_events() -> None:
    """SAM points every function event at the AutoPublishAlias alias, which CodeDeploy shifts.
    Bake mode needs the public API to call a `live` alias no deploy touches, so it is offered
    only once the integrations stop coming from function events (docs/rollouts.md)."""
    template = translated("prod")
    assert template["Parameters"]["ReleaseMode"]["AllowedValues"] == ["canary"]
    body = json.dumps(template["Resources"]["PersonaApi"]["Properties"]["Body"])
    assert "${ApiFunctionAliaslive}/invocations" in body
