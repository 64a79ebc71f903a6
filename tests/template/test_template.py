"""template.yaml: cfn-lint clean, and the SAM translation (what CloudFormation receives) has
what the issues ask for — per environment, with the parameters samconfig.toml passes."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import tomllib
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import botocore.session
import pytest

from core.persona.adapters import bedrock
from handlers import traffic_hooks
from scripts.translate_template import translate

pytestmark = pytest.mark.template
ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENTS = ("dev", "staging", "prod")
API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS = 29
DEPLOYMENT_GROUP_ARN = (
    "arn:${AWS::Partition}:codedeploy:${AWS::Region}:${AWS::AccountId}:deploymentgroup:"
    "${ServerlessDeploymentApplication}/${ApiFunctionDeploymentGroup}"
)
DEPLOY_ALARMS = {
    "ApiNewVersionErrorsAlarm",
    "ApiNewVersionLatencyAlarm",
    "ApiGateway5xxAlarm",
    "RoutingFailuresAlarm",
    "UnhandledErrorsAlarm",
    "AdminNewVersionErrorsAlarm",
}
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


def api_paths(env: str, api: str) -> dict[str, dict[str, Any]]:
    paths: dict[str, dict[str, Any]] = translated(env)["Resources"][api]["Properties"]["Body"]["paths"]
    return paths


def methods(env: str, api: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, spec) for path, item in api_paths(env, api).items() for method, spec in item.items()
    ]


def function_timeout(env: str, logical_id: str) -> int:
    timeout: int = translated(env)["Resources"][logical_id]["Properties"]["Timeout"]
    return timeout


def botocore_backoff_ceiling(attempts: int) -> float:
    """The longest botocore's standard retry mode can wait in all between `attempts` attempts:
    full jitter, the throttling scale, and an x-amz-retry-after header asking for more than
    botocore grants. Computed by botocore's own back-off, so a botocore upgrade is accounted for."""
    from botocore.retries.standard import ExponentialBackoff

    class AlwaysThrottling:
        def is_throttling_error_from_context(self, context: Any) -> bool:
            return True

    backoff = ExponentialBackoff(random=lambda: 1.0, throttling_detector=AlwaysThrottling())
    response = SimpleNamespace(headers={"x-amz-retry-after": str(3_600_000)})
    return float(
        sum(
            backoff.delay_amount(SimpleNamespace(attempt_number=n, http_response=response))
            for n in range(1, attempts)
        )
    )


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


def release_mode(env: str) -> str:
    return environment_parameters(env).get("ReleaseMode", "canary")


def resolve(env: str, value: Any) -> Any:
    """A template value with the environment's parameters and conditions applied (the few
    intrinsics the client-alias expressions use)."""
    template = translated(env)
    if isinstance(value, dict) and "Fn::If" in value:
        condition, when_true, when_false = value["Fn::If"]
        return resolve(env, when_true if condition_holds(env, condition) else when_false)
    if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in template["Parameters"]:
        parameter = template["Parameters"][value["Ref"]]
        return environment_parameters(env).get(value["Ref"], parameter.get("Default"))
    if isinstance(value, dict) and value.get("Fn::GetAtt") == ["LiveAlias", "Name"]:
        return template["Resources"]["LiveAlias"]["Properties"]["AliasName"]
    return value


def condition_holds(env: str, name: str) -> bool:
    expression = translated(env)["Conditions"][name]
    if "Fn::Not" in expression:
        return not condition_holds(env, expression["Fn::Not"][0]["Condition"])
    left, right = expression["Fn::Equals"]
    return bool(resolve(env, left) == resolve(env, right))


def client_alias(env: str) -> str:
    """The alias the public API invokes, read from its integration URI."""
    uris = [spec["x-amazon-apigateway-integration"]["uri"] for _, _, spec in methods(env, "PersonaApi")]
    assert all(uri == uris[0] for uri in uris)
    text, variables = uris[0]["Fn::Sub"]
    assert text == (
        "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
        "${ApiFunction.Arn}:${Client}/invocations"
    )
    alias: str = resolve(env, variables["Client"])
    return alias


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_public_api_invokes_live_in_both_release_modes(env: str) -> None:
    assert client_alias(env) == "live"
    aliases = {
        logical: a["Properties"]["Name"] for logical, a in resources(env, "AWS::Lambda::Alias").items()
    }
    admin = json.dumps(translated(env)["Resources"]["AdminApi"]["Properties"]["Body"])
    assert "${AdminFunctionAliaslive}/invocations" in admin and "ApiFunction" not in admin
    public = json.dumps(translated(env)["Resources"]["PersonaApi"]["Properties"]["Body"])
    assert "AdminFunction" not in public
    if release_mode(env) == "canary":
        # SAM's alias is the clients' alias, shifted by CodeDeploy.
        assert aliases == {"ApiFunctionAliaslive": "live", "AdminFunctionAliaslive": "live"}
    else:
        # Deploys shift `deployed`; `live` is no CloudFormation alias (the controller writes it).
        assert aliases == {"ApiFunctionAliasdeployed": "deployed", "AdminFunctionAliaslive": "live"}


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


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_admin_methods_use_iam_only_in_every_environment(env: str) -> None:
    admin = methods(env, "AdminApi")
    assert {(path, method) for path, method, _ in admin} == {
        ("/v1/admin/personas/{name}", "put"),
        ("/v1/admin/personas/{name}", "delete"),
    }
    for path, method, spec in admin:
        assert spec["security"] == [{"AWS_IAM": []}], (env, path, method)  # no api_key beside it
    assert not any(path.startswith("/v1/admin") for path in api_paths(env, "PersonaApi"))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_public_methods_need_an_api_key_in_staging_and_prod_and_nothing_in_dev(env: str) -> None:
    public = methods(env, "PersonaApi")
    # Two catch-all methods; the handler routes (404/405 in the service's envelope).
    assert {(path, method) for path, method, _ in public} == {
        ("/", "x-amazon-apigateway-any-method"),
        ("/{proxy+}", "x-amazon-apigateway-any-method"),
    }
    for path, method, spec in public:
        expected = [] if env == "dev" else [{"api_key": []}]
        assert spec.get("security", []) == expected, (env, path, method)
        integration = spec["x-amazon-apigateway-integration"]
        assert (integration["type"], integration["httpMethod"]) == ("aws_proxy", "POST")
    schemes = translated(env)["Resources"]["PersonaApi"]["Properties"]["Body"]["components"][
        "securitySchemes"
    ]
    assert schemes["api_key"] == {"type": "apiKey", "name": "x-api-key", "in": "header"}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_usage_plan_and_key_exist_where_keys_are_required(env: str) -> None:
    parameters = environment_parameters(env)
    requires_key = parameters.get("RequireApiKey") == "true"
    assert requires_key == (env != "dev")
    assert (parameters.get("UsagePlanMode") == "PER_API") == requires_key
    template = translated(env)
    assert template["Conditions"]["CreatesApiKey"] == {"Fn::Equals": [{"Ref": "UsagePlanMode"}, "PER_API"]}
    for logical in ("PersonaApiUsagePlan", "PersonaApiApiKey", "PersonaApiUsagePlanKey"):
        assert template["Resources"][logical]["Condition"] == "CreatesApiKey", logical
    plan = template["Resources"]["PersonaApiUsagePlan"]["Properties"]
    assert plan["ApiStages"] == [{"ApiId": {"Ref": "PersonaApi"}, "Stage": {"Ref": "PersonaApiStage"}}]
    assert plan["Throttle"] and plan["Quota"]
    output = template["Outputs"]["ApiKeyId"]
    assert output["Condition"] == "CreatesApiKey" and output["Value"] == {"Ref": "PersonaApiApiKey"}
    rule = template["Rules"]["ApiKeysNeedAUsagePlan"]
    assert rule["Assertions"][0]["Assert"] == {"Fn::Equals": [{"Ref": "UsagePlanMode"}, "PER_API"]}


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


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_codedeploy_application_and_groups_shift_the_deploy_alias(env: str) -> None:
    prod = translated(env)["Resources"]
    assert resources(env, "AWS::CodeDeploy::Application")
    group = prod["ApiFunctionDeploymentGroup"]["Properties"]
    assert group["DeploymentStyle"]["DeploymentOption"] == "WITH_TRAFFIC_CONTROL"
    assert group["AutoRollbackConfiguration"]["Enabled"] is True
    assert "DEPLOYMENT_STOP_ON_ALARM" in group["AutoRollbackConfiguration"]["Events"]
    deploy_alias = environment_parameters(env)["DeployAlias"]
    assert deploy_alias == ("deployed" if release_mode(env) == "bake" else "live")
    update = prod[f"ApiFunctionAlias{deploy_alias}"]["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
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
        "UnhandledErrorsAlarm",
    }
    for name in names:
        assert prod[name]["Properties"].get("ActionsEnabled", True) is True
    version_ref = json.dumps(prod["ApiNewVersionErrorsAlarm"]["Properties"]["Dimensions"])
    assert "ExecutedVersion" in version_ref and "ApiFunctionVersion" in version_ref
    assert prod["ApiNewVersionLatencyAlarm"]["Properties"]["ExtendedStatistic"] == "p95"
    routing = prod["RoutingFailuresAlarm"]["Properties"]
    assert routing["MetricName"] == "RoutingFailures"
    assert {d["Name"] for d in routing["Dimensions"]} == {"service", "FunctionVersion"}
    unhandled = prod["UnhandledErrorsAlarm"]["Properties"]
    assert unhandled["MetricName"] == "UnhandledErrors"
    assert unhandled["Dimensions"] == routing["Dimensions"]
    # Stage-wide 5XX is a rate over two minutes: one throttled model call must not roll back.
    gateway = prod["ApiGateway5xxAlarm"]["Properties"]
    assert gateway["Statistic"] == "Average" and 0 < gateway["Threshold"] < 1
    assert gateway["EvaluationPeriods"] == gateway["DatapointsToAlarm"] == 2


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
        # Statements under a condition are bake mode's (tests/template/test_release_template.py).
        unconditional = [
            s
            for policy in translated("prod")["Resources"][hook]["Properties"]["Policies"]
            for s in policy["PolicyDocument"]["Statement"]
            if "Fn::If" not in s
        ]
        found = {a: s for s in unconditional for a in actions(s)}
        assert set(found) == {"lambda:InvokeFunction", "codedeploy:PutLifecycleEventHookExecutionStatus"}
        assert "${ApiFunction.Arn}:*" in json.dumps(found["lambda:InvokeFunction"]["Resource"])
        target = json.dumps(found["codedeploy:PutLifecycleEventHookExecutionStatus"]["Resource"])
        assert "deploymentgroup:${ServerlessDeploymentApplication}/${ApiFunctionDeploymentGroup}" in target
    hook = translated("prod")["Resources"]["PreTrafficHookFunction"]["Properties"]
    assert hook["FunctionName"]["Fn::Sub"].startswith("CodeDeployHook_")


# API Gateway's own answers: (status, SPEC section 5 code, Retry-After) per response type.
# FORBIDDEN is not a SPEC code: SPEC names none for failed authentication.
GATEWAY_RESPONSES: dict[str, tuple[str, str, str | None]] = {
    "BAD_REQUEST_BODY": ("400", "BAD_REQUEST", None),
    "BAD_REQUEST_PARAMETERS": ("400", "BAD_REQUEST", None),
    "RESOURCE_NOT_FOUND": ("404", "NOT_FOUND", None),
    "INVALID_API_KEY": ("403", "FORBIDDEN", None),
    "ACCESS_DENIED": ("403", "FORBIDDEN", None),
    "INVALID_SIGNATURE": ("403", "FORBIDDEN", None),
    "EXPIRED_TOKEN": ("403", "FORBIDDEN", None),
    "UNAUTHORIZED": ("403", "FORBIDDEN", None),
    "WAF_FILTERED": ("403", "FORBIDDEN", None),
    "REQUEST_TOO_LARGE": ("413", "PAYLOAD_TOO_LARGE", None),
    "UNSUPPORTED_MEDIA_TYPE": ("415", "UNSUPPORTED_MEDIA_TYPE", None),
    "THROTTLED": ("429", "THROTTLED", "'1'"),
    "QUOTA_EXCEEDED": ("429", "THROTTLED", "'3600'"),
    "INTEGRATION_FAILURE": ("503", "UNAVAILABLE", "'2'"),
    "INTEGRATION_TIMEOUT": ("503", "UNAVAILABLE", "'2'"),
    "DEFAULT_5XX": ("503", "UNAVAILABLE", "'2'"),
    "API_CONFIGURATION_ERROR": ("500", "INTERNAL", None),
    "AUTHORIZER_CONFIGURATION_ERROR": ("500", "INTERNAL", None),
    "AUTHORIZER_FAILURE": ("500", "INTERNAL", None),
}
# The public API's methods are all ANY under a /{proxy+} catch-all: API Gateway answers "missing
# authentication token" only for a path no resource matches. On the admin API it means no SigV4.
# Both APIs: 404 NOT_FOUND (issue 12: an unknown method on an admin path must not answer a code
# outside the error model).
MISSING_AUTHENTICATION_TOKEN = {"PersonaApi": ("404", "NOT_FOUND"), "AdminApi": ("404", "NOT_FOUND")}
SECURITY_HEADERS = {
    "Strict-Transport-Security": "'max-age=63072000; includeSubDomains'",
    "Content-Security-Policy": "'default-src ''none''; frame-ancestors ''none'''",
    "X-Content-Type-Options": "'nosniff'",
    "X-Frame-Options": "'DENY'",
    "Referrer-Policy": "'no-referrer'",
    "Cache-Control": "'no-store'",
    "X-Request-Id": "context.requestId",
    "X-Function-Version": "'none'",
}


def gateway_responses(env: str, api: str) -> dict[str, dict[str, Any]]:
    kinds: dict[str, dict[str, Any]] = translated(env)["Resources"][api]["Properties"]["Body"][
        "x-amazon-apigateway-gateway-responses"
    ]
    return kinds


def rendered_body(template: str) -> Any:
    """The body API Gateway would send: its variables substituted as it does (messageString is
    already a quoted JSON string)."""
    text = template.replace("$context.error.messageString", '"Missing Authentication Token"')
    text = text.replace("$context.requestId", "c0ffee-1234")
    assert "$" not in text, template
    return json.loads(text)


def test_every_gateway_response_type_is_mapped_explicitly() -> None:
    """DEFAULT_4XX and DEFAULT_5XX are left only for types API Gateway adds later; a new type
    fails here until someone decides its code."""
    model = botocore.session.get_session().get_service_model("apigateway")
    enum = set(model.shape_for("GatewayResponseType").enum)
    assert enum == set(GATEWAY_RESPONSES) | {"DEFAULT_4XX", "MISSING_AUTHENTICATION_TOKEN"}
    for api in ("PersonaApi", "AdminApi"):
        assert set(gateway_responses("prod", api)) == enum, api


@pytest.mark.parametrize("api", ["PersonaApi", "AdminApi"])
@pytest.mark.parametrize("kind", sorted([*GATEWAY_RESPONSES, "MISSING_AUTHENTICATION_TOKEN", "DEFAULT_4XX"]))
def test_gateway_responses_use_the_spec_envelope_codes_and_headers(api: str, kind: str) -> None:
    response = gateway_responses("prod", api)[kind]
    headers = response["responseParameters"]
    for name, value in SECURITY_HEADERS.items():
        assert headers[f"gatewayresponse.header.{name}"] == value, (api, kind, name)
    body = rendered_body(response["responseTemplates"]["application/json"])
    assert set(body) == {"error", "request_id"} and body["request_id"] == "c0ffee-1234"
    assert set(body["error"]) == {"code", "message", "details"} and body["error"]["details"] == []
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if kind == "DEFAULT_4XX":
        # Keeps each type's own status (setting one here would change every other 4XX's status).
        assert "statusCode" not in response
        return
    if kind == "MISSING_AUTHENTICATION_TOKEN":
        status, code, retry_after = (*MISSING_AUTHENTICATION_TOKEN[api], None)
    else:
        status, code, retry_after = GATEWAY_RESPONSES[kind]
    assert (response["statusCode"], body["error"]["code"]) == (status, code), (api, kind)
    assert headers.get("gatewayresponse.header.Retry-After") == retry_after, (api, kind)


def test_the_public_api_has_no_method_that_could_answer_missing_authentication_token() -> None:
    """The premise of mapping MISSING_AUTHENTICATION_TOKEN to 404 on the public API: every method
    there is ANY (no method is missing on an existing resource) and none needs IAM."""
    for env in ENVIRONMENTS:
        for path, method, spec in methods(env, "PersonaApi"):
            assert method == "x-amazon-apigateway-any-method", (env, path, method)
            assert {"AWS_IAM": []} not in spec.get("security", []), (env, path)
        assert "/{proxy+}" in api_paths(env, "PersonaApi")


def test_dashboard_covers_versions_personas_and_invalid_keys() -> None:
    body = json.dumps(translated("prod")["Resources"]["Dashboard"]["Properties"]["DashboardBody"])
    for needle in ("Requests", "ExecutedVersion", "p95", "PersonaSelected", "InvalidKeys", "FunctionVersion"):
        assert needle in body, needle


def test_dashboard_shows_the_deploy_alarms_and_the_stage_namespace() -> None:
    text, variables = translated("prod")["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert variables["Ns"] == {"Ref": "MetricsNamespace"}
    assert "{${Ns}," in text and "PersonaRouter" not in text
    alarm_variables = {name for name, value in variables.items() if "Fn::GetAtt" in value}
    assert {variables[name]["Fn::GetAtt"][0] for name in alarm_variables} == DEPLOY_ALARMS
    assert all(f"${{{name}}}" in text for name in alarm_variables)
    # The body is JSON once CloudFormation has substituted the variables.
    widgets = json.loads(re.sub(r"\$\{[A-Za-z0-9:.]+\}", "x", text))["widgets"]
    assert any(w["type"] == "alarm" and len(w["properties"]["alarms"]) == len(DEPLOY_ALARMS) for w in widgets)


def test_seed_custom_resource_and_schedule() -> None:
    prod = translated("prod")["Resources"]
    assert prod["CatalogSeed"]["Type"] == "Custom::CatalogSeed"
    assert (
        prod["RolloutControllerFunctionEvery15Minutes"]["Properties"]["ScheduleExpression"]
        == "rate(15 minutes)"
    )


# ---- time budgets ---------------------------------------------------------------------------

# What a chat does besides the model call (catalog, session and idempotency reads and writes,
# building the answer) must fit in what the model's worst case leaves of the function's timeout.
CHAT_OVERHEAD_SECONDS = 2


def bedrock_worst_case_seconds() -> float:
    attempts = bedrock.MAX_ATTEMPTS
    per_attempt = bedrock.CONNECT_TIMEOUT_SECONDS + bedrock.READ_TIMEOUT_SECONDS
    return attempts * per_attempt + botocore_backoff_ceiling(attempts)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_an_exhausted_model_answers_503_before_lambda_or_api_gateway_time_out(env: str) -> None:
    """The Bedrock client gives up (and the function answers 503 UNAVAILABLE with Retry-After)
    before ApiFunction's timeout, which ends before API Gateway's integration timeout."""
    timeout = function_timeout(env, "ApiFunction")
    assert timeout < API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS
    assert bedrock_worst_case_seconds() + CHAT_OVERHEAD_SECONDS <= timeout, (
        bedrock_worst_case_seconds(),
        timeout,
    )
    assert bedrock.MAX_ATTEMPTS >= 2  # a throttle gets one retry inside the budget


@pytest.mark.parametrize("hook", ["PreTrafficHookFunction", "PostTrafficHookFunction"])
def test_a_hook_can_run_every_smoke_test_at_its_worst_and_still_report(hook: str) -> None:
    report = traffic_hooks.REPORT_MAX_ATTEMPTS * (
        traffic_hooks.REPORT_CONNECT_TIMEOUT_SECONDS + traffic_hooks.REPORT_READ_TIMEOUT_SECONDS
    ) + botocore_backoff_ceiling(traffic_hooks.REPORT_MAX_ATTEMPTS)
    assert report <= traffic_hooks.REPORT_RESERVE_SECONDS, report
    smoke = len(traffic_hooks.CHECKS) * traffic_hooks.INVOKE_WORST_CASE_SECONDS
    assert smoke + traffic_hooks.REPORT_RESERVE_SECONDS <= function_timeout("prod", hook)


# ---- alarms, metrics, notifications ---------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_latency_alarm_threshold_fits_the_environment(env: str) -> None:
    parameters = environment_parameters(env)
    threshold = int(parameters["LatencyAlarmMilliseconds"])
    assert threshold < function_timeout(env, "ApiFunction") * 1000
    if parameters.get("LlmBackend") == "bedrock":
        # Above what one healthy model call may take, below what retries and time-outs take.
        healthy = (bedrock.CONNECT_TIMEOUT_SECONDS + bedrock.READ_TIMEOUT_SECONDS) * 1000
        assert healthy < threshold < bedrock_worst_case_seconds() * 1000, env
    else:
        assert threshold <= 2000, env  # no model call: routing answers in milliseconds
    latency = translated(env)["Resources"]["ApiNewVersionLatencyAlarm"]["Properties"]
    assert latency["Threshold"] == {"Ref": "LatencyAlarmMilliseconds"}


def test_each_stage_has_its_own_metrics_namespace() -> None:
    namespaces = {env: environment_parameters(env)["MetricsNamespace"] for env in ENVIRONMENTS}
    assert namespaces == {env: f"PersonaRouter/{env}" for env in ENVIRONMENTS}
    template = translated("prod")
    assert template["Resources"]["RoutingFailuresAlarm"]["Properties"]["Namespace"] == {
        "Ref": "MetricsNamespace"
    }
    for logical, function in resources("prod", "AWS::Lambda::Function").items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == {"Ref": "MetricsNamespace"}, logical


def test_deploy_alarms_notify_the_encrypted_alarm_topic() -> None:
    template = translated("prod")
    prod = template["Resources"]
    attached = {
        alarm["Name"]["Ref"]
        for group in resources("prod", "AWS::CodeDeploy::DeploymentGroup").values()
        for alarm in group["Properties"]["AlarmConfiguration"]["Alarms"]
    }
    assert attached == DEPLOY_ALARMS
    for name in DEPLOY_ALARMS:
        props = prod[name]["Properties"]
        assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        assert props["OKActions"] == [{"Ref": "AlarmTopic"}], name
    # CloudWatch cannot publish to a topic under alias/aws/sns: the topic has its own key, and
    # the key lets CloudWatch use it.
    assert prod["AlarmTopic"]["Properties"]["KmsMasterKeyId"] == {"Ref": "AlarmTopicKey"}
    key = prod["AlarmTopicKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    [cloudwatch] = [s for s in key["KeyPolicy"]["Statement"] if s["Principal"].get("Service")]
    assert cloudwatch["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert set(actions(cloudwatch)) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    subscription = prod["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    assert template["Conditions"]["HasAlarmEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]
    }
    assert template["Parameters"]["AlarmEmail"]["Default"] == ""


# ---- functions and outputs ------------------------------------------------------------------


def test_trace_annotations_are_a_parameter_off_by_default() -> None:
    template = translated("prod")
    assert template["Parameters"]["TraceAnnotations"]["Default"] == "false"
    variables = template["Resources"]["ApiFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["TRACE_ANNOTATIONS"] == {"Ref": "TraceAnnotations"}


def test_every_function_logs_to_a_group_with_retention_except_seed_and_controller() -> None:
    prod = translated("prod")["Resources"]
    for hook in ("PreTrafficHookFunction", "PostTrafficHookFunction"):
        assert prod[hook]["Properties"]["LoggingConfig"] == {"LogGroup": {"Ref": "TrafficHooksLogGroup"}}
    groups = resources("prod", "AWS::Logs::LogGroup")
    assert {"ApiFunctionLogGroup", "AdminFunctionLogGroup", "TrafficHooksLogGroup"} <= set(groups)
    for name, group in groups.items():
        assert group["Properties"]["RetentionInDays"], name


def test_outputs_name_what_operators_use() -> None:
    outputs = translated("prod")["Outputs"]
    assert "${AdminApi}" in outputs["AdminApiUrl"]["Value"]["Fn::Sub"]
    assert "${PersonaApi}" in outputs["ApiUrl"]["Value"]["Fn::Sub"]
    assert outputs["AlarmTopicArn"]["Value"] == {"Ref": "AlarmTopic"}
    assert outputs["DeploymentApplicationName"]["Value"] == {"Ref": "ServerlessDeploymentApplication"}
    assert outputs["ApiDeploymentGroupName"]["Value"] == {"Ref": "ApiFunctionDeploymentGroup"}


def test_the_seed_function_may_only_put_into_the_catalog_table() -> None:
    seed_statements = statements("prod", "SeedFunctionRole")
    granted = {action for statement in seed_statements for action in actions(statement)}
    assert {a for a in granted if a.startswith("dynamodb:")} == {"dynamodb:PutItem"}
    for statement in seed_statements:
        if any(a.startswith("dynamodb:") for a in actions(statement)):
            assert "CatalogTable" in json.dumps(statement["Resource"])


def test_the_rollout_controller_moves_only_the_live_alias_and_runs_one_at_a_time() -> None:
    prod = translated("prod")["Resources"]
    function = prod["RolloutControllerFunction"]["Properties"]
    assert function["ReservedConcurrentExecutions"] == 1  # scheduled runs never overlap
    assert prod["RolloutControllerFunctionEventInvokeConfig"]["Properties"]["MaximumRetryAttempts"] == 0
    variables = function["Environment"]["Variables"]
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == {"Ref": "MetricsNamespace"}
    assert variables["ROLLOUT_TABLE"] == {"Ref": "RolloutStateTable"}
    granted = set()
    for statement in statements("prod", "RolloutControllerFunctionRole"):
        assert statement["Effect"] == "Allow"
        resource = json.dumps(statement["Resource"], sort_keys=True)
        granted.update((action, resource) for action in actions(statement))
    table = json.dumps({"Fn::GetAtt": ["RolloutStateTable", "Arn"]})
    live_alias = json.dumps({"Fn::Sub": "${ApiFunction.Arn}:live"})
    assert granted == {
        ("dynamodb:GetItem", table),
        ("dynamodb:Query", table),
        ("dynamodb:PutItem", table),  # TransactWriteItems of Puts needs PutItem only
        ("lambda:GetAlias", live_alias),
        ("lambda:UpdateAlias", live_alias),
        ("cloudwatch:GetMetricData", '"*"'),  # no resource-level permissions exist for it
        # Release notifications and the CodeDeploy check (tests/template/test_release_template.py).
        ("codedeploy:ListDeployments", json.dumps({"Fn::Sub": DEPLOYMENT_GROUP_ARN})),
        # How the deploy that started a bake ended (a failed one rolls the bake back).
        ("codedeploy:GetDeployment", json.dumps({"Fn::Sub": DEPLOYMENT_GROUP_ARN})),
        ("sns:Publish", json.dumps({"Ref": "AlarmTopic"})),
        ("kms:GenerateDataKey", json.dumps({"Fn::GetAtt": ["AlarmTopicKey", "Arn"]})),
        ("kms:Decrypt", json.dumps({"Fn::GetAtt": ["AlarmTopicKey", "Arn"]})),
    }
    role = prod["RolloutControllerFunctionRole"]["Properties"]
    assert sorted(role["ManagedPolicyArns"]) == [
        "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    ]
