"""The service's EMF provider (handlers/common/observability.py) takes a shorter path than
Powertools' own for the common calls; the documents it prints must be the same, call for call."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.exceptions import MetricValueError, SchemaValidationError
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.exceptions import (
    MetricNameError,
    MetricResolutionError,
    MetricUnitError,
)

from handlers.common.observability import _EMFProvider

Steps = Callable[[AmazonCloudWatchEMFProvider], None]


def _documents(
    kind: type[AmazonCloudWatchEMFProvider], steps: Steps, capsys: pytest.CaptureFixture[str]
) -> list[Any]:
    provider = kind(namespace="NS", service="svc")
    provider.timestamp = 1_700_000_000_000  # fixed: the documents are compared whole
    capsys.readouterr()
    for _ in range(2):  # twice: clearing after a flush must leave the same state as Powertools'
        steps(provider)
        provider.flush_metrics()
    out = capsys.readouterr().out
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def _request(provider: AmazonCloudWatchEMFProvider) -> None:
    provider.set_default_dimensions(FunctionVersion="7")
    provider.add_metric(name="PersonaSelected", unit=MetricUnit.Count, value=1)
    provider.add_dimensions(service="svc", Persona="Lua")
    provider.add_metric(name="Requests", unit="Count", value=1)
    provider.add_metric(name="Latency", unit="Milliseconds", value=0.25)
    provider.add_metric(name="Requests", unit="Count", value=2)


def _unusual(provider: AmazonCloudWatchEMFProvider) -> None:
    provider.add_metric(name=" Padded ", unit="Count", value=1)  # Powertools strips the name
    provider.add_metric(name="HighRes", unit="Seconds", value=3, resolution=1)
    provider.add_metric(name="ByName", unit="CountPerSecond", value=True)
    provider.add_dimensions(Route="GET /api/v2/health", Empty="")  # the blank one is dropped
    provider.add_dimension(name="extra", value="x")


def _many(provider: AmazonCloudWatchEMFProvider) -> None:
    for i in range(120):  # past MAX_METRICS values of one metric: an early document
        provider.add_metric(name="Burst", unit="Count", value=i)


@pytest.mark.parametrize("steps", [_request, _unusual, _many], ids=["request", "unusual", "many"])
def test_same_documents_as_powertools(steps: Steps, capsys: pytest.CaptureFixture[str]) -> None:
    ours = _documents(_EMFProvider, steps, capsys)
    theirs = _documents(AmazonCloudWatchEMFProvider, steps, capsys)
    assert ours == theirs
    assert len(ours) >= 2


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda p: p.add_metric(name="X", unit="Parsecs", value=1), MetricUnitError),
        (lambda p: p.add_metric(name="X", unit="Count", value="1"), MetricValueError),
        (lambda p: p.add_metric(name="", unit="Count", value=1), MetricNameError),
        (lambda p: p.add_metric(name="X", unit="Count", value=1, resolution=5), MetricResolutionError),
        (lambda p: p.add_dimensions(**{f"d{i}": "v" for i in range(40)}), SchemaValidationError),
    ],
)
def test_same_errors_as_powertools(call: Callable[[Any], None], error: type[Exception]) -> None:
    for kind in (_EMFProvider, AmazonCloudWatchEMFProvider):
        with pytest.raises(error):
            call(kind(namespace="NS", service="svc"))
