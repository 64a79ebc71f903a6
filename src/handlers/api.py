"""Lambda entry point of the public API (ApiFunction): routing, resonance tools, personas,
chat, health and docs. Read-only access to the catalog. Only includes routers."""

from __future__ import annotations

from handlers import schemas
from handlers.common import snapstart
from handlers.common.app import create_resolver, lambda_entry
from handlers.common.legacy_dialect import legacy_step
from handlers.routes import chat as chat_routes
from handlers.routes.chat import router as chat_router
from handlers.routes.discovery import router as discovery_router
from handlers.routes.docs import router as docs_router
from handlers.routes.legacy_v1 import router as legacy_v1_router
from handlers.routes.legacy_v2 import router as legacy_v2_router
from handlers.routes.playground import router as playground_router
from handlers.routes.public import router as public_router
from handlers.routes.route_batch import router as route_batch_router

app = create_resolver()
app.include_router(public_router)
app.include_router(chat_router)
app.include_router(docs_router)
app.include_router(discovery_router)
app.include_router(playground_router)
app.include_router(route_batch_router)
# The replaced service's v1/v2 API: its dialect (errors, deprecation headers, LegacyRequests) is
# given to every answer on its paths by legacy_step.
app.include_router(legacy_v1_router)
app.include_router(legacy_v2_router)

lambda_handler = lambda_entry(app, legacy_step)
# SnapStart: warm before the snapshot, renew connections after each restore (no-op elsewhere).
snapstart.install(app, models=(schemas, chat_routes), renew=(chat_routes._idempotent_runner.cache_clear,))
