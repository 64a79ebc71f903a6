"""The OpenAPI document and Swagger UI for the whole API, public and admin routes alike.

Built on first request from a documentation-only resolver that includes both routers, so the
document always matches the code and neither function pays for it at cold start.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
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
    from handlers.common.app import create_resolver
    from handlers.routes.admin import router as admin_router
    from handlers.routes.chat import router as chat_router
    from handlers.routes.public import SERVICE_VERSION
    from handlers.routes.public import router as public_router

    docs = create_resolver()
    docs.include_router(public_router)
    docs.include_router(chat_router)
    docs.include_router(admin_router)
    return _schema(docs, SERVICE_VERSION)


def _schema(app: APIGatewayRestResolver, version: str) -> str:
    return app.get_openapi_json_schema(
        title=TITLE,
        version=version,
        description=DESCRIPTION,
        servers=[Server(url="/")],
    )


@cache
def swagger_html() -> str:
    import aws_lambda_powertools

    package = Path(str(aws_lambda_powertools.__file__)).parent
    assets = package / "event_handler" / "openapi" / "swagger_ui"
    js = (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8")
    css = (assets / "swagger-ui.min.css").read_text(encoding="utf-8")
    spec = openapi_json().replace("</", "<\\/")  # keep the inline JSON from closing the script tag
    return generate_swagger_html(spec, js, css, "", None)
