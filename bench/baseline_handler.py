"""The baseline of SPEC section 7: Powertools' own floor. One POST /v1/route with a pydantic
model of one string field, returning a constant pydantic model, with validation enabled."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from pydantic import BaseModel

app = APIGatewayRestResolver(enable_validation=True)


class RouteIn(BaseModel):
    resonance_key: str


class RouteOut(BaseModel):
    persona: str


CONSTANT = RouteOut(persona="Lua")


@app.post("/v1/route")
def route(body: RouteIn) -> RouteOut:
    return CONSTANT


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
