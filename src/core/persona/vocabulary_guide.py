"""The vocabulary as a reader sees it (GET /v1/resonance/vocabulary): every value of each key
part with a one-line meaning in Korean and English, the aliases the parser accepts for it, and
the default used with on_invalid="default".

Values come from core.persona.vocabulary, aliases from the parser's own table, meanings from
data/value_meanings.json, so the answer cannot drift from what parsing accepts.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from core.persona.data import load_data
from core.persona.resonance import ALIASES
from core.persona.vocabulary import DEFAULTS, PARTS, VOCABULARY, Part

LOCALES = ("ko", "en")
_PLURAL: dict[Part, str] = {"tone": "tones", "pace": "paces", "intent": "intents"}


def _aliases_by_value(part: Part) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {value: [] for value in VOCABULARY[part]}
    for alias, value in ALIASES[part].items():
        found.setdefault(value, []).append(alias)
    return {value: sorted(words) for value, words in found.items()}


@cache
def vocabulary_guide() -> dict[str, Any]:
    """{"tones": [{value, meaning: {ko, en}, aliases}], "paces": [...], "intents": [...],
    "defaults": {...}, "key_format": ...}. Raises KeyError if a value has no meaning (a test
    holds the data file to the vocabulary)."""
    meanings = load_data("value_meanings.json")
    guide: dict[str, Any] = {}
    for part in PARTS:
        aliases = _aliases_by_value(part)
        guide[_PLURAL[part]] = [
            {
                "value": value,
                "meaning": {locale: meanings[part][value][locale] for locale in LOCALES},
                "aliases": aliases[value],
            }
            for value in VOCABULARY[part]
        ]
    guide["defaults"] = dict(DEFAULTS)
    guide["key_format"] = "tone-pace-intent, e.g. frustrated-burst-seek_advice"
    guide["combinations"] = len(VOCABULARY["tone"]) * len(VOCABULARY["pace"]) * len(VOCABULARY["intent"])
    return guide
