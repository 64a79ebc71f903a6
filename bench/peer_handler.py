"""The peer of SPEC section 7: what a Powertools user would write for POST /v1/route.

The bare floor (bench/baseline_handler.py) plus what a monitored service ships: Logger with
`inject_lambda_context`, Metrics flushing one EMF document per request (a request count, a
latency in milliseconds and a persona dimension), a pydantic response model with the persona,
a confidence and four scores, and the same security headers as ours. It answers a fixed
routing result: the comparison is about the handler around the routing, not the routing.
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, Field

logger = Logger(service="persona-router-peer")
metrics = Metrics(namespace="PersonaRouterPeer", service="persona-router-peer")
app = APIGatewayRestResolver(enable_validation=True)

SECURITY_HEADERS = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class RouteIn(BaseModel):
    resonance_key: str = Field(min_length=1, max_length=256)


class Scores(BaseModel):
    tone: float
    pace: float
    intent: float
    total: float


class RouteOut(BaseModel):
    persona: str
    confidence: float
    scores: Scores


@app.post("/v1/route")
def route(body: RouteIn) -> Response[RouteOut]:
    # A fixed answer in the shape a routed one has: the peer measures the handler, not routing.
    answer = RouteOut(
        persona="Elro", confidence=0.42, scores=Scores(tone=0.9, pace=0.7, intent=0.8, total=2.4)
    )
    metrics.add_dimension(name="Persona", value=answer.persona)
    request_id = app.current_event.request_context.request_id
    version = getattr(app.lambda_context, "function_version", "$LATEST")
    headers = {**SECURITY_HEADERS, "X-Request-Id": request_id, "X-Function-Version": version}
    return Response(status_code=200, content_type="application/json", body=answer, headers=headers)


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    started = time.perf_counter()
    response = app.resolve(event, context)
    metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
    metrics.add_metric(
        name="Latency", unit=MetricUnit.Milliseconds, value=(time.perf_counter() - started) * 1000
    )
    return response
