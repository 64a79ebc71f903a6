"""GET / (landing), GET /v1/resonance/vocabulary, GET /playground through the API handler (moto
behind it), and every request-body example of the OpenAPI document sent as Swagger UI's "Try it
out" would send it: each must validate against its own schema and be answered without a 422."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from core.persona.resonance import ALIASES, parse_resonance_key
from core.persona.vocabulary import VOCABULARY
from handlers.common.http import CSP_API, CSP_PLAYGROUND
from tests.lambda_events import LambdaContext, rest_event


def _call(method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    from handlers.api import lambda_handler

    text = None if body is None else json.dumps(body, ensure_ascii=False)
    sent = {"Content-Type": "application/json"} if text is not None else {}
    response: dict[str, Any] = lambda_handler(
        rest_event(method, path, text, {**sent, **(headers or {})}), LambdaContext()
    )
    return response


def _header(response: dict[str, Any], name: str) -> str:
    return response["multiValueHeaders"][name][0]


def test_vocabulary_lists_every_value_with_meanings_and_the_aliases_parsing_accepts(service: Any) -> None:
    response = _call("GET", "/v1/resonance/vocabulary")
    assert response["statusCode"] == 200
    body = json.loads(response["body"])
    for part, plural in (("tone", "tones"), ("pace", "paces"), ("intent", "intents")):
        entries = body[plural]
        assert [e["value"] for e in entries] == list(VOCABULARY[part])
        for entry in entries:
            assert entry["meaning"]["ko"].strip() and entry["meaning"]["en"].strip()
            assert entry["meaning"]["ko"] != entry["meaning"]["en"]
            for alias in entry["aliases"]:
                assert ALIASES[part][alias] == entry["value"]
        # Every alias the parser knows is listed under the value it resolves to.
        assert sum(len(e["aliases"]) for e in entries) == len(ALIASES[part])
    assert body["combinations"] == 216
    # A listed Korean alias really parses to its value.
    korean = next(a for a in body["tones"][0]["aliases"] if not a.isascii())
    assert parse_resonance_key(f"{korean}-burst-learning").tone == body["tones"][0]["value"]
    assert _header(response, "Content-Security-Policy") == CSP_API


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        (None, "application/json"),
        ("application/json", "application/json"),
        ("text/html,application/xhtml+xml,*/*;q=0.8", "text/html; charset=utf-8"),
    ],
)
def test_landing_points_to_docs_openapi_and_playground_under_the_stage(
    service: Any, accept: str | None, content_type: str
) -> None:
    response = _call("GET", "/", headers={"Accept": accept} if accept else None)
    assert response["statusCode"] == 200
    assert _header(response, "Content-Type") == content_type
    # rest_event puts the request under the /dev stage, as API Gateway's default endpoint does.
    for link in ("/dev/v1/docs", "/dev/v1/openapi.json", "/dev/playground"):
        assert link in response["body"]
    assert _header(response, "Content-Security-Policy") == CSP_API


def test_playground_page_and_assets_carry_their_own_csp_and_nothing_else_does(service: Any) -> None:
    page = _call("GET", "/playground", headers={"Accept-Language": "en-GB,en;q=0.8,ko;q=0.5"})
    assert page["statusCode"] == 200 and '<html lang="en">' in page["body"]
    assert _header(page, "Content-Security-Policy") == CSP_PLAYGROUND
    # No inline script or style and no absolute URL: the page works under any stage prefix.
    assert "<script>" not in page["body"] and "<style" not in page["body"] and " style=" not in page["body"]
    assert not re.search(r"\son[a-z]+\s*=", page["body"])  # no inline event handler
    assert 'src="playground/app.js"' in page["body"] and 'href="playground/app.css"' in page["body"]
    korean = _call("GET", "/playground", headers={"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.8"})
    assert '<html lang="ko">' in korean["body"]
    for asset, kind in (("app.js", "text/javascript"), ("app.css", "text/css")):
        answer = _call("GET", f"/playground/{asset}")
        assert answer["statusCode"] == 200 and _header(answer, "Content-Type").startswith(kind)
        assert _header(answer, "Content-Security-Policy") == CSP_PLAYGROUND
    missing = _call("GET", "/playground/secrets.txt")
    assert missing["statusCode"] == 404
    assert _header(missing, "Content-Security-Policy") == CSP_API
    # A route that tries to claim the playground's policy for itself does not get it.
    assert _header(_call("GET", "/health"), "Content-Security-Policy") == CSP_API


def _request_examples(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    schemas = document["components"]["schemas"]
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            content = (operation.get("requestBody") or {}).get("content", {}).get("application/json")
            if not content:
                continue
            schema = content["schema"]
            if "$ref" in schema:
                schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
            for example in schema.get("examples", []):
                found.append((method.upper(), path, schema, example))
    return found


PUBLIC_REQUEST_MODELS = {
    "RouteRequest",
    "ValidateRequest",
    "DetectRequest",
    "RecommendRequest",
    "ChatRequest",
}


def test_every_request_model_has_korean_and_english_examples(service: Any) -> None:
    document = json.loads(_call("GET", "/v1/openapi.json")["body"])
    schemas = document["components"]["schemas"]
    for name in PUBLIC_REQUEST_MODELS:
        examples = schemas[name].get("examples") or []
        text = json.dumps(examples, ensure_ascii=False)
        assert len(examples) >= 2, name
        assert any("\uac00" <= ch <= "\ud7a3" for ch in text), f"{name}: no Korean example"
        assert any(ch.isascii() and ch.isalpha() for ch in text), f"{name}: no English example"


def test_every_request_body_example_validates_and_is_not_a_422(service: Any) -> None:
    import jsonschema

    document = json.loads(_call("GET", "/v1/openapi.json")["body"])
    examples = [e for e in _request_examples(document) if not e[1].startswith("/v1/admin")]
    assert {e[2]["title"] for e in examples} >= PUBLIC_REQUEST_MODELS
    registry_root = {"components": document["components"]}
    for method, path, schema, example in examples:
        jsonschema.validate(example, {**schema, **registry_root})
        response = _call(method, path, example)
        assert response["statusCode"] == 200, (path, example, response["body"])
