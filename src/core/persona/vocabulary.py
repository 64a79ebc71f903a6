"""The resonance vocabulary (SPEC section 2): canonical values of each key part."""

from __future__ import annotations

from typing import Final, Literal

Part = Literal["tone", "pace", "intent"]

TONES: Final = (
    "frustrated",
    "playful",
    "anxious",
    "analytical",
    "calm",
    "curious",
    "urgent",
    "confused",
    "collaborative",
)
PACES: Final = ("burst", "flowing", "contemplative", "medium")
INTENTS: Final = ("seek_advice", "problem_solving", "learning", "validation", "planning", "reflection")

PARTS: Final[tuple[Part, ...]] = ("tone", "pace", "intent")
VOCABULARY: Final[dict[Part, tuple[str, ...]]] = {"tone": TONES, "pace": PACES, "intent": INTENTS}

# Used only when a request asks for on_invalid="default".
DEFAULTS: Final[dict[Part, str]] = {"tone": "calm", "pace": "medium", "intent": "learning"}


def canonical_key(tone: str, pace: str, intent: str) -> str:
    return f"{tone}-{pace}-{intent}"


def all_keys() -> list[tuple[str, str, str]]:
    """Every (tone, pace, intent) combination: 9 x 4 x 6 = 216."""
    return [(t, p, i) for t in TONES for p in PACES for i in INTENTS]
