"""Recommendation: a scenario in words -> the persona, its scores and why."""

from __future__ import annotations

import pytest

from core.persona.default_catalog import default_catalog
from core.persona.recommend import recommend
from core.persona.routing import Router

ROUTER = Router(default_catalog())


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        ("I'm so frustrated and stressed!! Nothing works, what should I do?", "Lua"),
        ("우리 팀이 다음 분기 출시 일정을 함께 계획해야 해요", "Nana"),
        ("Can you analyze this dataset and compare the conversion metrics?", {"Elro", "Riri"}),
    ],
)
def test_sensible_personas(scenario: str, expected: str | set[str]) -> None:
    result = recommend(scenario, ROUTER)
    assert result.persona in (expected if isinstance(expected, set) else {expected})
    assert set(result.scores) == {"Lua", "Elro", "Riri", "Nana"}


def test_why_names_the_words_that_decided() -> None:
    result = recommend("Our team needs a plan for the launch, let's align together", ROUTER)
    text = " ".join(result.why)
    assert "tone collaborative" in text and "'team'" in text
    assert "intent planning" in text
    assert result.why[-1].startswith(result.persona)  # the routing decision itself comes last
    assert result.resonance_key.startswith("collaborative-")


def test_a_scenario_without_cues_says_so() -> None:
    result = recommend("x", ROUTER)
    assert any("default" in reason for reason in result.why)


def test_deterministic() -> None:
    scenario = "I need help debugging this error in production"
    assert recommend(scenario, ROUTER) == recommend(scenario, ROUTER)
