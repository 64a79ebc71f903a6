"""The proxy-event check's fast path (plain dicts of str, C-level type scans) never decides
differently from the general check it short-cuts: it only ever says "well formed" for events the
general check accepts, and everything else goes to the general check."""

from __future__ import annotations

from typing import Any

import pytest

from handlers.common import http


class Text(str):
    pass


class Mapping(dict[str, Any]):
    pass


def event(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "httpMethod": "POST",
        "path": "/v1/route",
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": {"a": ["1", "2"]},
        "pathParameters": None,
        "stageVariables": {},
        "requestContext": {},
    }
    return {**base, **overrides}


def general(e: dict[str, Any]) -> bool:
    return all(http._is_map_of(e.get(n), http._is_str) for n in http._STRING_MAPS) and all(
        http._is_map_of(e.get(n), http._is_str_list) for n in http._LIST_MAPS
    )


CASES = [
    event(),
    event(headers=None, multiValueHeaders=None),
    event(headers={"X": 1}),
    event(headers={1: "x"}),
    event(headers=["x"]),
    event(headers={"X": Text("subclass")}),
    event(headers=Mapping({"X": "y"})),
    event(multiValueHeaders={"X": "not-a-list"}),
    event(multiValueHeaders={"X": ["ok", 2]}),
    event(multiValueHeaders={"X": [Text("subclass")]}),
    event(multiValueQueryStringParameters={"X": []}),
    event(pathParameters={"name": None}),
]


@pytest.mark.parametrize("candidate", CASES)
def test_fast_path_agrees_with_the_general_check(candidate: dict[str, Any]) -> None:
    expected = general(candidate)
    if http._plainly_well_formed(candidate):
        assert expected  # the fast path never accepts what the general check refuses
    assert http.is_proxy_event(candidate) is expected


def test_the_cases_cover_both_answers() -> None:
    assert {general(c) for c in CASES} == {True, False}
    assert any(general(c) and not http._plainly_well_formed(c) for c in CASES)  # subclasses: slow path
