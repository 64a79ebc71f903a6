"""Recommendation: a scenario in words -> the persona for it, with scores and the reasons.

The scenario's key is inferred (core.inference), routed, and explained with the cues that
chose each part plus the routing decision itself.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from core.persona.inference import detect
from core.persona.resonance_models import ResonanceKey
from core.persona.routing import Router


class Recommendation(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    persona: str
    scores: dict[str, float]
    why: list[str]
    resonance_key: str


def recommend(scenario: str, router: Router) -> Recommendation:
    found = detect(scenario)
    parts = found.parts
    key = ResonanceKey(
        normalized_key=found.resonance_key,
        tone=parts["tone"].value,
        pace=parts["pace"].value,
        intent=parts["intent"].value,
    )
    result = router.route(key)
    why: list[str] = []
    for part in ("tone", "pace", "intent"):
        guess = parts[part]
        cues = [cue.split("<-", 1)[1] for cue in found.cues if cue.startswith(f"{part}:{guess.value}<-")]
        if cues:
            why.append(f"{part} {guess.value} (confidence {guess.confidence:.2f}) from {', '.join(cues[:4])}")
        else:
            why.append(f"{part} {guess.value}: no cue in the scenario, the default")
    why.append(result.reasoning)
    return Recommendation(
        persona=result.persona, scores=result.scores, why=why, resonance_key=found.resonance_key
    )
