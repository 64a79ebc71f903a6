"""The word lists and the default catalog are data files: they load, and every entry speaks the
vocabulary of SPEC section 2 (9 tones, 4 paces, 6 intents)."""

from __future__ import annotations

import json

import pytest

from core.persona.data import DATA_DIR, load_data
from core.persona.vocabulary import INTENTS, PACES, TONES, VOCABULARY

DATA_FILES = ("tone_lexicon.json", "intent_lexicon.json", "aliases.json", "default_catalog.json")


def test_the_files_the_code_reads_are_in_the_data_folder() -> None:
    assert set(DATA_FILES) <= {p.name for p in DATA_DIR.glob("*.json")}


@pytest.mark.parametrize("name", sorted(p.name for p in DATA_DIR.glob("*.json")))
def test_each_file_is_valid_utf8_json(name: str) -> None:
    text = (DATA_DIR / name).read_text(encoding="utf-8")
    assert json.loads(text) == load_data(name)


@pytest.mark.parametrize(("name", "values"), [("tone_lexicon.json", TONES), ("intent_lexicon.json", INTENTS)])
def test_lexicons_cover_every_value_with_terms_and_nothing_else(name: str, values: tuple[str, ...]) -> None:
    lexicon = load_data(name)
    assert set(lexicon) == set(values)
    for value, terms in lexicon.items():
        assert terms, f"{value} has no terms"
        assert all(isinstance(t, str) and t and t == t.strip() for t in terms), value
        assert len(terms) == len(set(terms)), f"{value} lists a term twice"


def test_aliases_resolve_to_canonical_values_only() -> None:
    aliases = load_data("aliases.json")
    assert set(aliases) == set(VOCABULARY)
    for part, table in aliases.items():
        for alias, value in table.items():
            assert value in VOCABULARY[part], (part, alias, value)
            # An alias that is itself a canonical value would shadow it.
            assert alias not in VOCABULARY[part], (part, alias)


def test_default_catalog_affinities_use_the_whole_vocabulary() -> None:
    personas = load_data("default_catalog.json")["personas"]
    assert [p["name"] for p in personas] == ["Lua", "Elro", "Riri", "Nana"]
    for persona in personas:
        affinity = persona["affinity"]
        assert list(affinity["tone"]) == list(TONES), persona["name"]
        assert list(affinity["pace"]) == list(PACES), persona["name"]
        assert list(affinity["intent"]) == list(INTENTS), persona["name"]
        for part in ("tone", "pace", "intent"):
            assert all(0.0 <= v <= 1.0 for v in affinity[part].values()), (persona["name"], part)
        assert set(persona["prompts"]) == {"ko", "en"}, persona["name"]
