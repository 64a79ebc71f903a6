"""Message -> key inference on labelled Korean and English messages, plus its invariants."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.persona.inference import detect, detect_key
from core.persona.vocabulary import DEFAULTS, INTENTS, PACES, TONES

LABELLED = json.loads((Path(__file__).parent / "data" / "labelled_messages.json").read_text(encoding="utf-8"))


def test_the_labelled_set_is_big_enough_and_bilingual() -> None:
    korean = [m for m in LABELLED if any("\uac00" <= ch <= "\ud7a3" for ch in m["message"])]
    assert len(LABELLED) >= 40
    assert 0.35 <= len(korean) / len(LABELLED) <= 0.65
    for item in LABELLED:
        assert item["tone"] in TONES and item["pace"] in PACES and item["intent"] in INTENTS


MIN_ACCURACY = 0.8


def test_accuracy_on_labelled_messages(capsys: pytest.CaptureFixture[str]) -> None:
    hits = {"tone": 0, "pace": 0, "intent": 0}
    for item in LABELLED:
        found = detect(item["message"])
        for part in hits:
            hits[part] += found.parts[part].value == item[part]
    accuracy = {part: hits[part] / len(LABELLED) for part in hits}
    # Written past pytest's output capture, so every run (`make test` included) shows it.
    with capsys.disabled():
        print(
            f"\n[inference] accuracy on {len(LABELLED)} labelled ko/en messages: "
            + ", ".join(f"{part} {value:.1%}" for part, value in accuracy.items())
            + f" (minimum {MIN_ACCURACY:.0%})"
        )
    assert accuracy["tone"] >= MIN_ACCURACY and accuracy["intent"] >= MIN_ACCURACY, accuracy


# Pace on these older messages follows an older convention in places: two short complete sentences
# are labelled burst ("I'm so fed up with this job, what should I do?"), which the data card calls
# medium (docs/detection.md, Limits).
MIN_PACE_ACCURACY = 0.75


def test_pace_accuracy_on_the_older_labelled_messages() -> None:
    # Was 68% (single ordinary Korean sentences read as burst) before the complete-sentence
    # features and the round-2 medium examples; 86% after round 3, 82% in round 6, 84% in round 12,
    # 77% (34 of 44) in rounds 17 and 18, 82% (36 of 44) in round 22.
    hits = sum(detect(item["message"]).parts["pace"].value == item["pace"] for item in LABELLED)
    assert hits / len(LABELLED) >= MIN_PACE_ACCURACY


def test_one_ordinary_korean_sentence_reads_as_medium() -> None:
    for message in ("블랙홀은 어떻게 작동하는지 궁금해요", "회사를 옮길지 말지 고민이에요. 조언 부탁드려요"):
        assert detect(message).parts["pace"].value == "medium", message
    assert detect("빌드 또 깨짐!! 왜 이래 ㅡㅡ").parts["pace"].value == "burst"


def test_detection_is_deterministic_and_lists_its_cues() -> None:
    message = "왜 또 안 돼?? 진짜 짜증나!!"
    first, second = detect(message), detect(message)
    assert first == second
    assert first.resonance_key == "frustrated-burst-problem_solving"
    assert "tone:frustrated<-'짜증'" in first.cues
    assert "pace:burst<-'!!'" in first.cues


def test_korean_stems_match_inside_inflected_words() -> None:
    for message in ("짜증나", "짜증이 나요", "정말 짜증스럽다"):
        assert detect(message).parts["tone"].value == "frustrated", message


def test_english_words_match_on_word_boundaries() -> None:
    # "we" must not fire inside "answer" or "were"; "fun" not inside "fundamental".
    found = detect("The answers were fundamental to the proof.")
    assert not any(c.startswith("tone:collaborative") or c.startswith("tone:playful") for c in found.cues)


def test_empty_message_gives_the_defaults_with_zero_confidence() -> None:
    found = detect("   ")
    assert found.resonance_key == f"{DEFAULTS['tone']}-{DEFAULTS['pace']}-{DEFAULTS['intent']}"
    assert all(guess.confidence == 0.0 for guess in found.parts.values())
    assert found.cues == []


def test_more_evidence_means_more_confidence() -> None:
    weak = detect("I am worried").parts["tone"]
    strong = detect("I am worried, nervous and scared, what if it all fails").parts["tone"]
    assert weak.value == strong.value == "anxious"
    assert strong.confidence > weak.confidence


def test_detect_key_matches_detect() -> None:
    message = "Can we plan the next sprint together as a team?"
    key = detect_key(message)
    assert key.normalized_key == detect(message).resonance_key
    assert key.corrections == ()


@given(st.text(max_size=500))
@settings(max_examples=300, deadline=None)
def test_any_text_gives_a_valid_key_and_bounded_confidences(message: str) -> None:
    found = detect(message)
    tone, pace, intent = found.resonance_key.split("-")
    assert (tone, pace, intent) == tuple(found.parts[p].value for p in ("tone", "pace", "intent"))
    assert tone in TONES and pace in PACES and intent in INTENTS
    assert all(0.0 <= g.confidence <= 1.0 for g in found.parts.values())


@pytest.mark.parametrize("size", [1, 8000])
def test_message_lengths_up_to_the_limit(size: int) -> None:
    assert detect("가" * size).resonance_key
