"""Powertools Logger and Metrics, one of each per execution environment.

Tracing is Lambda's own (`Tracing: Active` in template.yaml): the X-Ray SDK costs ~0.47 s of
import at cold start (docs/performance.md), more than the whole budget, so it is not imported.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from core.shared.settings import settings

# The first read of the settings in a cold start: a bad variable stops it here, named.
SERVICE = settings().powertools_service_name
NAMESPACE = settings().metrics_namespace

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def record_persona(persona: str) -> None:
    """Persona distribution, in the request's one EMF document: `PersonaSelected` plus an extra
    dimension set (service, FunctionVersion, Persona) for this request's metrics. One document
    per request instead of a second flush keeps the warm path cheap (docs/performance.md), and the
    persona is seen per version, which is what a canary comparison wants."""
    metrics.add_metric(name="PersonaSelected", unit=MetricUnit.Count, value=1)
    metrics.add_dimensions(service=SERVICE, Persona=persona)
