"""The EMF documents a handled request leaves on stdout: names, units and dimensions that the
alarms and the dashboard in template.yaml depend on."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.lambda_events import LambdaContext, rest_event


def _route(key: str) -> dict[str, Any]:
    from handlers.api import lambda_handler

    event = rest_event(
        "POST",
        "/v1/route",
        body=json.dumps({"resonance_key": key}),
        headers={"Content-Type": "application/json"},
    )
    return lambda_handler(event, LambdaContext())


def _emf(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{") and '"_aws"' in line]


def _metric(docs: list[dict[str, Any]], name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The (document, metric definition) that carries `name`."""
    for doc in docs:
        for directive in doc["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                if metric["Name"] == name:
                    return doc, {
                        **metric,
                        "Dimensions": directive["Dimensions"],
                        "Namespace": directive["Namespace"],
                    }
    raise AssertionError(f"no metric {name} in {docs}")


def test_request_metrics_carry_the_function_version(service: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert _route("frustrated-burst-seek_advice")["statusCode"] == 200
    docs = _emf(capsys.readouterr().out)
    for name, unit in (("Requests", "Count"), ("Latency", "Milliseconds")):
        doc, metric = _metric(docs, name)
        assert metric["Unit"] == unit
        assert metric["Namespace"] == "PersonaRouter"
        assert sorted(metric["Dimensions"][0]) == ["FunctionVersion", "service"]
        assert doc["FunctionVersion"] == "7"  # the version in LambdaContext, i.e. the one that served it
        assert doc["service"] == "persona-router"
    assert _metric(docs, "Requests")[0]["Requests"] in (1, 1.0, [1.0])


def test_chosen_persona_rides_in_the_same_document_with_a_persona_dimension_set(
    service: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # The first invocation of a process also prints Powertools' ColdStart document; in random
    # order this test may be that first one, so the request it counts is a warm one.
    _route("calm-medium-learning")
    capsys.readouterr()
    _route("frustrated-burst-seek_advice")
    docs = _emf(capsys.readouterr().out)
    assert len(docs) == 1  # one EMF document per warm request, persona included
    doc, metric = _metric(docs, "PersonaSelected")
    assert doc["Persona"] == "Lua"
    assert doc["FunctionVersion"] == "7"
    dimension_sets = sorted(sorted(d) for d in metric["Dimensions"])
    assert dimension_sets == [["FunctionVersion", "Persona", "service"], ["FunctionVersion", "service"]]
    _route("banana-burst-seek_advice")  # no persona chosen: no persona dimension, no PersonaSelected
    docs = _emf(capsys.readouterr().out)
    assert all("Persona" not in doc for doc in docs)
    with pytest.raises(AssertionError):
        _metric(docs, "PersonaSelected")


def test_corrections_and_invalid_keys_are_counted(service: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _route("Frustrated_Burst_Seeking-Advice")
    doc, _ = _metric(_emf(capsys.readouterr().out), "CorrectionsApplied")
    assert doc["CorrectionsApplied"] not in (0, [0])
    assert _route("banana-burst-seek_advice")["statusCode"] == 422
    doc, _ = _metric(_emf(capsys.readouterr().out), "InvalidKeys")
    assert doc["InvalidKeys"] in (1, 1.0, [1.0])


def test_cold_start_is_reported_once(service: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from aws_lambda_powertools.metrics.provider import cold_start

    import handlers.api  # noqa: F401  - make sure the module is loaded before resetting the flag

    cold_start.is_cold_start = True
    _route("calm-medium-learning")
    first = _emf(capsys.readouterr().out)
    _route("calm-medium-learning")
    second = _emf(capsys.readouterr().out)
    _metric(first, "ColdStart")
    with pytest.raises(AssertionError):
        _metric(second, "ColdStart")


def test_a_stale_catalog_serve_is_counted(service: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from handlers.common import deps

    _route("calm-medium-learning")  # the catalog is now cached
    capsys.readouterr()
    service.delete_table(TableName="catalog")  # the store now fails on every call
    cache = deps.catalog_cache()
    cache.invalidate()  # as if the TTL had passed
    response = _route("calm-medium-learning")
    assert response["statusCode"] == 200
    doc, _ = _metric(_emf(capsys.readouterr().out), "StaleCatalogServed")
    assert doc["StaleCatalogServed"] in (1, 1.0, [1.0])
