"""The HTTP guard's answers to what the resolver would mishandle (issue 12): media types in any
case reach the resolver lower-cased, NaN/Infinity literals are 400, a top-level array is 422."""

from __future__ import annotations

import json
from typing import Any

import pytest

from handlers.common.http import precheck


def _event(body: str, content_type: str = "application/json", method: str = "POST") -> dict[str, Any]:
    return {
        "httpMethod": method,
        "path": "/v1/route",
        "headers": {"Content-Type": content_type},
        "multiValueHeaders": {"Content-Type": [content_type]},
        "body": body,
        "isBase64Encoded": False,
    }


def _code(response: dict[str, Any] | None) -> str | None:
    return None if response is None else json.loads(response["body"])["error"]["code"]


@pytest.mark.parametrize(
    ("sent", "seen"),
    [
        ("APPLICATION/JSON", "application/json"),
        ("Application/Json", "application/json"),
        ("application/JSON; charset=UTF-8", "application/json; charset=UTF-8"),
        ("  Application/JSON ;charset=utf-8", "application/json;charset=utf-8"),
    ],
)
def test_the_resolver_sees_a_lower_case_media_type(sent: str, seen: str) -> None:
    event = _event('{"resonance_key": "calm-medium-learning"}', sent)
    assert precheck(event, "r") is None
    assert event["headers"]["Content-Type"] == seen
    assert event["multiValueHeaders"]["Content-Type"] == [seen]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_literals_are_400(literal: str) -> None:
    assert _code(precheck(_event(f'{{"resonance_key": "a-b-c", "x": {literal}}}'), "r")) == "BAD_REQUEST"


def test_the_words_inside_strings_are_fine() -> None:
    assert precheck(_event('{"message": "NaN and Infinity are words"}'), "r") is None


@pytest.mark.parametrize("body", ['[{"resonance_key": "calm-medium-learning"}]', "  []", "[1, 2]"])
def test_a_top_level_array_is_422(body: str) -> None:
    response = precheck(_event(body), "r")
    assert _code(response) == "VALIDATION_ERROR"
    assert response is not None and response["statusCode"] == 422


def test_a_broken_array_is_left_to_the_json_parser() -> None:
    assert precheck(_event("[1, "), "r") is None  # the resolver answers 400 for malformed JSON


def test_a_body_on_get_is_not_inspected() -> None:
    assert precheck(_event("[1]", method="GET"), "r") is None
