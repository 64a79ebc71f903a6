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

import re
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from core.persona.data import load_data
from core.persona.resonance_models import ResonanceKey
from core.persona.vocabulary import DEFAULTS, INTENTS, PACES, TONES, Part, canonical_key

# The word lists are data (core/persona/data/*.json), read once at import: value -> terms, in
# order (an earlier term wins when two values share one). Korean stems, English words, phrases
# and emoji alike; how each term matches is decided by _compile below.
TONE_LEXICON: dict[str, tuple[str, ...]] = {
    value: tuple(terms) for value, terms in load_data("tone_lexicon.json").items()
}
INTENT_LEXICON: dict[str, tuple[str, ...]] = {
    value: tuple(terms) for value, terms in load_data("intent_lexicon.json").items()
}

_QUESTION_WORDS = re.compile(r"\b(why|how|what)\b|왜|어떻게|뭐")
_DOUBLE_BANG = re.compile(r"!{2,}")
_DOUBLE_QUESTION = re.compile(r"\?{2,}")
_ELLIPSIS = re.compile(r"\.{3,}|…")
_CAPS_WORD = re.compile(r"\b[A-Z]{3,}\b")
_SENTENCE_END = re.compile(r"[.!?。…]+|\n+")
_HESITATION = re.compile(r"\b(hmm+|perhaps|maybe|i suppose)\b|글쎄|아마|(?<![가-힣])음+(?![가-힣])")
_WIDE = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af\u3040-\u30ff\u4e00-\u9fff]")


_WORD = re.compile(r"[a-z0-9']+")
_PLAIN_PHRASE = re.compile(r"[a-z0-9' ]+")
STEM_MIN = 5  # single English words this long also match as stems: frustrat -> frustrated


@dataclass(frozen=True)
class _Lexicon:
    """A lexicon split by how its terms match, so a scan is set lookups and substring tests
    (a regex alternation of a few hundred terms costs ~2 us per character)."""

    words: dict[str, tuple[str, str]]  # exact English word -> (term, value)
    stems: dict[str, str]  # English word prefix -> value
    longest_stem: int
    phrases: tuple[tuple[str, str], ...]  # English multi-word terms, matched on word boundaries
    raw: tuple[tuple[str, str], ...]  # Korean stems, emoji, punctuation: plain substrings


def _compile(lexicon: dict[str, tuple[str, ...]]) -> _Lexicon:
    words: dict[str, tuple[str, str]] = {}
    stems: dict[str, str] = {}
    phrases: list[tuple[str, str]] = []
    raw: list[tuple[str, str]] = []
    for value, terms in lexicon.items():
        for term in terms:
            if not term.isascii() or not _PLAIN_PHRASE.fullmatch(term):
                raw.append((term, value))
            elif " " in term:
                phrases.append((term, value))
            elif len(term) >= STEM_MIN:
                stems.setdefault(term, value)
            else:
                words.setdefault(term, (term, value))
    return _Lexicon(words, stems, max(map(len, stems), default=0), tuple(phrases), tuple(raw))


_TONES = _compile(TONE_LEXICON)
_INTENTS = _compile(INTENT_LEXICON)


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
    lowered: str, words: list[str], padded: str, lexicon: _Lexicon, part: Part, tally: _Tally, cues: list[str]
) -> None:
    hits: list[tuple[str, str]] = []
    hits.extend(lexicon.words[w] for w in dict.fromkeys(words) if w in lexicon.words)
    stems = lexicon.stems
    found: dict[str, str] = {}
    for word in dict.fromkeys(words):
        for size in range(STEM_MIN, min(len(word), lexicon.longest_stem) + 1):
            stem = word[:size]
            if stem in stems:
                found.setdefault(stem, stems[stem])
    hits.extend(found.items())
    hits.extend((phrase, value) for phrase, value in lexicon.phrases if f" {phrase} " in padded)
    hits.extend((term, value) for term, value in lexicon.raw if term in lowered)
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
    padded = " " + " ".join(words) + " "
    _lexicon(lowered, words, padded, _TONES, "tone", tone, cues)
    _lexicon(lowered, words, padded, _INTENTS, "intent", intent, cues)

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
