"""Admin routes (IAM-authorised in API Gateway): create, replace and delete personas with
optimistic locking through ETag / If-Match (SPEC section 5)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from core.persona.personas import PERSONA_NAME_PATTERN, Persona, PersonaSpec
from core.shared.errors import Conflict, NotFound, PreconditionRequired, Unavailable, ValidationFailed
from handlers.common.deps import catalog_cache
from handlers.common.observability import logger
from handlers.common.responses import json_ok
from handlers.schemas import error_responses

router = APIGatewayRouter()

_IF_MATCH = re.compile(r'^\s*(?:W/)?"?(\d{1,18})"?\s*$')

PersonaName = Annotated[str, Path(pattern=PERSONA_NAME_PATTERN, description="Persona name")]
IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description='The version to replace, quoted or bare: "3" or 3'),
]


def parse_if_match(value: str | None) -> int | None:
    if value is None or not value.strip():
        return None
    match = _IF_MATCH.match(value)
    if not match:
        raise ValidationFailed(
            'If-Match must be a persona version, quoted or bare (e.g. "3")',
            [{"field": "If-Match", "message": "not a version number"}],
        )
    return int(match.group(1))


def canonical_name(name: str) -> str:
    """The stored spelling of a persona named in any case (`lua` -> Lua), from a fresh read, or
    `name` itself for a new persona. Names are case-insensitive identities: a write never creates
    `lua` beside Lua, it addresses Lua (docs/legacy_api.md, "Persona names")."""
    cache = catalog_cache()
    cache.invalidate()
    try:
        snapshot = cache.get()
    except Unavailable:
        # No catalog yet (the first write creates it) or the store is down (the write will say so).
        return name
    if snapshot.stale:
        # The fresh read just failed: the write would wait for the same store again. Say so now,
        # within one bounded call rather than two.
        raise Unavailable("the catalog store did not answer; retry shortly", retry_after=2)
    existing = snapshot.catalog.get(name)
    return existing.name if existing is not None else name


def _ensure_some_persona_stays_enabled(name: str, enabled_after: bool) -> None:
    """Refuse a write that would leave the catalog with no enabled persona: routing could then
    answer nothing. Checked against a fresh read; a concurrent write can still race it, which
    routing reports as 503 rather than guessing."""
    if enabled_after:
        return
    cache = catalog_cache()
    cache.invalidate()
    catalog = cache.get().catalog
    current = catalog.get(name)
    if current is None or not current.enabled:
        return
    if not [p for p in catalog.enabled() if p.name != name]:
        raise Conflict(
            "this change would leave no enabled persona; enable or add another one first",
            [{"name": name, "reason": "last_enabled_persona"}],
        )


@router.put(
    "/v1/admin/personas/<name>",
    summary="Create a persona, or replace it with If-Match: <version>",
    responses={
        200: {"description": "Replaced; ETag carries the new version"},
        201: {"description": "Created; ETag carries the version"},
        **error_responses(400, 409, 413, 415, 422, 428, 503),
    },
    tags=["admin"],
)
def put_persona(name: PersonaName, body: PersonaSpec, if_match: IfMatch = None) -> Response[Any]:
    expected = parse_if_match(if_match)
    if body.name is not None and body.name.casefold() != name.casefold():
        raise ValidationFailed(
            f"the body names persona {body.name!r} but the path names {name!r}",
            [{"field": "name", "message": "must match the path"}],
        )
    name = canonical_name(name)
    persona = Persona.from_spec(name, body)
    _ensure_some_persona_stays_enabled(name, persona.enabled or expected is None)
    stored = catalog_cache().put_persona(persona, expected)
    logger.info(
        "persona written", extra={"persona": name, "version": stored.version, "new_persona": expected is None}
    )
    return json_ok(
        stored.representation(),
        status=201 if expected is None else 200,
        headers={"ETag": f'"{stored.version}"'},
    )


@router.delete(
    "/v1/admin/personas/<name>",
    summary="Delete a persona with If-Match: <version>",
    responses={204: {"description": "Deleted"}, **error_responses(404, 409, 422, 428, 503)},
    tags=["admin"],
)
def delete_persona(name: PersonaName, if_match: IfMatch = None) -> Response[Any]:
    expected = parse_if_match(if_match)
    name = canonical_name(name)
    cache = catalog_cache()
    if expected is None:
        cache.invalidate()
        if cache.get().catalog.get(name) is None:
            raise NotFound(f"persona {name!r} does not exist")
        raise PreconditionRequired(
            f"deleting persona {name!r} needs If-Match: <version>", [{"field": "If-Match"}]
        )
    _ensure_some_persona_stays_enabled(name, False)
    cache.delete_persona(name, expected)
    logger.info("persona deleted", extra={"persona": name, "version": expected})
    return Response(status_code=204, content_type=None, body="")
