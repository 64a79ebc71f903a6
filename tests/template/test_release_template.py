"""template.yaml, release half: the controller and hooks are wired to the release topic and to
CodeDeploy with least privilege, alarms on the controller reach the topic, and each release mode
gives the clients' alias one owner: SAM/CodeDeploy in canary mode, the rollout controller in bake
mode, where deploys only ever write `deployed`."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from core.release.deploy_release import parse_plan
from core.shared.errors import ValidationFailed
from scripts.translate_template import translate
from tests.template.test_template import (
    DEPLOYMENT_GROUP_ARN,
    ENVIRONMENTS,
    actions,
    environment_parameters,
    resolve,
    statements,
    translated,
)

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


def _bake(**extra: str) -> dict[str, Any]:
    """prod's parameters (bake mode) with `extra` on top."""
    return translate(parameters={**environment_parameters("prod"), **extra})


def _canary_prod() -> dict[str, Any]:
    return _bake(ReleaseMode="canary", DeployAlias="live")


def test_environments_choose_their_release_mode_and_plan() -> None:
    modes = {env: environment_parameters(env)["ReleaseMode"] for env in ENVIRONMENTS}
    assert modes == {"dev": "canary", "staging": "bake", "prod": "bake"}
    for env in ENVIRONMENTS:
        parameters = environment_parameters(env)
        assert parameters["DeployAlias"] == ("deployed" if modes[env] == "bake" else "live")
        assert parameters["ReleaseOverride"] == "none"  # an override given once does not stay
    pattern = re.compile(translated("prod")["Parameters"]["ReleasePlan"]["AllowedPattern"])
    for env in ("staging", "prod"):
        plan = environment_parameters(env)["ReleasePlan"]
        assert pattern.match(plan), plan
        stages = parse_plan(plan)  # what the pre-traffic hook will start
        assert stages[0].weight == 0.05 and stages[-1].weight == 1.0
    staging = parse_plan(environment_parameters("staging")["ReleasePlan"])
    prod = parse_plan(environment_parameters("prod")["ReleasePlan"])
    assert sum(s.bake_hours for s in staging) <= 24  # a rehearsal, not a real bake
    assert prod[-1].approval_required and not staging[-1].approval_required
    assert any(s.ab_report for s in prod)


def test_bake_mode_deploys_to_deployed_and_leaves_live_to_the_controller() -> None:
    template = translated("prod")
    resources = template["Resources"]
    aliases = {k: v for k, v in resources.items() if v["Type"] == "AWS::Lambda::Alias"}
    # No CloudFormation alias of ApiFunction is named live: CloudFormation never writes it.
    assert {v["Properties"]["Name"] for k, v in aliases.items() if k.startswith("ApiFunction")} == {
        "deployed"
    }
    update = resources["ApiFunctionAliasdeployed"]["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
    assert update["DeploymentGroupName"] == {"Ref": "ApiFunctionDeploymentGroup"}
    assert update["BeforeAllowTrafficHook"] == {"Ref": "PreTrafficHookFunction"}
    # `live` comes from the LiveAlias custom resource, created on the version being published.
    live = resources["LiveAlias"]
    assert live["Type"] == "Custom::LiveAlias" and live["Condition"] == "IsBake"
    assert live["Properties"]["AliasName"] == "live"
    assert live["Properties"]["FunctionArn"] == {"Fn::GetAtt": ["ApiFunction", "Arn"]}
    assert live["Properties"]["Version"]["Ref"].startswith("ApiFunctionVersion")
    assert live["Properties"]["ServiceToken"] == {"Fn::GetAtt": ["LiveAliasFunction", "Arn"]}
    assert resources["LiveAliasFunction"]["Properties"]["Handler"] == "handlers.live_alias.lambda_handler"
    assert resources["LiveAliasFunction"]["Condition"] == "IsBake"
    # It may read and create that alias, nothing else.
    granted = _granted("prod", "LiveAliasFunctionRole")
    live_arn = json.dumps({"Fn::Sub": "${ApiFunction.Arn}:live"})
    assert granted == {"lambda:GetAlias": {live_arn}, "lambda:CreateAlias": {live_arn}}


def test_api_gateway_may_invoke_only_the_clients_alias_from_this_api() -> None:
    resources = translated("prod")["Resources"]
    permissions = {
        k: v
        for k, v in resources.items()
        if v["Type"] == "AWS::Lambda::Permission"
        and v["Properties"]["Principal"] == "apigateway.amazonaws.com"
        and "Admin" not in k
    }
    assert set(permissions) == {"ApiInvokePermission", "LiveAliasInvokePermission"}
    canary, bake = permissions["ApiInvokePermission"], permissions["LiveAliasInvokePermission"]
    assert canary["Condition"] == "IsCanary" and bake["Condition"] == "IsBake"
    assert canary["Properties"]["FunctionName"] == {"Ref": "ApiFunctionAliasdeployed"}  # SAM's alias
    # The controller's alias, and only once LiveAlias has made sure it exists.
    assert bake["Properties"]["FunctionName"] == {"Fn::GetAtt": ["LiveAlias", "AliasArn"]}
    for permission in (canary, bake):
        assert permission["Properties"]["Action"] == "lambda:InvokeFunction"
        assert permission["Properties"]["SourceArn"] == {
            "Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${PersonaApi}/*"
        }
    conditions = translated("prod")["Conditions"]
    assert conditions["IsBake"] == {"Fn::Equals": [{"Ref": "ReleaseMode"}, "bake"]}
    assert conditions["IsCanary"] == {"Fn::Not": [{"Condition": "IsBake"}]}


def test_canary_mode_keeps_sams_live_alias_for_clients() -> None:
    template = _canary_prod()
    resources = template["Resources"]
    assert resources["ApiFunctionAliaslive"]["Properties"]["Name"] == "live"
    update = resources["ApiFunctionAliaslive"]["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
    assert update["BeforeAllowTrafficHook"] == {"Ref": "PreTrafficHookFunction"}
    assert "ApiFunctionAliasdeployed" not in resources
    assert resources["ApiInvokePermission"]["Properties"]["FunctionName"] == {"Ref": "ApiFunctionAliaslive"}
    assert template["Outputs"]["ApiFunctionLiveAlias"]["Value"]["Fn::If"][2] == {
        "Ref": "ApiFunctionAliaslive"
    }


def test_the_outputs_name_the_clients_alias_and_the_deploy_alias() -> None:
    outputs = translated("prod")["Outputs"]
    assert outputs["ApiFunctionLiveAlias"]["Value"] == {
        "Fn::If": ["IsBake", {"Fn::GetAtt": ["LiveAlias", "AliasArn"]}, {"Ref": "ApiFunctionAliasdeployed"}]
    }
    assert outputs["ApiFunctionDeployAlias"]["Value"] == {"Ref": "ApiFunctionAliasdeployed"}


def _rule_holds(rule: dict[str, Any], parameters: dict[str, str]) -> bool:
    def value(node: Any) -> Any:
        if isinstance(node, dict) and "Ref" in node:
            return parameters[node["Ref"]]
        if isinstance(node, dict) and "Fn::Equals" in node:
            left, right = node["Fn::Equals"]
            return value(left) == value(right)
        return node

    if "RuleCondition" in rule and not value(rule["RuleCondition"]):
        return True
    return all(value(assertion["Assert"]) for assertion in rule["Assertions"])


@pytest.mark.parametrize(
    ("mode", "alias", "allowed"),
    [
        ("bake", "deployed", True),
        ("bake", "live", False),
        ("canary", "live", True),
        ("canary", "deployed", True),
    ],
)
def test_the_rule_refuses_bake_mode_on_the_live_alias(mode: str, alias: str, allowed: bool) -> None:
    """CloudFormation checks Rules before it changes anything. Canary on `deployed` is the
    middle step of a mode switch (docs/rollouts.md)."""
    template = translated("prod")
    assert template["Parameters"]["ReleaseMode"]["AllowedValues"] == ["canary", "bake"]
    assert template["Parameters"]["DeployAlias"]["AllowedValues"] == ["live", "deployed"]
    rule = template["Rules"]["BakeDeploysToTheDeployedAlias"]
    assert _rule_holds(rule, {"ReleaseMode": mode, "DeployAlias": alias}) is allowed


def test_bake_mode_on_live_would_give_the_alias_two_owners() -> None:
    """What the rule prevents: SAM would make `live` a CloudFormation alias beside LiveAlias."""
    resources = _bake(DeployAlias="live")["Resources"]
    assert resources["ApiFunctionAliaslive"]["Type"] == "AWS::Lambda::Alias"
    assert resources["LiveAlias"]["Properties"]["AliasName"] == "live"


def test_the_pre_traffic_hook_may_start_a_bake_in_bake_mode_only() -> None:
    resources = translated("prod")["Resources"]
    variables = resources["PreTrafficHookFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["API_FUNCTION_NAME"] == {"Ref": "ApiFunction"}
    assert variables["ROLLOUT_TABLE"] == {"Ref": "RolloutStateTable"}
    assert variables["RELEASE_TOPIC_ARN"] == {"Ref": "AlarmTopic"}
    assert variables["DEPLOYMENT_APPLICATION"] == {"Ref": "ServerlessDeploymentApplication"}
    assert variables["DEPLOYMENT_GROUP"] == {"Ref": "ApiFunctionDeploymentGroup"}
    document = resources["PreTrafficHookFunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    conditional = [s["Fn::If"] for s in document["Statement"] if "Fn::If" in s]
    assert conditional and all(c[0] == "IsBake" and c[2] == {"Ref": "AWS::NoValue"} for c in conditional)
    granted: dict[str, set[str]] = {}
    for _, statement, _ in conditional:
        for action in actions(statement):
            granted.setdefault(action, set()).add(json.dumps(statement["Resource"], sort_keys=True))
    table = json.dumps({"Fn::GetAtt": ["RolloutStateTable", "Arn"]})
    key = json.dumps({"Fn::GetAtt": ["AlarmTopicKey", "Arn"]})
    assert granted == {
        "dynamodb:GetItem": {table},
        "dynamodb:Query": {table},
        "dynamodb:PutItem": {table},
        "lambda:GetAlias": {json.dumps({"Fn::Sub": "${ApiFunction.Arn}:live"})},
        "lambda:UpdateAlias": {json.dumps({"Fn::Sub": "${ApiFunction.Arn}:live"})},
        "codedeploy:ListDeployments": {json.dumps({"Fn::Sub": DEPLOYMENT_GROUP_ARN})},
        "cloudwatch:GetMetricData": {'"*"'},
        "sns:Publish": {json.dumps({"Ref": "AlarmTopic"})},
        "kms:GenerateDataKey": {key},
        "kms:Decrypt": {key},
    }
    # The post-traffic hook only smoke-tests.
    post = resources["PostTrafficHookFunction"]["Properties"]["Environment"]["Variables"]
    assert set(post) >= {"TARGET_FUNCTION_VERSION_ARN"} and "RELEASE_MODE" not in post


def test_a_hook_has_time_to_start_the_bake_after_its_smoke_tests() -> None:
    pre = translated("prod")["Resources"]["PreTrafficHookFunction"]["Properties"]["Timeout"]
    post = translated("prod")["Resources"]["PostTrafficHookFunction"]["Properties"]["Timeout"]
    assert pre >= post + 60


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_deploy_alarms_watch_the_new_version_on_the_clients_alias(env: str) -> None:
    resources = translated(env)["Resources"]
    for alarm in ("ApiNewVersionErrorsAlarm", "ApiNewVersionLatencyAlarm"):
        [resource] = [
            d["Value"] for d in resources[alarm]["Properties"]["Dimensions"] if d["Name"] == "Resource"
        ]
        text, variables = resource["Fn::Sub"]
        assert text == "${ApiFunction}:${Client}"
        assert resolve(env, variables["Client"]) == "live"


def test_the_hooks_plan_grammar_matches_the_parameters_pattern() -> None:
    """Every ReleasePlan CloudFormation accepts is one the hook can start, and back."""
    pattern = re.compile(translated("prod")["Parameters"]["ReleasePlan"]["AllowedPattern"])
    for good in ("5:168,50:336:ab,100:0", "10:2,50:2:ab,100:0:approve", "5:1,50:2:ab:approve,100:0:approve"):
        assert pattern.match(good), good
        assert parse_plan(good)[-1].weight == 1.0
    assert [s.approval_required for s in parse_plan("10:2,50:2:ab,100:0:approve")] == [False, False, True]
    for bad in ("5:1,100:0:later", "5:1:approve:approve,100:0", "5,100:0"):
        with pytest.raises(ValidationFailed):
            parse_plan(bad)
    assert not pattern.match("5:1,100:0:later") and not pattern.match("5,100:0")
