"""Powertools Logger and Metrics, one of each per execution environment.

Tracing is Lambda's own (`Tracing: Active` in template.yaml): the X-Ray SDK costs ~0.47 s of
import at cold start (docs/performance.md), more than the whole budget, so it is not imported.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.constants import (
    MAX_DIMENSIONS,
    MAX_METRIC_NAME_LENGTH,
    MAX_METRICS,
)

from core.shared.settings import settings

# The first read of the settings in a cold start: a bad variable stops it here, named.
SERVICE = settings().powertools_service_name
NAMESPACE = settings().metrics_namespace

# Every unit Powertools accepts, by enum member, enum name and CloudWatch value -> the value.
_UNITS: dict[Any, str] = {
    **{unit: unit.value for unit in MetricUnit},
    **{unit.name: unit.value for unit in MetricUnit},
    **{unit.value: unit.value for unit in MetricUnit},
}


class _EMFProvider(AmazonCloudWatchEMFProvider):
    """Powertools' EMF provider with a shorter per-request path: the same documents, the same
    checks, but a metric with a known unit, a standard resolution and a plain number is recorded
    without the generic validation and debug formatting, and clearing after a flush restores the
    default dimensions (validated when they were set) without re-adding them one by one. Anything
    else takes Powertools' own path (tests/unit/test_emf_provider.py compares the output)."""

    def add_metric(self, name: str, unit: Any, value: float, resolution: Any = 60) -> None:
        unit_value = _UNITS.get(unit) if isinstance(unit, (str, MetricUnit)) else None
        if (
            unit_value is None
            or resolution != 60
            or type(resolution) is not int
            or type(value) not in (int, float)
            or type(name) is not str
            or not 0 < len(name) <= MAX_METRIC_NAME_LENGTH
            or name != name.strip()
        ):
            super().add_metric(name=name, unit=unit, value=value, resolution=resolution)
            return
        metric = self.metric_set.get(name)
        if metric is None:
            metric = self.metric_set[name] = {"Unit": unit_value, "StorageResolution": 60, "Value": []}
        else:
            metric["Unit"] = unit_value
            metric["StorageResolution"] = 60
        values = metric["Value"]
        values.append(float(value))
        if len(self.metric_set) == MAX_METRICS or len(values) == MAX_METRICS:
            # Powertools' rule: publish what is there and keep the dimensions.
            print(json.dumps(self.serialize_metric_set()))
            self.metric_set.clear()

    def add_dimensions(self, **dimensions: str) -> None:
        if not dimensions or not all(
            type(v) is str and v.strip() and k.strip() for k, v in dimensions.items()
        ):
            super().add_dimensions(**dimensions)
            return
        keys = set(self.dimension_set).union(dimensions, *self.dimension_sets)
        if len(keys) > MAX_DIMENSIONS:
            super().add_dimensions(**dimensions)  # raises Powertools' own error
            return
        self.dimension_sets.append({**self.default_dimensions, **dimensions})

    def serialize_metric_set(
        self, metrics: dict | None = None, dimensions: dict | None = None, metadata: dict | None = None
    ) -> Any:
        # Powertools adds the service dimension through add_dimension on every flush; set it
        # directly when it is a plain, valid value (the same document either way).
        if (
            isinstance(self.service, str)
            and self.service.strip()
            and not self.dimension_set.get("service")
            and len(self.dimension_set) < MAX_DIMENSIONS
        ):
            self.dimension_set["service"] = self.service
        return super().serialize_metric_set(metrics=metrics, dimensions=dimensions, metadata=metadata)

    def clear_metrics(self) -> None:
        self.metric_set.clear()
        self.dimension_set.clear()
        self.dimension_sets.clear()
        self.metadata_set.clear()
        for name, value in self.default_dimensions.items():
            text = value if isinstance(value, str) else str(value)
            if name.strip() and text.strip():  # Powertools skips (and warned about) blank ones
                self.dimension_set[name] = text


def _metrics() -> Metrics:
    # The provider shares Metrics' class-level sets, as the one Metrics builds itself does.
    provider = _EMFProvider(
        namespace=NAMESPACE,
        service=SERVICE,
        metric_set=Metrics._metrics,
        dimension_set=Metrics._dimensions,
        metadata_set=Metrics._metadata,
        default_dimensions=Metrics._default_dimensions,
    )
    return Metrics(namespace=NAMESPACE, service=SERVICE, provider=provider)


logger = Logger(service=SERVICE)
metrics = _metrics()


def record_persona(persona: str) -> None:
    """Persona distribution, in the request's one EMF document: `PersonaSelected` plus an extra
    dimension set (service, FunctionVersion, Persona) for this request's metrics. One document
    per request instead of a second flush keeps the warm path cheap (docs/performance.md), and the
    persona is seen per version, which is what a canary comparison wants."""
    metrics.add_metric(name="PersonaSelected", unit=MetricUnit.Count, value=1)
    metrics.add_dimensions(service=SERVICE, Persona=persona)
