"""A chat message of only whitespace is a 422 VALIDATION_ERROR naming the field (issue 15);
detect still answers an empty message with the default key at confidence 0."""

from __future__ import annotations

import json

import pytest

from tests.integration.test_chat_handler import CountingBackend, _body, _chat
from tests.integration.test_chat_handler import backend as backend  # fixture, by parameter name
from tests.lambda_events import LambdaContext, rest_event


@pytest.mark.parametrize("message", ["", " ", "   \n\t  ", "\u3000"])
def test_blank_chat_message_is_a_validation_error_naming_the_field(
    backend: CountingBackend, message: str
) -> None:
    response = _chat({"message": message})
    assert response["statusCode"] == 422
    error = _body(response)["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert "message" in json.dumps(error["details"]) + error["message"]
    assert backend.calls == 0


def test_a_message_with_text_around_spaces_is_accepted(backend: CountingBackend) -> None:
    assert _chat({"message": "  hello  "})["statusCode"] == 200


@pytest.mark.parametrize("message", ["", "   "])
def test_detect_answers_an_empty_message_with_the_default_key(message: str) -> None:
    from handlers.api import lambda_handler

    event = rest_event(
        "POST",
        "/v1/resonance/detect",
        body=json.dumps({"message": message}),
        headers={"Content-Type": "application/json"},
    )
    response = lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 200
    body = json.loads(response["body"])
    assert body["resonance_key"] == "calm-medium-learning"
    assert all(part["confidence"] == 0.0 for part in body["parts"].values())
