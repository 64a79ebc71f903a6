"""Discovery routes: `GET /` (where to go next) and `GET /v1/resonance/vocabulary` (what a key
may contain). Both answer from data loaded once; neither touches DynamoDB."""

from __future__ import annotations

import html
import json
import re
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from core.shared.settings import settings
from handlers.common.responses import json_ok
from handlers.schemas import LandingResponse, VocabularyResponse, json_content

router = APIGatewayRouter()

# Relative to the API's base (the stage prefix on API Gateway's default endpoint).
LINKS = {
    "docs": "/v1/docs",
    "openapi": "/v1/openapi.json",
    "playground": "/playground",
    "vocabulary": "/v1/resonance/vocabulary",
    "health": "/health",
}


@cache
def _vocabulary_body() -> str:
    from core.persona.vocabulary_guide import vocabulary_guide

    return json.dumps(vocabulary_guide(), ensure_ascii=False, separators=(",", ":"))


@router.get(
    "/v1/resonance/vocabulary",
    summary="Every tone, pace and intent with its meaning (ko, en) and accepted aliases",
    responses={200: json_content(VocabularyResponse, "The vocabulary")},
    tags=["resonance"],
)
def vocabulary() -> Response[Any]:
    return json_ok(_vocabulary_body())


_PREFIX = re.compile(r"(/[A-Za-z0-9._~-]{1,64}){0,4}")


def stage_prefix(request_path: str | None, resource_path: str) -> str:
    """What API Gateway put in front of the route (`/dev` on the default endpoint, "" locally).
    Only a plain path prefix is used, so nothing a client sends reaches the links as markup.
    (handlers.openapi_document has the same rule for Swagger UI; importing it here would make a
    cycle, since it includes this router.)"""
    if not request_path or not request_path.endswith(resource_path):
        return ""
    prefix = request_path[: len(request_path) - len(resource_path)].rstrip("/")
    return prefix if _PREFIX.fullmatch(prefix) else ""


def _wants_html(accept: str | None) -> bool:
    """A browser's Accept names text/html before any JSON type; API clients send */* or JSON."""
    if not accept:
        return False
    types = [item.split(";", 1)[0].strip().lower() for item in accept.split(",")]
    if "text/html" not in types:
        return False
    return "application/json" not in types or types.index("text/html") < types.index("application/json")


def _landing_html(links: dict[str, str], version: str) -> str:
    items = "".join(
        f'<li><a href="{html.escape(href)}">{html.escape(name)}</a></li>' for name, href in links.items()
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Persona Router</title></head><body><h1>Persona Router {html.escape(version)}</h1>"
        "<p>Routes each message to the best-fitting AI persona. "
        "Try it in the playground, or read the API docs.</p>"
        f"<ul>{items}</ul></body></html>"
    )


@router.get(
    "/",
    summary="Landing: where the docs, the OpenAPI document and the playground are",
    responses={200: json_content(LandingResponse, "Links (HTML when the client asks for text/html)")},
    tags=["docs"],
)
def landing() -> Response[Any]:
    event = router.current_event
    prefix = stage_prefix(event.request_context.path, event.path)
    links = {name: prefix + path for name, path in LINKS.items()}
    version = settings().service_version
    if _wants_html(event.headers.get("accept")):
        return Response(
            status_code=200, content_type="text/html; charset=utf-8", body=_landing_html(links, version)
        )
    return json_ok(
        {
            "service": "persona-router",
            "version": version,
            "message": "Routes each message to the best-fitting AI persona: see the playground and docs.",
            "links": links,
        }
    )
