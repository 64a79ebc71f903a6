"""Lambda entry point of the public API (ApiFunction): routing, resonance tools, personas,
chat, health and docs. Read-only access to the catalog. Only includes routers."""

from __future__ import annotations

from handlers.common.app import create_resolver, lambda_entry
from handlers.routes.chat import router as chat_router
from handlers.routes.docs import router as docs_router
from handlers.routes.public import router as public_router

app = create_resolver()
app.include_router(public_router)
app.include_router(chat_router)
app.include_router(docs_router)

lambda_handler = lambda_entry(app)
