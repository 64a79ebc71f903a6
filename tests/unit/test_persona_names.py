"""Persona names resolve case-insensitively in the core catalog lookup, with one canonical
spelling; an unknown name is NOT_FOUND naming the closest names."""

from __future__ import annotations

import pytest

from core.persona.default_catalog import default_catalog
from core.shared.errors import NotFound


@pytest.mark.parametrize("asked", ["Lua", "lua", "LUA", "lUa"])
def test_any_case_finds_the_canonical_persona(asked: str) -> None:
    catalog = default_catalog()
    assert catalog.get(asked) is not None
    assert catalog.require(asked).name == "Lua"


def test_unknown_name_is_not_found_with_the_closest_names() -> None:
    with pytest.raises(NotFound) as caught:
        default_catalog().require("Elroo")
    assert caught.value.details == [{"name": "Elroo", "suggestions": ["Elro"]}]
    assert "Elro" in caught.value.message


def test_a_name_like_none_has_no_suggestions() -> None:
    with pytest.raises(NotFound) as caught:
        default_catalog().require("zzzzzzzz")
    assert caught.value.details[0]["suggestions"] == []


def test_an_exact_spelling_wins_over_a_folded_one() -> None:
    catalog = default_catalog()
    lua = catalog.require("Lua")
    twin = lua.model_copy(update={"name": "lua", "priority": 99})
    both = catalog.model_copy(update={"personas": (*catalog.personas, twin)})
    both.model_post_init(None)
    assert both.get("lua") is twin and both.get("Lua") is lua and both.get("LUA") is lua
