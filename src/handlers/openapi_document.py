"""The OpenAPI document and Swagger UI page for the whole API, public and admin routes alike.

Built on first request from a documentation-only resolver that includes every router (this
module plays the part of an app module; handlers.routes.docs serves what it builds), so the
document always matches the code and neither function pays for it at cold start.
"""

from __future__ import annotations

import json
import re
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.models import Server
from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html

TITLE = "Persona Router API"
DESCRIPTION = (
    "Routes each message to the best-fitting AI persona from a resonance key `tone-pace-intent` "
    "or the raw message. Admin routes need IAM (SigV4) authorization; in staging and prod the "
    "other routes need an API key (`x-api-key`)."
)


@cache
def openapi_json() -> str:
    from core.shared.settings import settings
    from handlers.common.app import create_resolver
    from handlers.routes.chat import router as chat_router
    from handlers.routes.discovery import router as discovery_router
    from handlers.routes.legacy_v1 import router as legacy_v1_router
    from handlers.routes.legacy_v2 import router as legacy_v2_router
    from handlers.routes.persona_admin import router as admin_router
    from handlers.routes.public import router as public_router
    from handlers.routes.route_batch import router as route_batch_router
    from handlers.schemas import OPENAPI_PATH

    docs = create_resolver()
    docs.include_router(public_router)
    docs.include_router(chat_router)
    docs.include_router(admin_router)
    docs.include_router(discovery_router)
    docs.include_router(route_batch_router)
    docs.include_router(legacy_v1_router)  # deprecated: true
    docs.include_router(legacy_v2_router)  # deprecated: true

    # The docs router serves this document, so it is described here rather than included.
    @docs.get(OPENAPI_PATH, summary="OpenAPI document", tags=["docs"])
    def openapi_document() -> Response[Any]:  # pragma: no cover - documentation only, never called
        raise NotImplementedError

    return _schema(docs, settings().service_version)


def _schema(app: APIGatewayRestResolver, version: str) -> str:
    return app.get_openapi_json_schema(
        title=TITLE,
        version=version,
        description=DESCRIPTION,
        servers=[Server(url="/")],
    )


def base_path(request_path: str | None, resource_path: str) -> str:
    """What API Gateway put in front of the route: `/dev` for `/dev/v1/docs` on the default
    endpoint, "" locally or on a custom domain without a base path. Only a plain path prefix is
    accepted, so nothing a client sends can reach the page as markup."""
    if not request_path or not request_path.endswith(resource_path):
        return ""
    prefix = request_path[: len(request_path) - len(resource_path)].rstrip("/")
    return prefix if _PREFIX.fullmatch(prefix) else ""


_PREFIX = re.compile(r"(/[A-Za-z0-9._~-]{1,64}){0,4}")


@lru_cache(maxsize=8)
def swagger_html(prefix: str = "") -> str:
    """The Swagger UI page; its "Try it out" calls go to `prefix` + each path (the stage)."""
    import aws_lambda_powertools

    package = Path(str(aws_lambda_powertools.__file__)).parent
    assets = package / "event_handler" / "openapi" / "swagger_ui"
    js = (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8")
    css = (assets / "swagger-ui.min.css").read_text(encoding="utf-8")
    document = json.loads(openapi_json())
    document["servers"] = [{"url": prefix or "/"}]
    # Keep the inline JSON from closing the script tag.
    spec = json.dumps(document, ensure_ascii=False).replace("</", "<\\/")
    return generate_swagger_html(spec, js, css, "", None)
