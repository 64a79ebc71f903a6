"""Powertools Logger and Metrics, one of each per execution environment.

Tracing is Lambda's own (`Tracing: Active` in template.yaml): the X-Ray SDK costs ~0.47 s of
import at cold start (docs/performance.md), more than the whole budget, so it is not imported.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, single_metric
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "persona-router")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "PersonaRouter")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def record_persona(persona: str) -> None:
    """Persona distribution: its own metric with a Persona dimension (and no version), so the
    request metrics keep their low-cardinality dimension set."""
    with single_metric(
        name="PersonaSelected",
        unit=MetricUnit.Count,
        value=1,
        namespace=NAMESPACE,
        default_dimensions={"service": SERVICE},
    ) as metric:
        metric.add_dimension(name="Persona", value=persona)
