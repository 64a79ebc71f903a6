"""Carries out long-bake rollouts: reads metrics, decides (core.rollout), moves the alias's
weights and records the new state with optimistic locking.

The traffic shift happens before the state is saved. If the save then loses a race with another
controller run, both computed the same decision from the same state, so the alias already holds
the weight the winner recorded; the loser reports the conflict and changes nothing more.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from core.errors import Conflict, NotFound, ValidationFailed
from core.ports import RolloutStore, TrafficControl, VersionMetrics
from core.rollout import DEFAULT_PLAN, Decision, Gates, Rollout, Stage, apply, decide, operator_action, start


class RolloutController:
    def __init__(
        self,
        store: RolloutStore,
        traffic: TrafficControl,
        metrics: VersionMetrics,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._traffic = traffic
        self._metrics = metrics
        self._clock = clock

    def status(self, function_name: str) -> Rollout:
        rollout = self._store.get(function_name)
        if rollout is None:
            raise NotFound(f"no rollout recorded for {function_name}")
        return rollout

    def start(
        self,
        function_name: str,
        candidate_version: str,
        stable_version: str | None = None,
        alias: str = "live",
        plan: tuple[Stage, ...] = DEFAULT_PLAN,
        gates: Gates | None = None,
    ) -> Rollout:
        existing = self._store.get(function_name)
        if existing is not None and existing.active:
            raise Conflict(
                f"a rollout of version {existing.candidate_version} is {existing.status}; "
                "finish or roll it back first"
            )
        primary, weights = self._traffic.current(function_name, alias)
        if weights:
            raise Conflict(
                f"alias {alias} already splits traffic {weights}: a deployment is probably shifting it"
            )
        stable = stable_version or primary
        if stable == candidate_version:
            raise ValidationFailed(
                f"alias {alias} already serves version {candidate_version} alone: name the stable version to "
                "bake against (the version the deploy replaced)"
            )
        rollout = start(function_name, stable, candidate_version, self._clock(), plan, gates, alias)
        self._traffic.shift(function_name, alias, stable, candidate_version, rollout.weight())
        return self._store.save(rollout, existing.revision if existing else None)

    def tick(self, function_name: str) -> Decision:
        rollout = self._store.get(function_name)
        if rollout is None or rollout.status != "baking":
            state = rollout.status if rollout else "absent"
            return Decision(
                action="hold", reason=f"rollout is {state}", weight=rollout.weight() if rollout else 0.0
            )
        now = self._clock()
        window = (rollout.stage_started_at, now)
        candidate = self._metrics.stats(function_name, rollout.alias, rollout.candidate_version, *window)
        stable = self._metrics.stats(function_name, rollout.alias, rollout.stable_version, *window)
        decision = decide(rollout, now, candidate, stable)
        if decision.action != "hold":
            self._shift(rollout, decision)
            self._store.save(apply(rollout, decision, now), rollout.revision)
        return decision

    def tick_all(self) -> dict[str, Decision]:
        """Tick every baking rollout. One lost race does not stop the others: that rollout is
        reported as held and the next run decides again from the stored state."""
        decisions: dict[str, Decision] = {}
        for rollout in self._store.all():
            if rollout.status != "baking":
                continue
            try:
                decisions[rollout.function_name] = self.tick(rollout.function_name)
            except Conflict as exc:
                decisions[rollout.function_name] = Decision(
                    action="hold", reason=f"changed concurrently: {exc.message}", weight=rollout.weight()
                )
        return decisions

    def act(self, function_name: str, action: str, reason: str = "") -> Rollout:
        rollout = self.status(function_name)
        updated, decision = operator_action(rollout, action, self._clock(), reason)
        if decision.action != "hold":
            self._shift(rollout, decision)
        return self._store.save(updated, rollout.revision)

    def _shift(self, rollout: Rollout, decision: Decision) -> None:
        if decision.weight == rollout.weight():
            return  # e.g. completing the 100% stage: the alias already serves the candidate alone
        self._traffic.shift(
            rollout.function_name,
            rollout.alias,
            rollout.stable_version,
            rollout.candidate_version,
            decision.weight,
        )
