"""Routing (SPEC section 3): which persona fits a resonance key, how sure we are, and why.

score(p)   = w_tone * aff_tone + w_pace * aff_pace + w_intent * aff_intent, clamped to [0, 1]
ranking    = score desc (compared at 6 decimals), then priority asc, then name asc
confidence = clamp(0.3 * (s1 - s2) + 0.7 * s1), s2 = 0 with a single persona

A Router belongs to one catalog version (the catalog cache builds a new one for every new
version). Everything that does not depend on the request - the ranking, scores, breakdown and
reasoning of a key - is computed on the key's first request (or for all 216 keys up front with
warm_all) and memoised for the Router's lifetime: each key is ranked at most once per catalog
version, even when threads race on a cold key (the computation runs under a lock that warm
lookups never take). Routing a warm key is then a dictionary lookup whatever the number of
personas.

A session's continuity bonus raises one persona's score and leaves every other score and their
relative order alone, so the new top two are among the precomputed order's first two plus that
persona: picking them is O(1), not a re-sort. The result still carries every persona's
score, so it copies the shared score and breakdown maps once (a C-level dict copy, O(n)).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from core.persona.personas import Catalog, Persona
from core.persona.resonance_models import ResonanceKey
from core.persona.routing_models import RoutingResult
from core.persona.vocabulary import PARTS, all_keys
from core.shared.errors import Unavailable

SCORE_DIGITS = 6
CONFIDENCE_DIGITS = 3


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def confidence(first: float, second: float) -> float:
    return round(_clamp(0.3 * (first - second) + 0.7 * first), CONFIDENCE_DIGITS)


@dataclass(frozen=True)
class _Ranked:
    """The request-independent part of a routing result for one key. Shared between requests:
    never mutated after construction."""

    persona: str
    secondary: str | None
    confidence: float
    scores: dict[str, float]
    breakdown: dict[str, dict[str, float]]
    reasoning: str
    order: tuple[str, ...]


class Router:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._enabled: list[Persona] = sorted(catalog.enabled(), key=lambda p: (p.priority, p.name))
        self._rank_of = {p.name: (p.priority, p.name) for p in self._enabled}
        self._weights = {part: catalog.config.weights.of(part) for part in PARTS}
        self._bonus = catalog.config.continuity_bonus
        self._cache: dict[tuple[str, str, str], _Ranked] = {}
        self._lock = threading.Lock()

    # ---- precomputation ----------------------------------------------------------------------

    def _compute(self, tone: str, pace: str, intent: str) -> _Ranked:
        if not self._enabled:
            raise Unavailable("no enabled persona in the catalog", retry_after=30)
        values = {"tone": tone, "pace": pace, "intent": intent}
        scores: dict[str, float] = {}
        breakdown: dict[str, dict[str, float]] = {}
        for persona in self._enabled:
            parts: dict[str, float] = {
                part: round(self._weights[part] * persona.affinity.value(part, values[part]), SCORE_DIGITS)
                for part in PARTS
            }
            parts["continuity"] = 0.0
            breakdown[persona.name] = parts
            raw = sum(self._weights[part] * persona.affinity.value(part, values[part]) for part in PARTS)
            scores[persona.name] = round(_clamp(raw), SCORE_DIGITS)
        order = tuple(sorted(scores, key=lambda name: (-scores[name], *self._rank_of[name])))
        first = order[0]
        second = order[1] if len(order) > 1 else None
        s2 = scores[second] if second else 0.0
        return _Ranked(
            persona=first,
            secondary=second,
            confidence=confidence(scores[first], s2),
            scores=scores,
            breakdown=breakdown,
            reasoning=self._reasoning(first, second, scores, breakdown, values),
            order=order,
        )

    def _reasoning(
        self,
        first: str,
        second: str | None,
        scores: dict[str, float],
        breakdown: dict[str, dict[str, float]],
        values: dict[str, str],
    ) -> str:
        if second is None:
            return f"{first} is the only enabled persona (score {scores[first]:.2f})."
        lead = round(scores[first] - scores[second], SCORE_DIGITS)
        if lead == 0:
            mine, theirs = self._rank_of[first], self._rank_of[second]
            rule = f"priority ({mine[0]} vs {theirs[0]})" if mine[0] != theirs[0] else "name order"
            return f"{first} and {second} tie at {scores[first]:.2f}; {first} wins on {rule}."
        leads = {part: breakdown[first][part] - breakdown[second][part] for part in PARTS}
        part = max(PARTS, key=lambda p: (leads[p], -PARTS.index(p)))
        return (
            f"{first} leads {second} by {lead:.2f}, decided by {part} ({values[part]}): "
            f"{breakdown[first][part]:.2f} vs {breakdown[second][part]:.2f}."
        )

    def ranked(self, tone: str, pace: str, intent: str) -> _Ranked:
        key = (tone, pace, intent)
        found = self._cache.get(key)
        if found is None:
            with self._lock:
                found = self._cache.get(key)  # another thread may have ranked it meanwhile
                if found is None:
                    found = self._cache[key] = self._compute(tone, pace, intent)
        return found

    def ranking(self, tone: str, pace: str, intent: str) -> tuple[str, ...]:
        """Enabled persona names, best first."""
        return self.ranked(tone, pace, intent).order

    def warm_all(self) -> None:
        for tone, pace, intent in all_keys():
            self.ranked(tone, pace, intent)

    # ---- requests ----------------------------------------------------------------------------

    def route(self, key: ResonanceKey, previous_persona: str | None = None) -> RoutingResult:
        ranked = self.ranked(key.tone, key.pace, key.intent)
        if previous_persona is not None and previous_persona in self._rank_of and self._bonus > 0:
            return self._with_continuity(key, ranked, previous_persona)
        # model_construct: the shared, already validated dicts are used as they are (no copies).
        return RoutingResult.model_construct(
            persona=ranked.persona,
            secondary_persona=ranked.secondary,
            confidence=ranked.confidence,
            scores=ranked.scores,
            breakdown=ranked.breakdown,
            reasoning=ranked.reasoning,
            resonance=key,
            catalog_version=self.catalog.version,
        )

    def _with_continuity(self, key: ResonanceKey, ranked: _Ranked, previous: str) -> RoutingResult:
        scores = dict(ranked.scores)
        before = scores[previous]
        scores[previous] = round(_clamp(before + self._bonus), SCORE_DIGITS)
        applied = round(scores[previous] - before, SCORE_DIGITS)
        breakdown: dict[str, Any] = dict(ranked.breakdown)
        breakdown[previous] = {**breakdown[previous], "continuity": applied}

        def rank(name: str) -> tuple[float, int, str]:
            return (-scores[name], *self._rank_of[name])

        # Only `previous` moved, and only up (the bonus is >= 0; clamping and rounding never take
        # it below its old score): everyone else keeps the precomputed relative order and whoever
        # ranked below `previous` still does. So the new top two are among the old top two and
        # `previous` - at most three candidates, whatever the number of personas.
        candidates = {*ranked.order[:2], previous}
        order = sorted(candidates, key=rank)[:2]
        first = order[0]
        second = order[1] if len(order) > 1 else None
        values = {"tone": key.tone, "pace": key.pace, "intent": key.intent}
        reasoning = self._reasoning(first, second, scores, breakdown, values)
        if applied:
            reasoning += f" {previous} answered the previous turn (+{applied:.2f} continuity)."
        return RoutingResult.model_construct(
            persona=first,
            secondary_persona=second,
            confidence=confidence(scores[first], scores[second] if second else 0.0),
            scores=scores,
            breakdown=breakdown,
            reasoning=reasoning,
            resonance=key,
            catalog_version=self.catalog.version,
        )
