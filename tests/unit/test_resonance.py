"""Resonance-key parsing (SPEC section 2): every accepted form, every correction, every error."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.persona.resonance import (
    ALIASES,
    MAX_KEY_LENGTH,
    osa_distance,
    parse_resonance_key,
    suggest,
    validate_resonance_key,
)
from core.persona.vocabulary import DEFAULTS, INTENTS, PACES, TONES, all_keys, canonical_key
from core.shared.errors import InvalidResonanceKey

KEYS = all_keys()


def rules(raw: str, on_invalid: str = "error") -> list[tuple[str, str, str, str]]:
    key = parse_resonance_key(raw, on_invalid)  # type: ignore[arg-type]
    return [(c.part, c.input, c.resolved, c.rule) for c in key.corrections]


def problems(raw: str) -> list[dict]:
    with pytest.raises(InvalidResonanceKey) as caught:
        parse_resonance_key(raw)
    return caught.value.details


def test_there_are_216_keys_and_each_parses_to_itself_without_corrections() -> None:
    assert len(KEYS) == 216
    for tone, pace, intent in KEYS:
        key = parse_resonance_key(canonical_key(tone, pace, intent))
        assert (key.tone, key.pace, key.intent) == (tone, pace, intent)
        assert key.corrections == ()


@st.composite
def variants(draw: st.DrawFn) -> tuple[str, str]:
    tone, pace, intent = draw(st.sampled_from(KEYS))

    def case(word: str) -> str:
        return "".join(c.upper() if draw(st.booleans()) else c for c in word)

    sep = st.sampled_from(["-", "_", " ", "--", " - ", "__"])
    intent_words = intent.split("_")
    written_intent = intent_words[0] + "".join(draw(sep) + w for w in intent_words[1:])
    space = draw(st.sampled_from(["", " ", "\t", "  "]))
    raw = space + case(tone) + draw(sep) + case(pace) + draw(sep) + case(written_intent) + space
    return raw, canonical_key(tone, pace, intent)


@given(variants())
@settings(max_examples=400, deadline=None)
def test_any_case_and_separator_variant_parses_back(pair: tuple[str, str]) -> None:
    raw, expected = pair
    assert parse_resonance_key(raw).normalized_key == expected
    assert {c.rule for c in parse_resonance_key(raw).corrections} <= {"case", "separator"}


@given(st.text(max_size=300))
@settings(max_examples=500, deadline=None)
def test_arbitrary_text_raises_only_the_documented_error(raw: str) -> None:
    try:
        key = parse_resonance_key(raw)
    except InvalidResonanceKey as exc:
        assert exc.code == "INVALID_RESONANCE_KEY"
        assert exc.details and all(set(d) == {"part", "input", "reason", "suggestions"} for d in exc.details)
        assert all(len(d["suggestions"]) <= 3 for d in exc.details)
    else:
        assert key.normalized_key in {canonical_key(*k) for k in KEYS}


@given(st.one_of(st.text(max_size=200), st.binary().map(lambda b: b.decode("latin-1"))))
@settings(max_examples=300, deadline=None)
def test_validate_never_raises(raw: str) -> None:
    result = validate_resonance_key(raw)
    assert result.valid == (result.normalized_key is not None)
    assert result.valid or result.errors


def test_spec_example_reports_each_step_in_order() -> None:
    assert rules("Frustrated_Burst_Seeking-Advice") == [
        ("tone", "Frustrated", "frustrated", "case"),
        ("pace", "_", "-", "separator"),
        ("pace", "Burst", "burst", "case"),
        ("intent", "_", "-", "separator"),
        ("intent", "Seeking-Advice", "seeking-advice", "case"),
        ("intent", "seeking-advice", "seeking_advice", "separator"),
        ("intent", "seeking_advice", "seek_advice", "alias"),
    ]


def test_surrounding_space_is_trimmed_silently() -> None:
    assert rules("  calm-medium-learning\n") == []


def test_separator_runs_and_spaces_are_reported() -> None:
    assert rules("calm--medium learning") == [
        ("pace", "--", "-", "separator"),
        ("intent", " ", "-", "separator"),
    ]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("seek-advice", "seek_advice"),
        ("problem solving", "problem_solving"),
        ("Problem-Solving", "problem_solving"),
    ],
)
def test_multi_word_intents_with_other_separators(written: str, expected: str) -> None:
    assert parse_resonance_key(f"calm-medium-{written}").intent == expected


ALL_ALIASES = [(part, alias, value) for part, table in ALIASES.items() for alias, value in table.items()]


@pytest.mark.parametrize(("part", "alias", "value"), ALL_ALIASES)
def test_every_alias(part: str, alias: str, value: str) -> None:
    parts = {"tone": "calm", "pace": "medium", "intent": "learning"}
    parts[part] = alias
    key = parse_resonance_key(f"{parts['tone']}-{parts['pace']}-{parts['intent']}")
    assert getattr(key, part) == value
    assert (part, alias, value, "alias") in [(c.part, c.input, c.resolved, c.rule) for c in key.corrections]


@pytest.mark.parametrize(
    ("alias", "value"),
    [
        ("seeking_advice", "seek_advice"),
        ("advice", "seek_advice"),
        ("solve", "problem_solving"),
        ("validate", "validation"),
        ("plan", "planning"),
        ("reflect", "reflection"),
        ("inquiry", "learning"),
        ("statement", "reflection"),
        ("expressive", "reflection"),
    ],
)
def test_the_spec_aliases_and_older_intents(alias: str, value: str) -> None:
    assert parse_resonance_key(f"calm-medium-{alias}").intent == value


def test_korean_words_cover_every_value_of_every_part() -> None:
    for part, values in (("tone", TONES), ("pace", PACES), ("intent", INTENTS)):
        korean = {v for a, v in ALIASES[part].items() if not a.isascii()}  # type: ignore[index]
        assert korean == set(values), part


def test_korean_key() -> None:
    assert parse_resonance_key("좌절-버스트-조언").normalized_key == "frustrated-burst-seek_advice"
    assert parse_resonance_key("차분 보통 학습").normalized_key == "calm-medium-learning"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("frus-burst-learning", ("tone", "frus", "frustrated")),
        ("calm-contemp-learning", ("pace", "contemp", "contemplative")),
        ("calm-medium-prob", ("intent", "prob", "problem_solving")),
    ],
)
def test_unique_prefixes(raw: str, expected: tuple[str, str, str]) -> None:
    assert (*expected, "prefix") in rules(raw)


def test_prefixes_shorter_than_three_letters_are_not_prefixes() -> None:
    # Two letters are never taken as a prefix; "ca" is two edits from "calm" alone, so it
    # resolves as a typo, and says so.
    assert ("tone", "ca", "calm", "typo") in rules("ca-medium-learning")
    details = problems("q-medium-learning")
    assert details[0]["part"] == "tone"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("calm-brust-learning", ("pace", "brust", "burst")),
        ("calm-medium-leanning", ("intent", "leanning", "learning")),
        ("frustarted-burst-learning", ("tone", "frustarted", "frustrated")),
        ("clam-medium-learning", ("tone", "clam", "calm")),
    ],
)
def test_typos_within_two_edits(raw: str, expected: tuple[str, str, str]) -> None:
    assert (*expected, "typo") in rules(raw)


@pytest.mark.parametrize(
    ("word", "alias", "value"), [("plane", "plan", "planning"), ("reflex", "reflect", "reflection")]
)
def test_typos_are_measured_against_values_not_aliases(word: str, alias: str, value: str) -> None:
    # One or two edits from an alias, but more than two from every value: not a typo (SPEC section 2).
    assert osa_distance(word, alias) <= 2
    assert all(osa_distance(word, v) > 2 for v in INTENTS)
    details = problems(f"calm-medium-{word}")
    assert [(d["part"], d["input"]) for d in details] == [("intent", word)]
    assert details[0]["suggestions"][0] == value
    assert parse_resonance_key(f"calm-medium-{alias}").intent == value  # the alias itself still resolves


def test_a_typo_three_edits_away_is_an_error() -> None:
    assert osa_distance("bzzzt", "burst") == 3
    details = problems("calm-bzzzt-learning")
    assert [d["part"] for d in details] == ["pace"]
    assert details[0]["suggestions"][0] == "burst"


def test_a_typo_equally_near_two_values_is_an_error() -> None:
    # "nrious" is two edits from both "curious" and "anxious": no unique nearest value.
    assert osa_distance("nrious", "curious") == osa_distance("nrious", "anxious") == 2
    details = problems("nrious-medium-learning")
    assert details[0]["part"] == "tone"
    assert {"curious", "anxious"} <= set(details[0]["suggestions"])


def test_transposition_is_one_edit() -> None:
    assert osa_distance("brust", "burst") == 1
    assert osa_distance("leanning", "learning") == 1
    assert osa_distance("ab", "ba") == 1


def test_every_bad_part_is_listed_with_ranked_suggestions() -> None:
    details = problems("banana-bruxxx-xyzzy")
    assert [d["part"] for d in details] == ["tone", "pace", "intent"]
    assert all(1 <= len(d["suggestions"]) <= 3 for d in details)
    assert details[0]["input"] == "banana"


def test_missing_parts() -> None:
    details = problems("calm")
    assert [(d["part"], d["input"]) for d in details] == [("pace", None), ("intent", None)]
    assert [d["part"] for d in problems("")] == ["tone", "pace", "intent"]
    assert [d["part"] for d in problems("   ")] == ["tone", "pace", "intent"]


def test_extra_parts() -> None:
    details = problems("calm-medium-learning-now-please")
    assert [(d["part"], d["input"]) for d in details] == [("extra", "now please")]


@pytest.mark.parametrize(
    ("raw", "extra"),
    [
        ("frustrated-burst-seek_advice-now", "now"),
        ("calm-medium-problem-solving-now", "now"),
        ("calm-medium-Problem_Solving now please", "now please"),
        ("calm-medium-seeking-advice-right-now", "right now"),
    ],
)
def test_extra_parts_after_a_multi_word_intent_are_only_the_words_after_it(raw: str, extra: str) -> None:
    assert [(d["part"], d["input"]) for d in problems(raw)] == [("extra", extra)]


def test_the_intent_prefers_the_longest_exact_or_alias_run_over_a_prefix_or_typo() -> None:
    # "problem" alone resolves too (a unique prefix), but the two-word exact value is longer.
    assert ("intent", "problem", "problem_solving", "prefix") in rules("calm-medium-problem")
    assert problems("calm-medium-problem-solving-now")[0]["input"] == "now"
    # "plan nig" resolves as a typo of planning, yet the exact alias "plan" is preferred.
    assert ("intent", "plan_nig", "planning", "typo") in rules("calm-medium-plan-nig")
    assert problems("calm-medium-plan-nig-now")[0]["input"] == "nig now"


def test_a_prefix_or_typo_run_is_used_when_nothing_resolves_exactly() -> None:
    assert ("intent", "lea", "learning", "prefix") in rules("calm-medium-lea")
    assert [(d["part"], d["input"]) for d in problems("calm-medium-lea-foo")] == [("extra", "foo")]


def test_intent_words_that_never_resolve_are_one_unknown_intent_not_extra_parts() -> None:
    details = problems("calm-medium-xyz-learning")
    assert [(d["part"], d["input"]) for d in details] == [("intent", "xyz-learning")]


def test_edge_separators_are_reported_not_dropped() -> None:
    assert rules("-calm-burst-learning-") == [
        ("tone", "-", "", "separator"),
        ("intent", "-", "", "separator"),
    ]
    assert rules("_calm-burst-learning") == [("tone", "_", "", "separator")]
    assert rules("  __calm-burst-Seek-Advice -\t") == [
        ("tone", "__", "", "separator"),
        ("intent", "Seek-Advice", "seek-advice", "case"),
        ("intent", "seek-advice", "seek_advice", "separator"),
        ("intent", " -", "", "separator"),
    ]


def test_a_trailing_separator_belongs_to_the_last_written_part() -> None:
    key = parse_resonance_key("calm-medium_", "default")
    corrections = [(c.part, c.input, c.resolved, c.rule) for c in key.corrections]
    assert corrections == [("pace", "_", "", "separator"), ("intent", "", "learning", "default")]
    assert [d["part"] for d in problems("---")] == ["tone", "pace", "intent"]


def test_over_long_keys_are_refused_before_trimming() -> None:
    padded = " " * (MAX_KEY_LENGTH - len("calm-medium-learning")) + "calm-medium-learning"
    assert parse_resonance_key(padded).normalized_key == "calm-medium-learning"
    details = problems(padded + " ")
    assert details[0]["part"] == "key"
    assert len(details[0]["input"]) < 100


def test_ten_thousand_characters_and_control_characters() -> None:
    assert problems("a" * 10_000)[0]["part"] == "key"
    assert problems("calm\x00-medium-learning")[0]["part"] == "key"
    assert problems("\u202ecalm-medium-learning")[0]["part"] == "key"


def test_on_invalid_default_substitutes_and_reports() -> None:
    key = parse_resonance_key("banana-medium", "default")
    assert (key.tone, key.pace, key.intent) == (DEFAULTS["tone"], "medium", DEFAULTS["intent"])
    assert ("tone", "banana", "calm", "default") in [
        (c.part, c.input, c.resolved, c.rule) for c in key.corrections
    ]
    assert ("intent", "", "learning", "default") in [
        (c.part, c.input, c.resolved, c.rule) for c in key.corrections
    ]


def test_on_invalid_default_still_refuses_extra_and_over_long() -> None:
    with pytest.raises(InvalidResonanceKey):
        parse_resonance_key("calm-medium-learning-extra", "default")
    with pytest.raises(InvalidResonanceKey):
        parse_resonance_key("x" * 200, "default")


def test_errors_are_fresh_each_time() -> None:
    first = problems("banana-medium-learning")
    first[0]["suggestions"].append("tampered")
    assert "tampered" not in problems("banana-medium-learning")[0]["suggestions"]


def test_non_strings_are_the_documented_error() -> None:
    for value in (None, 12, ["calm"], {"a": 1}):
        with pytest.raises(InvalidResonanceKey):
            parse_resonance_key(value)  # type: ignore[arg-type]
        assert validate_resonance_key(value).valid is False  # type: ignore[arg-type]


def test_suggestions_rank_by_distance_then_vocabulary_order() -> None:
    assert suggest("pace", "burts")[0] == "burst"
    assert suggest("tone", "cal")[0] == "calm"
    assert len(suggest("intent", "zzzzzz")) == 3


def test_validate_reports_corrections_and_errors() -> None:
    ok = validate_resonance_key("CALM-medium-learning")
    assert ok.valid and ok.normalized_key == "calm-medium-learning" and ok.corrections[0].rule == "case"
    bad = validate_resonance_key("calm-medium")
    assert not bad.valid and bad.errors[0].part == "intent"
