"""The Swagger UI page sends "Try it out" requests through the stage the page was served from."""

from __future__ import annotations

import json

import pytest

from handlers.openapi_document import base_path, openapi_json, swagger_html


@pytest.mark.parametrize(
    ("request_path", "resource_path", "expected"),
    [
        ("/dev/v1/docs", "/v1/docs", "/dev"),
        ("/prod/v1/docs", "/v1/docs", "/prod"),
        ("/v1/docs", "/v1/docs", ""),  # local server, or a custom domain without a base path
        (None, "/v1/docs", ""),
        ("/other/thing", "/v1/docs", ""),  # not a prefix of this route: ignored
        ("/<script>/v1/docs", "/v1/docs", ""),  # never markup
        ('/a"b/v1/docs', "/v1/docs", ""),
    ],
)
def test_base_path(request_path: str | None, resource_path: str, expected: str) -> None:
    assert base_path(request_path, resource_path) == expected


def test_the_page_points_its_server_at_the_stage() -> None:
    staged = swagger_html("/dev")
    assert '"servers": [{"url": "/dev"}]' in staged
    local = swagger_html("")
    assert '"servers": [{"url": "/"}]' in local
    # The served JSON document itself stays stage-independent.
    assert json.loads(openapi_json())["servers"] == [{"url": "/"}]
