"""Persona and catalog validation: what an operator can and cannot write."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from core.persona.default_catalog import default_catalog
from core.persona.personas import (
    Affinity,
    CatalogConfig,
    Persona,
    PersonaSpec,
    PromptTemplate,
    Weights,
    capabilities,
)


def spec(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "display_name": "Mia",
        "description": "A test persona",
        "traits": ["calm"],
        "strengths": ["tests"],
        "prompt_style": "short",
        "affinity": {"tone": {"calm": 1.0}, "pace": {}, "intent": {}},
        "prompts": {"ko": {"system": "{display_name} {tone}", "user": "{message}"}},
    }
    body.update(changes)
    return body


def test_a_valid_spec_becomes_a_persona_and_round_trips() -> None:
    persona = Persona.from_spec("Mia", PersonaSpec.model_validate(spec()))
    assert persona.name == "Mia" and persona.version == 1 and persona.priority == 100 and persona.enabled
    again = PersonaSpec.model_validate(persona.representation())  # GET body PUT back unchanged
    assert Persona.from_spec("Mia", again) == persona


@pytest.mark.parametrize("name", ["", "1abc", "a b", "a" * 33, "Lua!", "../x", "é"])
def test_bad_names(name: str) -> None:
    with pytest.raises(ValidationError):
        Persona.from_spec(name, PersonaSpec.model_validate(spec()))


def test_affinity_typo_is_an_error_naming_the_nearest_value() -> None:
    with pytest.raises(ValidationError) as caught:
        Affinity(tone={"frustated": 1.0})
    assert "frustrated" in str(caught.value)
    with pytest.raises(ValidationError):
        Affinity(pace={"fast": 1.0})


@pytest.mark.parametrize("value", [-0.1, 1.01, float("nan")])
def test_affinity_values_stay_in_range(value: float) -> None:
    with pytest.raises(ValidationError):
        Affinity(tone={"calm": value})


def test_missing_affinity_counts_half() -> None:
    assert Affinity(tone={"calm": 0.9}).value("tone", "urgent") == 0.5


def test_weights_must_sum_to_one() -> None:
    assert Weights(tone=0.6, pace=0.2, intent=0.2).tone == 0.6
    with pytest.raises(ValidationError):
        Weights(tone=0.6, pace=0.3, intent=0.2)
    with pytest.raises(ValidationError):
        CatalogConfig(continuity_bonus=0.2)


@pytest.mark.parametrize(
    "template",
    ["{persona.__class__}", "{message[0]}", "{secret}", "{message!r}", "{tone:>10}", "unbalanced {", "x } y"],
)
def test_templates_accept_only_known_plain_placeholders(template: str) -> None:
    with pytest.raises(ValidationError):
        PromptTemplate(system=template, user="{message}")


def test_literal_braces_are_allowed() -> None:
    assert PromptTemplate(system='JSON looks like {{"a": 1}}', user="{message}").system


def test_unknown_fields_and_missing_korean_prompts_are_refused() -> None:
    with pytest.raises(ValidationError):
        PersonaSpec.model_validate(spec(colour="blue"))
    with pytest.raises(ValidationError):
        PersonaSpec.model_validate(spec(prompts={"en": {"system": "x", "user": "{message}"}}))


def test_default_catalog_matches_the_spec() -> None:
    catalog = default_catalog()
    assert [p.name for p in catalog.personas] == ["Lua", "Elro", "Riri", "Nana"]
    assert [p.priority for p in catalog.personas] == [1, 2, 3, 4]
    lua, elro, riri, nana = catalog.personas
    assert lua.affinity.tone["analytical"] == 0.3 and elro.affinity.pace["burst"] == 0.4
    assert riri.affinity.intent["validation"] == 1.0 and nana.affinity.tone["urgent"] == 1.0
    for persona in catalog.personas:
        assert set(persona.prompts) == {"ko", "en"}
        assert all(
            len(getattr(persona.affinity, part)) == n for part, n in (("tone", 9), ("pace", 4), ("intent", 6))
        )
    assert catalog.config.weights == Weights() and catalog.config.continuity_bonus == 0.05


def test_locale_falls_back_to_korean() -> None:
    lua = default_catalog().get("Lua")
    assert lua is not None
    assert lua.template("en-US") == lua.prompts["en"]
    assert lua.template("fr") == lua.prompts["ko"]


def test_capabilities_list_the_best_values() -> None:
    summary = capabilities(default_catalog().personas[0])  # Lua
    assert summary["best_tones"] == ["frustrated", "playful", "anxious"]
    assert summary["best_paces"] == ["burst", "flowing", "contemplative"]
    assert summary["best_intents"] == ["seek_advice", "reflection"]
    assert summary["version"] == 1 and summary["traits"]


def test_catalog_names_are_unique() -> None:
    lua = default_catalog().personas[0]
    with pytest.raises(ValidationError):
        type(default_catalog())(version=1, personas=(lua, lua))
