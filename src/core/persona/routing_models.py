"""The routing result (SPEC section 3): the one definition of the /v1/route answer, which the
HTTP layer documents as is. A module of its own so the edge can import it without the router."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from core.persona.resonance_models import ResonanceKey


class RoutingResult(BaseModel):
    # Built on first use: a cold request that routes nothing does not pay for it.
    model_config = ConfigDict(frozen=True, defer_build=True)

    persona: str
    secondary_persona: str | None
    confidence: float
    scores: dict[str, float]
    breakdown: dict[str, dict[str, float]]
    reasoning: str
    resonance: ResonanceKey
    catalog_version: int
