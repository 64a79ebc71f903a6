"""Prompt rendering: the persona's templates filled in, user text kept as data."""

from __future__ import annotations

import pytest

from core.persona.default_catalog import default_catalog
from core.persona.prompts import Turn, build_prompt
from core.persona.resonance import parse_resonance_key

LUA = default_catalog().get("Lua")
KEY = parse_resonance_key("frustrated-burst-seek_advice")
INJECTIONS = [
    "{persona}",
    "{message}{history}{context}",
    "${HOME} $(whoami) `id`",
    "%s %d %(message)s",
    "{{7*7}} {% raw %} <%= 7*7 %>",
    "{0.__class__.__mro__}",
    "{display_name!r:>{width}}",
    "}{ unbalanced {",
]


def test_templates_are_filled_for_the_locale() -> None:
    assert LUA is not None
    ko = build_prompt(LUA, KEY, "도와주세요", locale="ko")
    en = build_prompt(LUA, KEY, "help me", locale="en")
    assert "Lua" in ko.system and "frustrated" in ko.system and "burst" in ko.system
    assert "도와주세요" in ko.user and "(없음)" in ko.user
    assert en.system.startswith("You are Lua") and "help me" in en.user and "(none)" in en.user


@pytest.mark.parametrize("text", INJECTIONS)
def test_template_looking_user_text_comes_out_verbatim(text: str) -> None:
    assert LUA is not None
    history = [Turn(user=text, assistant=text, persona="Lua")]
    prompt = build_prompt(LUA, KEY, text, history=history, context={"note": text}, locale="en")
    assert prompt.user.count(text) >= 3  # message, history (user + reply) and context, each verbatim
    assert "Lua" not in prompt.user.replace(text, "")  # nothing in the text was expanded
    assert "49" not in prompt.user


def test_history_is_the_last_three_exchanges_in_order() -> None:
    assert LUA is not None
    turns = [Turn(user=f"question {i}", assistant=f"answer {i}" if i != 3 else None) for i in range(5)]
    user = build_prompt(LUA, KEY, "now", history=turns, locale="en").user
    assert "question 0" not in user and "question 1" not in user
    assert (
        user.index("question 2")
        < user.index("answer 2")
        < user.index("question 3")
        < user.index("question 4")
    )
    assert "answer 3" not in user  # a turn without a reply shows only the question
    assert "user: question 2\nassistant: answer 2" in user


def test_context_is_rendered_sorted() -> None:
    assert LUA is not None
    user = build_prompt(LUA, KEY, "m", context={"b": "2", "a": "1"}, locale="en").user
    assert "a: 1\nb: 2" in user


def test_every_default_persona_renders_in_both_languages() -> None:
    for persona in default_catalog().personas:
        for locale in ("ko", "en"):
            prompt = build_prompt(persona, KEY, "hello", locale=locale)
            assert persona.display_name in prompt.system
            assert "{" not in prompt.system and "hello" in prompt.user


@pytest.mark.parametrize(
    ("locale", "used", "empty", "other"),
    [
        ("fr", "ko", "(없음)", "(none)"),
        ("fr-CA", "ko", "(없음)", "(none)"),
        ("en-GB", "en", "(none)", "(없음)"),
        ("ko-KR", "ko", "(없음)", "(none)"),
    ],
)
def test_the_empty_placeholder_follows_the_template_actually_used(
    locale: str, used: str, empty: str, other: str
) -> None:
    assert LUA is not None
    assert LUA.template_locale(locale) == used
    assert LUA.prompts[used] == LUA.template(locale)  # the same choice as Persona.template
    prompt = build_prompt(LUA, KEY, "hi", locale=locale)
    expected = LUA.template(locale)
    assert prompt.system.startswith(expected.system.split("{")[0])
    assert prompt.user.count(empty) == expected.user.count("{history}") + expected.user.count("{context}")
    assert other not in prompt.user and other not in prompt.system


def test_a_regional_template_wins_over_its_language() -> None:
    assert LUA is not None
    regional = LUA.model_copy(update={"prompts": {**LUA.prompts, "en-GB": LUA.prompts["en"]}})
    assert regional.template_locale("en-GB") == "en-GB"
    assert regional.template_locale("en-US") == "en"
    assert "(none)" in build_prompt(regional, KEY, "hi", locale="en-GB").user
