"""Schemathesis against the service's own OpenAPI document, over HTTP through the local server:
no 5XX, every answer conforms to the documented schema, and every answer carries the security
headers. A dedicated stack, because fuzzing the admin routes changes the catalog."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from handlers.common.http import SECURITY_HEADERS
from handlers.openapi_document import openapi_json
from tests.e2e.conftest import start_stack, stop_stack

SECURITY = (*SECURITY_HEADERS, "X-Request-Id", "X-Function-Version")


@pytest.fixture(scope="module")
def fuzz_url() -> Iterator[str]:
    stack = start_stack()
    try:
        yield stack.url
    finally:
        stop_stack(stack)


# The document the service serves at /v1/openapi.json, built by the same code in-process
# (test_the_served_document_is_this_one checks they are equal).
DOCUMENT = json.loads(openapi_json())
schema = schemathesis.openapi.from_dict(DOCUMENT)


def test_the_served_document_is_this_one(fuzz_url: str) -> None:
    assert requests.get(fuzz_url + "/v1/openapi.json", timeout=10).json() == DOCUMENT


def security_headers(ctx: Any, response: Any, case: Any) -> None:
    present = {name.lower() for name in response.headers}
    required = SECURITY
    if response.status_code == 403:
        # API Gateway's own answer (a method the admin resource lacks): no function ran, so
        # there is no function version; the security headers come from the Gateway Responses.
        required = tuple(h for h in SECURITY if h != "X-Function-Version")
    missing = [h for h in required if h.lower() not in present]
    if missing:
        raise AssertionError(f"{case.method} {case.formatted_path} answered without {missing}")


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_own_schema(case: Any, fuzz_url: str) -> None:
    response = case.call(base_url=fuzz_url, timeout=15)
    case.validate_response(
        response,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
    security_headers(None, response, case)
