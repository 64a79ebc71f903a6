"""Lambda entry point of the admin API (AdminFunction): persona writes, IAM-authorised."""

from __future__ import annotations

from handlers import schemas
from handlers.common import snapstart
from handlers.common.app import create_resolver, lambda_entry
from handlers.routes.persona_admin import router as persona_admin_router

app = create_resolver()
app.include_router(persona_admin_router)

lambda_handler = lambda_entry(app)
# SnapStart: warm before the snapshot, renew connections after each restore (no-op elsewhere).
snapstart.install(app, requests=(), models=(schemas,))
