"""Runtime and SnapStart in the translated template: every function on python3.13, SnapStart on
the published versions of the API and admin functions where the stage enables it (on in staging
and prod through samconfig.toml, off in dev), and none of what SnapStart cannot be combined with."""

from __future__ import annotations

from typing import Any

import pytest

from tests.template.test_template import ENVIRONMENTS, environment_parameters, resources, translated

pytestmark = pytest.mark.template
SNAPSTART_FUNCTIONS = ("ApiFunction", "AdminFunction")


def evaluate(expression: Any, conditions: dict[str, Any], parameters: dict[str, str]) -> Any:
    """The few intrinsic functions the template's conditions use, resolved for one environment."""
    if not isinstance(expression, dict):
        return expression
    (name, value), *_ = expression.items()
    if name == "Ref":
        return parameters[value]
    if name == "Condition":
        return evaluate(conditions[value], conditions, parameters)
    if name == "Fn::Equals":
        left, right = (evaluate(v, conditions, parameters) for v in value)
        return str(left) == str(right)
    if name == "Fn::Not":
        return not evaluate(value[0], conditions, parameters)
    if name == "Fn::And":
        return all(evaluate(v, conditions, parameters) for v in value)
    if name == "Fn::Or":
        return any(evaluate(v, conditions, parameters) for v in value)
    if name == "Fn::If":
        chosen = evaluate(conditions[value[0]], conditions, parameters)
        return evaluate(value[1] if chosen else value[2], conditions, parameters)
    raise AssertionError(f"unexpected intrinsic {name}")


def parameters_of(env: str) -> dict[str, str]:
    template = translated(env)
    defaults = {k: str(v.get("Default", "")) for k, v in template["Parameters"].items()}
    return defaults | environment_parameters(env)


def snapstart(env: str, function: str, overrides: dict[str, str] | None = None) -> str:
    template = translated(env)
    props = template["Resources"][function]["Properties"]
    return str(
        evaluate(
            props["SnapStart"]["ApplyOn"], template["Conditions"], parameters_of(env) | (overrides or {})
        )
    )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_function_runs_python_3_13(env: str) -> None:
    functions = resources(env, "AWS::Lambda::Function")
    assert functions
    assert {f["Properties"]["Runtime"] for f in functions.values()} == {"python3.13"}


@pytest.mark.parametrize(
    ("env", "expected"), [("dev", "None"), ("staging", "PublishedVersions"), ("prod", "PublishedVersions")]
)
@pytest.mark.parametrize("function", SNAPSTART_FUNCTIONS)
def test_snapstart_follows_the_stage(env: str, expected: str, function: str) -> None:
    assert snapstart(env, function) == expected


@pytest.mark.parametrize(
    ("stage", "setting", "expected"),
    [
        ("dev", "auto", "None"),
        ("staging", "auto", "PublishedVersions"),
        ("prod", "auto", "PublishedVersions"),
        ("dev", "true", "PublishedVersions"),
        ("prod", "false", "None"),
    ],
)
def test_the_parameter_default_is_on_outside_dev(stage: str, setting: str, expected: str) -> None:
    assert translated("prod")["Parameters"]["SnapStartEnabled"]["Default"] == "auto"
    assert snapstart("prod", "ApiFunction", {"Stage": stage, "SnapStartEnabled": setting}) == expected


@pytest.mark.parametrize("function", SNAPSTART_FUNCTIONS)
def test_nothing_snapstart_cannot_combine_with(function: str) -> None:
    props = translated("prod")["Resources"][function]["Properties"]
    assert "FileSystemConfigs" not in props
    assert props.get("EphemeralStorage", {"Size": 512})["Size"] <= 512
    for alias in resources("prod", "AWS::Lambda::Alias").values():
        assert "ProvisionedConcurrencyConfig" not in alias["Properties"]
    for version in resources("prod", "AWS::Lambda::Version").values():
        assert "ProvisionedConcurrencyConfig" not in version["Properties"]


@pytest.mark.parametrize("function", SNAPSTART_FUNCTIONS)
def test_snapstart_functions_publish_versions_behind_the_live_alias(function: str) -> None:
    # SnapStart applies to published versions only; AutoPublishAlias publishes one per deploy.
    versions = resources("prod", "AWS::Lambda::Version")
    assert any(v["Properties"]["FunctionName"] == {"Ref": function} for v in versions.values())
