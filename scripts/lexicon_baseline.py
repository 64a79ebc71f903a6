"""The lexicon detector the trained model replaced, kept runnable as the baseline for
`make eval` and the detect bench row (scripts/eval_detector.py, bench/run.py). Not used by the API.

Message -> resonance key: Korean and English lexicons plus surface cues.

Deterministic and local. Each lexicon hit or surface cue adds weight to one value of a part;
the best-weighted value wins (ties go to vocabulary order) and its confidence grows with the
amount of evidence and its lead over the runner-up. With no evidence a part falls back to
calm / medium / learning with a low confidence (0 for an empty message).

English terms match on word boundaries (`we` must not fire inside `answer`); Korean terms
match anywhere, since Korean attaches endings and particles to stems (짜증 in 짜증나, 짜증이).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from core.persona.detector_features import Lexicon, compile_lexicon, lexicon_hits
from core.persona.resonance_models import ResonanceKey
from core.persona.vocabulary import DEFAULTS, INTENTS, PACES, TONES, Part, canonical_key

# The word lists as they were when this detector was replaced (round 3): the trained model's lists
# in core/persona/data have grown since, and the baseline must stay the detector it was.
_FROZEN = Path(__file__).resolve().parent / "data"


def _frozen(name: str) -> Lexicon:
    raw = json.loads((_FROZEN / f"lexicon_baseline_{name}.json").read_text(encoding="utf-8"))
    return compile_lexicon({value: tuple(terms) for value, terms in raw.items()})


TONES_LEX = _frozen("tone")
INTENTS_LEX = _frozen("intent")

_QUESTION_WORDS = re.compile(r"\b(why|how|what)\b|왜|어떻게|뭐")
_DOUBLE_BANG = re.compile(r"!{2,}")
_DOUBLE_QUESTION = re.compile(r"\?{2,}")
_ELLIPSIS = re.compile(r"\.{3,}|…")
_CAPS_WORD = re.compile(r"\b[A-Z]{3,}\b")
_SENTENCE_END = re.compile(r"[.!?。…]+|\n+")
_HESITATION = re.compile(r"\b(hmm+|perhaps|maybe|i suppose)\b|글쎄|아마|(?<![가-힣])음+(?![가-힣])")
_WIDE = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af\u3040-\u30ff\u4e00-\u9fff]")


_WORD = re.compile(r"[a-z0-9']+")


class PartGuess(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    value: str
    confidence: float


class Detection(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    resonance_key: str
    parts: dict[str, PartGuess]
    cues: list[str]


@dataclass
class _Tally:
    order: tuple[str, ...]
    weights: dict[str, float]

    def add(self, value: str, weight: float) -> None:
        self.weights[value] = self.weights.get(value, 0.0) + weight

    def winner(self, default: str, empty: bool) -> PartGuess:
        if not self.weights:
            return PartGuess(value=default, confidence=0.0 if empty else 0.2)
        ranked = sorted(self.weights.items(), key=lambda item: (-item[1], self.order.index(item[0])))
        value, top = ranked[0]
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        share = top / (top + second)
        confidence = share * (1 - 0.5 ** (top + 0.5))
        return PartGuess(value=value, confidence=round(min(0.95, confidence), 3))


def _lexicon(
    lowered: str, words: list[str], lexicon: Lexicon, part: Part, tally: _Tally, cues: list[str]
) -> None:
    hits = lexicon_hits(lowered, words, lexicon)
    for term, value in hits:  # each term counts once however often it is repeated
        tally.add(value, 1.0)
        cues.append(f"{part}:{value}<-'{term}'")


def detect(message: str) -> Detection:
    text = message if isinstance(message, str) else ""
    lowered = text.lower()
    stripped = text.strip()
    empty = not stripped
    cues: list[str] = []
    tone = _Tally(TONES, {})
    pace = _Tally(PACES, {})
    intent = _Tally(INTENTS, {})

    words = _WORD.findall(lowered)
    _lexicon(lowered, words, TONES_LEX, "tone", tone, cues)
    _lexicon(lowered, words, INTENTS_LEX, "intent", intent, cues)

    bangs = _DOUBLE_BANG.search(text)
    questions = _DOUBLE_QUESTION.search(text)
    caps = _CAPS_WORD.findall(text)
    ellipses = len(_ELLIPSIS.findall(text))
    if bangs:
        tone.add("frustrated", 0.5)
        tone.add("urgent", 0.5)
        pace.add("burst", 1.0)
        cues.append("pace:burst<-'!!'")
    if questions:
        tone.add("confused", 0.5)
        pace.add("burst", 0.5)
        cues.append("tone:confused<-'??'")
    if caps:
        tone.add("frustrated", 0.5)
        pace.add("burst", 0.5)
        cues.append(f"pace:burst<-'{caps[0]}'")
    if "?" in text and _QUESTION_WORDS.search(lowered):
        tone.add("curious", 0.5)
        intent.add("learning", 0.5)
        cues.append("intent:learning<-question word")
    if ellipses:
        pace.add("contemplative", 1.0 + 0.5 * min(ellipses - 1, 2))
        cues.append("pace:contemplative<-'...'")
    if _HESITATION.search(lowered):
        pace.add("contemplative", 0.5)
        cues.append("pace:contemplative<-hesitation")

    # Lengths in display width: a Hangul or CJK character says about as much as two Latin ones.
    sentences = [s for s in _SENTENCE_END.split(stripped) if s.strip()]
    width = len(stripped) + len(_WIDE.findall(stripped))
    average = width / max(1, len(sentences))
    if not empty:
        if width <= 25:
            pace.add("burst", 1.0)
            cues.append("pace:burst<-short message")
        elif (len(sentences) >= 3 and average < 30) or (len(sentences) == 2 and average < 22):
            pace.add("burst", 1.0)
            cues.append("pace:burst<-short sentences")
        elif width >= 160:
            # Long and unhurried: musing when it reflects or hesitates, otherwise flowing.
            if "reflection" in intent.weights or _HESITATION.search(lowered):
                pace.add("contemplative", 1.0)
                cues.append("pace:contemplative<-long reflective message")
            else:
                pace.add("flowing", 1.0)
                cues.append("pace:flowing<-long message")

    tone_guess = tone.winner(DEFAULTS["tone"], empty)
    pace_guess = pace.winner(DEFAULTS["pace"], empty)
    intent_guess = intent.winner(DEFAULTS["intent"], empty)
    return Detection(
        resonance_key=canonical_key(tone_guess.value, pace_guess.value, intent_guess.value),
        parts={"tone": tone_guess, "pace": pace_guess, "intent": intent_guess},
        cues=cues,
    )


def detect_key(message: str) -> ResonanceKey:
    found = detect(message)
    return ResonanceKey(
        normalized_key=found.resonance_key,
        tone=found.parts["tone"].value,
        pace=found.parts["pace"].value,
        intent=found.parts["intent"].value,
    )
