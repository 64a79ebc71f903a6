"""template.yaml for the old v1/v2 API and the batch route: reached through the public API's
catch-all behind the same key as the rest, the LegacySunsetDate parameter reaching the function,
the migration dashboard widget."""

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
    body: dict[str, Any] = template["Resources"]["PersonaApi"]["Properties"]["Body"]
    return body


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_old_routes_and_batch_reach_the_function_through_the_catch_all_with_the_same_key(env: str) -> None:
    """The public API has no per-route methods: old and batch routes are matched by /{proxy+}
    like every other route, so they need the same key (and the handler routes them)."""
    paths = _api_body(_translated(env))["paths"]
    assert not set(OLD_AND_BATCH_PATHS) & set(paths)
    catch_all = paths["/{proxy+}"]["x-amazon-apigateway-any-method"]
    needs_key = environment_parameters(env).get("RequireApiKey") == "true"
    assert catch_all.get("security", []) == ([{"api_key": []}] if needs_key else [])


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
