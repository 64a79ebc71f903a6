"""Documentation routes: the OpenAPI document and Swagger UI of the whole API.

The document itself is assembled in handlers.openapi_document (which includes the other
routers, as an app module does); this router only serves it, so no router imports another.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from handlers.common.responses import docs_response, json_ok
from handlers.schemas import OPENAPI_PATH, SWAGGER_PATH

router = APIGatewayRouter()


# Described in the document by handlers.openapi_document, which cannot include this router
# without an import cycle (this router serves that module's document).
@router.get(OPENAPI_PATH, summary="OpenAPI document", tags=["docs"], include_in_schema=False)
def openapi_document() -> Response[Any]:
    from handlers.openapi_document import openapi_json

    return json_ok(openapi_json())


@router.get(SWAGGER_PATH, summary="Swagger UI", tags=["docs"], include_in_schema=False)
def swagger_ui() -> Response[Any]:
    from handlers.openapi_document import base_path, swagger_html

    event = router.current_event
    return docs_response(swagger_html(base_path(event.request_context.path, event.path)))
