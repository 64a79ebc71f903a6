"""GET /playground: a page to try the router in a browser (detect, route with score bars, key
builder, chat, catalog), served by the function itself.

The page is three package files under handlers/static/playground/, read once per execution
environment. Its script and style come from /playground/app.js and /playground/app.css on the
same origin, so the page's policy needs no 'unsafe-inline': CSP_PLAYGROUND allows 'self' for
scripts, styles and API calls, and only these three answers carry it. The HTML uses relative
URLs, so it works under API Gateway's stage prefix (/dev/playground) as well as locally.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from handlers.common.http import CSP_PLAYGROUND

router = APIGatewayRouter()

STATIC = Path(__file__).resolve().parent.parent / "static" / "playground"
LANGUAGES = ("ko", "en")
ASSETS = {
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}


@cache
def _asset(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


@cache
def page(language: str) -> str:
    """The HTML with its starting language set; the script reads it from <html lang>."""
    return _asset("index.html").replace('<html lang="ko">', f'<html lang="{language}">', 1)


def preferred_language(accept_language: str | None) -> str:
    """ko or en from Accept-Language, by q-value then order; Korean when nothing matches."""
    best: tuple[float, int, str] | None = None
    for index, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().lower().split("-", 1)[0]
        if primary not in LANGUAGES:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        candidate = (-quality, index, primary)
        if best is None or candidate < best:
            best = candidate
    return best[2] if best else "ko"


def _page_response(body: str, content_type: str) -> Response[Any]:
    return Response(
        status_code=200,
        content_type=content_type,
        body=body,
        headers={"Content-Security-Policy": CSP_PLAYGROUND, "Vary": "Accept-Language"},
    )


@router.get("/playground", summary="Playground page", tags=["docs"], include_in_schema=False)
def playground() -> Response[Any]:
    language = preferred_language(router.current_event.headers.get("accept-language"))
    return _page_response(page(language), "text/html; charset=utf-8")


@router.get("/playground/<asset>", summary="Playground script and style", include_in_schema=False)
def playground_asset(asset: str) -> Response[Any]:
    from core.shared.errors import NotFound

    content_type = ASSETS.get(asset)
    if content_type is None:
        raise NotFound(f"no playground file {asset[:64]!r}")
    return _page_response(_asset(asset), content_type)
