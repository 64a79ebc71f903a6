"""template.yaml for the old v1/v2 API and the batch route: API events behind the same key as the
rest, the LegacySunsetDate parameter reaching the function, the migration dashboard widget."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from scripts.translate_template import translate
from tests.template.test_template import ENVIRONMENTS, environment_parameters

pytestmark = pytest.mark.template

OLD_AND_BATCH_PATHS = ("/v1/route:batch", "/api/persona/process", "/api/v2/{proxy+}")


def _translated(env: str, **extra: str) -> dict[str, Any]:
    return translate(parameters={**environment_parameters(env), **extra})


def _api_body(template: dict[str, Any]) -> dict[str, Any]:
    apis = [r for r in template["Resources"].values() if r["Type"] == "AWS::ApiGateway::RestApi"]
    bodies = [a["Properties"]["Body"] for a in apis if "/v1/route" in a["Properties"]["Body"]["paths"]]
    assert len(bodies) == 1
    body: dict[str, Any] = bodies[0]
    return body


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_old_routes_and_batch_are_public_api_methods_with_the_same_key(env: str) -> None:
    paths = _api_body(_translated(env))["paths"]
    needs_key = environment_parameters(env).get("RequireApiKey") == "true"
    for path in OLD_AND_BATCH_PATHS:
        method = paths[path]["x-amazon-apigateway-any-method"]
        assert ("security" in method) == needs_key, (env, path)
        if needs_key:
            assert method["security"] == [{"api_key": []}]


def test_the_sunset_parameter_reaches_the_api_function() -> None:
    template = _translated("staging", LegacySunsetDate="2027-05-01")
    variables = template["Resources"]["ApiFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["LEGACY_SUNSET_DATE"] == {"Ref": "LegacySunsetDate"}
    parameter = template["Parameters"]["LegacySunsetDate"]
    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.match("") and pattern.match("2027-05-01") and not pattern.match("May 2027")


def test_the_dashboard_plots_legacy_requests_per_route() -> None:
    dashboard = _translated("staging")["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][0]
    widgets = json.loads(re.sub(r"\$\{[^}]+\}", "X", dashboard))["widgets"]
    expressions = [m[0].get("expression", "") for w in widgets for m in w["properties"].get("metrics", [])]
    assert any("LegacyRequests" in e and "Route" in e for e in expressions)
    # widgets never overlap
    cells = set()
    for widget in widgets:
        for x in range(widget["x"], widget["x"] + widget["width"]):
            for y in range(widget["y"], widget["y"] + widget["height"]):
                assert (x, y) not in cells, widget["properties"].get("title")
                cells.add((x, y))
