"""template.yaml: cfn-lint clean, and the SAM translation (what CloudFormation receives) has
what the issues ask for — per environment, with the parameters samconfig.toml passes."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from scripts.translate_template import translate

pytestmark = pytest.mark.template
ROOT = Path(__file__).resolve().parents[2]
WRITE_ACTIONS = {
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:TransactWriteItems",
    "dynamodb:ConditionCheckItem",
    "dynamodb:*",
}


def environment_parameters(env: str) -> dict[str, str]:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    overrides = config[env]["deploy"]["parameters"]["parameter_overrides"]
    return dict(item.split("=", 1) for item in shlex.split(overrides))


@cache
def translated(env: str) -> dict[str, Any]:
    return translate(parameters=environment_parameters(env))


def resources(env: str, kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in translated(env)["Resources"].items() if v["Type"] == kind}


def statements(env: str, role: str) -> list[dict[str, Any]]:
    props = translated(env)["Resources"][role]["Properties"]
    found = []
    for policy in props.get("Policies", []):
        document = policy["PolicyDocument"]
        for statement in document["Statement"]:
            if isinstance(statement, dict) and "Fn::If" in statement:
                found.extend(s for s in statement["Fn::If"][1:] if isinstance(s, dict) and "Effect" in s)
            else:
                found.append(statement)
    return found


def actions(statement: dict[str, Any]) -> list[str]:
    value = statement["Action"]
    return [value] if isinstance(value, str) else list(value)


def test_cfn_lint_is_clean() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), str(ROOT / "template.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_translation_succeeds_for_every_environment(env: str) -> None:
    assert resources(env, "AWS::Lambda::Function")


def test_live_aliases_and_api_integration_through_them() -> None:
    aliases = resources("prod", "AWS::Lambda::Alias")
    assert {a["Properties"]["Name"] for a in aliases.values()} == {"live"}
    assert {"ApiFunctionAliaslive", "AdminFunctionAliaslive"} <= set(aliases)
    body = json.dumps(resources("prod", "AWS::ApiGateway::RestApi")["PersonaApi"]["Properties"]["Body"])
    assert "${ApiFunctionAliaslive}/invocations" in body and "${AdminFunctionAliaslive}/invocations" in body
    assert "${ApiFunction.Arn}/invocations" not in body


def test_tables_have_pitr_encryption_on_demand_and_prod_deletion_protection() -> None:
    tables = resources("prod", "AWS::DynamoDB::Table")
    assert set(tables) == {"CatalogTable", "SessionsTable", "IdempotencyTable", "RolloutStateTable"}
    for table in tables.values():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["SSESpecification"] == {"SSEEnabled": True}
        assert props["DeletionProtectionEnabled"] == {"Fn::If": ["IsProd", True, False]}
    assert tables["SessionsTable"]["Properties"]["TimeToLiveSpecification"]["AttributeName"] == "expires_at"
    assert (
        tables["IdempotencyTable"]["Properties"]["TimeToLiveSpecification"]["AttributeName"] == "expiration"
    )
    assert environment_parameters("prod")["Stage"] == "prod"


def test_admin_routes_need_iam_and_public_routes_do_not() -> None:
    paths = resources("prod", "AWS::ApiGateway::RestApi")["PersonaApi"]["Properties"]["Body"]["paths"]
    admin = paths["/v1/admin/personas/{name}"]
    for method in ("put", "delete"):
        assert {"AWS_IAM": []} in admin[method]["security"]
    route = paths["/v1/route"]["x-amazon-apigateway-any-method"]
    assert {"AWS_IAM": []} not in route.get("security", [])


def test_api_keys_in_staging_and_prod_only() -> None:
    for env in ("staging", "prod"):
        paths = resources(env, "AWS::ApiGateway::RestApi")["PersonaApi"]["Properties"]["Body"]["paths"]
        assert {"api_key": []} in paths["/v1/route"]["x-amazon-apigateway-any-method"]["security"], env
        assert resources(env, "AWS::ApiGateway::UsagePlan"), env
    dev = resources("dev", "AWS::ApiGateway::RestApi")["PersonaApi"]["Properties"]["Body"]["paths"]
    assert "security" not in dev["/v1/route"]["x-amazon-apigateway-any-method"]
    assert not resources("dev", "AWS::ApiGateway::UsagePlan")


def test_the_public_function_cannot_write_the_catalog() -> None:
    for statement in statements("prod", "ApiFunctionRole"):
        if json.dumps(statement["Resource"]).find("CatalogTable") >= 0:
            assert not WRITE_ACTIONS & set(actions(statement)), statement
    catalog_writes = [s for s in statements("prod", "AdminFunctionRole") if "dynamodb:PutItem" in actions(s)]
    assert catalog_writes and all("CatalogTable" in json.dumps(s["Resource"]) for s in catalog_writes)


def test_no_policy_uses_wildcard_actions_or_resources_except_get_metric_data() -> None:
    for logical in resources("prod", "AWS::IAM::Role"):
        if logical == "CodeDeployServiceRole":
            continue  # SAM's own role for CodeDeploy (managed policy)
        for statement in statements("prod", logical):
            assert not any(a.endswith("*") for a in actions(statement)), (logical, statement)
            if statement["Resource"] == "*":
                assert actions(statement) == ["cloudwatch:GetMetricData"], (logical, statement)


def test_bedrock_is_allowed_only_for_the_configured_model() -> None:
    bedrock = [s for s in statements("prod", "ApiFunctionRole") if "bedrock:InvokeModel" in actions(s)]
    assert len(bedrock) == 1
    assert "foundation-model/${BedrockModelId}" in json.dumps(bedrock[0]["Resource"])
    role = translated("prod")["Resources"]["ApiFunctionRole"]["Properties"]["Policies"]
    assert "UseBedrock" in json.dumps(role)  # and only when the backend is bedrock


def test_codedeploy_application_and_groups_shift_the_alias() -> None:
    prod = translated("prod")["Resources"]
    assert resources("prod", "AWS::CodeDeploy::Application")
    group = prod["ApiFunctionDeploymentGroup"]["Properties"]
    assert group["DeploymentStyle"]["DeploymentOption"] == "WITH_TRAFFIC_CONTROL"
    assert group["AutoRollbackConfiguration"]["Enabled"] is True
    assert "DEPLOYMENT_STOP_ON_ALARM" in group["AutoRollbackConfiguration"]["Events"]
    update = prod["ApiFunctionAliaslive"]["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
    assert update["DeploymentGroupName"] == {"Ref": "ApiFunctionDeploymentGroup"}
    assert update["BeforeAllowTrafficHook"] == {"Ref": "PreTrafficHookFunction"}
    assert update["AfterAllowTrafficHook"] == {"Ref": "PostTrafficHookFunction"}


def test_alarms_are_attached_enabled_and_watch_the_new_version() -> None:
    prod = translated("prod")["Resources"]
    alarms = prod["ApiFunctionDeploymentGroup"]["Properties"]["AlarmConfiguration"]
    assert alarms["Enabled"] is True
    names = {a["Name"]["Ref"] for a in alarms["Alarms"]}
    assert names == {
        "ApiNewVersionErrorsAlarm",
        "ApiNewVersionLatencyAlarm",
        "ApiGateway5xxAlarm",
        "RoutingFailuresAlarm",
    }
    for name in names:
        assert prod[name]["Properties"].get("ActionsEnabled", True) is True
    version_ref = json.dumps(prod["ApiNewVersionErrorsAlarm"]["Properties"]["Dimensions"])
    assert "ExecutedVersion" in version_ref and "ApiFunctionVersion" in version_ref
    assert prod["ApiNewVersionLatencyAlarm"]["Properties"]["ExtendedStatistic"] == "p95"
    routing = prod["RoutingFailuresAlarm"]["Properties"]
    assert routing["MetricName"] == "RoutingFailures"
    assert {d["Name"] for d in routing["Dimensions"]} == {"service", "FunctionVersion"}


def test_custom_canary_is_five_percent_and_used_in_prod() -> None:
    prod = translated("prod")["Resources"]
    config = prod["Canary5PercentConfig"]["Properties"]
    assert config["TrafficRoutingConfig"]["TimeBasedCanary"]["CanaryPercentage"] == 5
    assert "Canary5Percent${CanaryIntervalMinutes}Minutes" in json.dumps(config["DeploymentConfigName"])
    group = prod["ApiFunctionDeploymentGroup"]["Properties"]["DeploymentConfigName"]
    assert group["Fn::If"][0] == "UseCustomCanary" and group["Fn::If"][1] == {"Ref": "Canary5PercentConfig"}
    assert environment_parameters("prod")["DeploymentType"] == "Canary5PercentCustom"


@pytest.mark.parametrize(
    ("env", "expected"),
    [("dev", "CodeDeployDefault.Lambda${ConfigName}"), ("staging", "CodeDeployDefault.Lambda${ConfigName}")],
)
def test_deployment_type_comes_from_the_environment(env: str, expected: str) -> None:
    config = translated(env)["Resources"]["ApiFunctionDeploymentGroup"]["Properties"]["DeploymentConfigName"]
    fallback = config["Fn::If"][2]["Fn::Sub"]
    assert fallback[0] == expected
    assert fallback[1]["ConfigName"] == environment_parameters(env)["DeploymentType"]
    assert {"dev": "AllAtOnce", "staging": "Canary10Percent5Minutes"}[env] == fallback[1]["ConfigName"]


def test_hooks_may_invoke_only_this_function_and_report_only_to_this_group() -> None:
    for hook in ("PreTrafficHookFunctionRole", "PostTrafficHookFunctionRole"):
        found = {a: s for s in statements("prod", hook) for a in actions(s)}
        assert set(found) == {"lambda:InvokeFunction", "codedeploy:PutLifecycleEventHookExecutionStatus"}
        assert "${ApiFunction.Arn}:*" in json.dumps(found["lambda:InvokeFunction"]["Resource"])
        target = json.dumps(found["codedeploy:PutLifecycleEventHookExecutionStatus"]["Resource"])
        assert "deploymentgroup:${ServerlessDeploymentApplication}/${ApiFunctionDeploymentGroup}" in target
    hook = translated("prod")["Resources"]["PreTrafficHookFunction"]["Properties"]
    assert hook["FunctionName"]["Fn::Sub"].startswith("CodeDeployHook_")


def test_gateway_responses_use_the_error_envelope_and_security_headers() -> None:
    body = resources("prod", "AWS::ApiGateway::RestApi")["PersonaApi"]["Properties"]["Body"]
    kinds = body["x-amazon-apigateway-gateway-responses"]
    for kind in (
        "DEFAULT_4XX",
        "DEFAULT_5XX",
        "THROTTLED",
        "MISSING_AUTHENTICATION_TOKEN",
        "REQUEST_TOO_LARGE",
    ):
        props = kinds[kind]
        template = props["responseTemplates"]["application/json"]
        assert '"error":{"code":' in template and '"request_id":"$context.requestId"' in template
        headers = props["responseParameters"]
        assert headers["gatewayresponse.header.Strict-Transport-Security"].startswith("'max-age=63072000")
        assert "gatewayresponse.header.X-Content-Type-Options" in headers
    assert kinds["THROTTLED"]["statusCode"] == "429"


def test_dashboard_covers_versions_personas_and_invalid_keys() -> None:
    body = json.dumps(translated("prod")["Resources"]["Dashboard"]["Properties"]["DashboardBody"])
    for needle in ("Requests", "ExecutedVersion", "p95", "PersonaSelected", "InvalidKeys", "FunctionVersion"):
        assert needle in body, needle


def test_seed_custom_resource_and_schedule() -> None:
    prod = translated("prod")["Resources"]
    assert prod["CatalogSeed"]["Type"] == "Custom::CatalogSeed"
    assert (
        prod["RolloutControllerFunctionEvery15Minutes"]["Properties"]["ScheduleExpression"]
        == "rate(15 minutes)"
    )
