"""Result models of resonance-key parsing (SPEC section 2). Parsing lives in core.resonance."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.persona.vocabulary import Part

CorrectionRule = Literal["case", "separator", "alias", "prefix", "typo", "default"]


class Correction(BaseModel):
    model_config = ConfigDict(frozen=True)

    part: Part
    input: str
    resolved: str
    rule: CorrectionRule


class ResonanceKey(BaseModel):
    """A parsed, canonical key plus every correction made to reach it."""

    model_config = ConfigDict(frozen=True)

    normalized_key: str
    tone: str
    pace: str
    intent: str
    corrections: tuple[Correction, ...] = ()


class KeyProblem(BaseModel):
    """One bad part of a key: unresolvable, missing (input null) or extra."""

    model_config = ConfigDict(frozen=True)

    part: Literal["tone", "pace", "intent", "extra", "key"]
    input: str | None
    reason: str
    suggestions: list[str] = Field(default_factory=list, max_length=3)


class KeyValidation(BaseModel):
    """Body of POST /v1/resonance/validate (200 whether valid or not)."""

    model_config = ConfigDict(defer_build=True)

    valid: bool
    normalized_key: str | None
    corrections: list[Correction]
    errors: list[KeyProblem]
