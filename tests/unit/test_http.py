"""The HTTP edge shared by every function: guard, envelope, headers."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from handlers.common.http import (
    CSP_DOCS,
    MAX_BODY_BYTES,
    SECURITY_HEADERS,
    error_response,
    finish,
    precheck,
    request_id_of,
)


def _event(
    body: Any = None, content_type: str | None = "application/json", b64: bool = False
) -> dict[str, Any]:
    headers = {"Content-Type": content_type} if content_type else {}
    return {
        "httpMethod": "POST",
        "path": "/v1/route",
        "headers": headers,
        "body": body,
        "isBase64Encoded": b64,
    }


def _code(response: dict[str, Any] | None) -> str | None:
    return None if response is None else json.loads(response["body"])["error"]["code"]


def test_plain_json_passes() -> None:
    assert precheck(_event('{"resonance_key": "calm-medium-learning"}'), "r") is None


def test_empty_body_passes_to_the_route() -> None:
    assert precheck(_event(None), "r") is None
    assert precheck(_event(""), "r") is None


def test_oversize_body_is_413() -> None:
    response = precheck(_event("x" * (MAX_BODY_BYTES + 1)), "r")
    assert response is not None and response["statusCode"] == 413
    assert _code(response) == "PAYLOAD_TOO_LARGE"


def test_multibyte_body_is_measured_in_bytes() -> None:
    # 22,000 Hangul syllables are 66,000 UTF-8 bytes: over the limit though under 64 Ki characters.
    assert _code(precheck(_event("가" * 22000), "r")) == "PAYLOAD_TOO_LARGE"
    assert precheck(_event("가" * 21000), "r") is None


def test_exactly_the_limit_passes() -> None:
    assert precheck(_event("x" * MAX_BODY_BYTES), "r") is None


def test_base64_body_is_decoded_and_normalised() -> None:
    event = _event(base64.b64encode('{"k": "값"}'.encode()).decode(), b64=True)
    assert precheck(event, "r") is None
    assert event["body"] == '{"k": "값"}'
    assert event["isBase64Encoded"] is False


def test_invalid_utf8_is_400() -> None:
    event = _event(base64.b64encode(b'{"k": "\xff\xfe"}').decode(), b64=True)
    response = precheck(event, "r")
    assert response is not None and response["statusCode"] == 400
    assert "UTF-8" in json.loads(response["body"])["error"]["message"]


def test_lone_surrogate_text_is_400() -> None:
    assert _code(precheck(_event('{"k": "\udcff"}'), "r")) == "BAD_REQUEST"


def test_bad_base64_is_400() -> None:
    assert _code(precheck(_event("***", b64=True), "r")) == "BAD_REQUEST"


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_wrong_media_type_is_415(content_type: str) -> None:
    response = precheck(_event("{}", content_type=content_type), "r")
    assert response is not None and response["statusCode"] == 415


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "APPLICATION/JSON"]
)
def test_json_media_types_pass(content_type: str) -> None:
    assert precheck(_event("{}", content_type=content_type), "r") is None


def test_missing_content_type_is_accepted_as_json() -> None:
    assert precheck(_event("{}", content_type=None), "r") is None


def test_error_envelope_shape() -> None:
    response = error_response("CONFLICT", "stale", "req-1", [{"a": 1}], {"Retry-After": "3"})
    assert response["statusCode"] == 409
    assert json.loads(response["body"]) == {
        "error": {"code": "CONFLICT", "message": "stale", "details": [{"a": 1}]},
        "request_id": "req-1",
    }
    assert response["multiValueHeaders"]["Retry-After"] == ["3"]


def test_finish_adds_every_header_and_folds_single_headers() -> None:
    response = {"statusCode": 200, "body": "{}", "headers": {"ETag": '"3"'}}
    finish(response, "req-9", "7")
    headers = response["multiValueHeaders"]
    for name, value in SECURITY_HEADERS.items():
        assert headers[name] == [value]
    assert headers["X-Request-Id"] == ["req-9"]
    assert headers["X-Function-Version"] == ["7"]
    assert headers["ETag"] == ['"3"']
    assert "headers" not in response


def test_finish_keeps_the_docs_policy_only_for_the_docs_page() -> None:
    docs = {"statusCode": 200, "multiValueHeaders": {"Content-Security-Policy": [CSP_DOCS]}}
    finish(docs, "r", "1")
    assert docs["multiValueHeaders"]["Content-Security-Policy"] == [CSP_DOCS]
    sneaky = {"statusCode": 200, "multiValueHeaders": {"Content-Security-Policy": ["default-src *"]}}
    finish(sneaky, "r", "1")
    assert sneaky["multiValueHeaders"]["Content-Security-Policy"] == [
        SECURITY_HEADERS["Content-Security-Policy"]
    ]


def test_request_id_prefers_api_gateway_then_lambda() -> None:
    class Ctx:
        aws_request_id = "lambda-id"

    assert request_id_of({"requestContext": {"requestId": "apigw-id"}}, Ctx()) == "apigw-id"
    assert request_id_of({}, Ctx()) == "lambda-id"
    assert len(request_id_of({}, None)) == 36
