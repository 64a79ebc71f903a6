"""Carries out long-bake rollouts: reads metrics, decides (core.rollout), records the new state
and makes the weighted alias match it.

The stored state is the source of truth. A change is saved first, conditional on the revision
that was read, and only then is the alias moved, conditional on the alias revision that was read
(Lambda's RevisionId). A writer that loses either race changes nothing; a move that never
happened (a crash, a lost race) is repaired by the next run, because every run starts by
reconciling the alias with the stored state:

- alias in the expected shape: nothing to do;
- alias in a shape the controller may have left there (`Rollout.owned_shapes`): moved to the
  expected shape;
- any other shape: someone else moved it (a `sam deploy`, a hand edit). The controller does not
  touch it: an unfinished rollout becomes `drifted`, a finished one stops being enforced.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from core.release.evaluation_history import record
from core.release.notifications import (
    NoNotifier,
    Notification,
    Notifier,
    Transition,
    deliver,
    iso,
    rollout_id,
    transition_of,
)
from core.release.release_gates import evaluate, metrics_failed
from core.release.release_ports import DeploymentWatch, RolloutStore, TrafficControl, VersionMetrics
from core.release.rollout_plan import (
    DEFAULT_PLAN,
    AliasShape,
    Decision,
    Event,
    Gates,
    Rollout,
    Stage,
    ab_report,
    apply,
    decide,
    drift,
    operator_action,
    start,
    wants_report,
)
from core.shared.errors import Conflict, NotFound, ValidationFailed

log = logging.getLogger(__name__)

# Reads of state and alias per reconciliation before giving up to the next run: each retry
# follows a lost race, and two writers (a scheduled run and an operator) settle in one or two.
RECONCILE_ATTEMPTS = 3
# CloudWatch receives Lambda and EMF metrics within a few minutes: a window ends this long before
# the run, so what it counts is complete. The simulation (no ingestion lag) passes 0.
METRICS_DELAY_SECONDS = 300.0
# Shorter windows wait for the next run (nothing to learn from a few seconds).
MIN_WINDOW_SECONDS = 60.0


@dataclass
class TickSummary:
    """What one run of tick_all did: a decision per rollout it evaluated, and the error of each
    rollout it could not (the run carries on with the others)."""

    decisions: dict[str, Decision] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)


class RolloutController:
    def __init__(
        self,
        store: RolloutStore,
        traffic: TrafficControl,
        metrics: VersionMetrics,
        clock: Callable[[], float] = time.time,
        notifier: Notifier | None = None,
        deployments: DeploymentWatch | None = None,
        metrics_delay: float = METRICS_DELAY_SECONDS,
    ) -> None:
        self._metrics_delay = metrics_delay
        self._store = store
        self._traffic = traffic
        self._metrics = metrics
        self._clock = clock
        self._notifier: Notifier = notifier or NoNotifier()
        self._deployments = deployments

    def notify(
        self,
        transition: Transition,
        rollout: Rollout | None,
        reason: str,
        function_name: str = "",
        verdict: str | None = None,
        deployment_id: str | None = None,
    ) -> bool:
        """Publish one transition (never raises; see core.release.notifications.deliver)."""
        found = {}
        if rollout is not None:
            found = {
                "function_name": rollout.function_name,
                "rollout_id": rollout_id(rollout.function_name, rollout.started_at),
                "stable_version": rollout.stable_version,
                "candidate_version": rollout.candidate_version,
                "stage": rollout.stage_index + 1,
                "stage_weight": rollout.weight(),
            }
        message = Notification(
            transition=transition,
            **{"function_name": function_name, **found},
            reason=reason,
            verdict=verdict,
            deployment_id=deployment_id,
            at=iso(self._clock()),
        )
        return deliver(self._notifier, message)

    def _announce(self, action: str, rollout: Rollout, reason: str, report: dict[str, object] | None) -> None:
        transition = transition_of(action)
        if transition is not None:
            verdict = report.get("verdict") if isinstance(report, dict) else None
            self.notify(transition, rollout, reason, verdict=str(verdict) if verdict is not None else None)

    def deployments_in_progress(self, own_deployment: str | None = None) -> list[str]:
        """CodeDeploy deployments still running, except `own_deployment` (the deploy that asks)."""
        if self._deployments is None:
            return []
        return [d for d in self._deployments.in_progress() if d != own_deployment]

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
        own_deployment: str | None = None,
    ) -> Rollout:
        """Start baking. A drifted or finished rollout of the function is replaced; an active one
        is a conflict, and so is a CodeDeploy deployment still running (other than
        `own_deployment`, the deploy whose hook starts this bake): it may be shifting traffic."""
        busy = self.deployments_in_progress(own_deployment)
        if busy:
            raise Conflict(
                f"CodeDeploy deployment(s) {', '.join(busy)} still running: wait until they end "
                "(a shift in progress owns the traffic)"
            )
        existing = self._store.get(function_name)
        if existing is not None and existing.active:
            raise Conflict(
                f"a rollout of version {existing.candidate_version} is {existing.status}; "
                "finish or roll it back first"
            )
        shape, _ = self._traffic.current(function_name, alias)
        if shape.weights:
            raise Conflict(
                f"alias {alias} already splits traffic ({shape.describe()}): "
                "a deployment is probably shifting it"
            )
        stable = stable_version or shape.primary
        if stable == candidate_version:
            raise ValidationFailed(
                f"alias {alias} already serves version {candidate_version} alone: name the stable version to "
                "bake against (the version the deploy replaced)"
            )
        rollout = start(function_name, stable, candidate_version, self._clock(), plan, gates, alias)
        # The alias as found is the controller's to move (that is what starting means).
        rollout = rollout.model_copy(update={"owned_shapes": (shape,), "deployment_id": own_deployment})
        saved = self._store.save(rollout, existing.revision if existing else None)
        started = self._reconcile(saved)[0]
        self._announce(
            "start", started, f"{plan[0].weight:.0%} of {alias} to {candidate_version} against {stable}", None
        )
        return started

    def tick(self, function_name: str) -> Decision:
        """Reconcile the alias with the stored state, then evaluate the gates of a baking rollout."""
        rollout = self._store.get(function_name)
        if rollout is None:
            return Decision(action="hold", reason="no rollout recorded", weight=0.0)
        rollout, drifted = self._reconcile(rollout)
        if drifted is not None:
            return drifted
        undone = self._deploy_failed(rollout)
        if undone is not None:
            return undone
        if rollout.status != "baking":
            return Decision(action="hold", reason=f"rollout is {rollout.status}", weight=rollout.weight())
        now = self._clock()
        evaluated = self._evaluate(rollout, now)
        decision = decide(evaluated, now)
        last = evaluated.evidence.last
        if decision.action != "hold" and last is not None:
            # The evaluation behind a transition stays in the history even if it was no change.
            kept = record(
                evaluated.evaluations, last, evaluated.stage_index + 1, evaluated.weight(), transition=True
            )
            evaluated = evaluated.model_copy(update={"evaluations": kept})
        if decision.wants_report and evaluated.stage.ab_report:
            decision = decision.model_copy(update={"report": self._report(evaluated, now, "advance")})
        if decision.action == "hold":
            if evaluated is not rollout:  # the evidence grew: keep it (one conditional write per run)
                self._store.save(evaluated, rollout.revision)
            return decision
        saved = self._store.save(apply(evaluated, decision, now), rollout.revision)
        moved, drifted = self._reconcile(saved)
        if drifted is not None:
            return drifted
        # inconclusive_too_long is a pause with its own notice.
        notice = (
            "inconclusive_too_long" if decision.transition == "inconclusive_too_long" else decision.action
        )
        self._announce(notice, moved, decision.reason, decision.report)
        return decision

    def _deploy_failed(self, rollout: Rollout) -> Decision | None:
        """Roll back an unfinished bake whose deploy failed after its pre-traffic hook started it
        (an alarm or the post-traffic smoke test rolled the deployment and the stack back): the
        candidate is no longer the version the stack deploys, so no share of `live` may stay on it.
        A status that cannot be read leaves the bake alone until the next run."""
        if self._deployments is None or rollout.deployment_id is None or not rollout.active:
            return None
        try:
            status = self._deployments.status(rollout.deployment_id)
        except Exception as exc:  # CodeDeploy unreachable: the next run asks again
            log.warning(
                "deployment status unavailable",
                extra={
                    "function": rollout.function_name,
                    "deployment": rollout.deployment_id,
                    "error": str(exc),
                },
            )
            return None
        if status not in ("Failed", "Stopped"):
            return None
        reason = (
            f"deploy {rollout.deployment_id} of version {rollout.candidate_version} ended {status}: "
            f"the stack went back, so the bake goes back to version {rollout.stable_version}"
        )
        rolled = self.act(rollout.function_name, "rollback", reason)
        return Decision(action="rollback", reason=reason, weight=rolled.weight(), transition="rolled_back")

    def _evaluate(self, rollout: Rollout, now: float) -> Rollout:
        """Fold the window since the last evaluation into the rollout's evidence (both versions,
        same window). The window ends metrics_delay before now: CloudWatch has not yet received
        the last minutes, and a window once evaluated is never read again."""
        start = rollout.evidence.evaluated_until or rollout.stage_started_at
        end = now - self._metrics_delay
        if end - start < MIN_WINDOW_SECONDS:
            return rollout
        name, alias = rollout.function_name, rollout.alias
        try:
            candidate = self._metrics.stats(name, alias, rollout.candidate_version, start, end)
            stable = self._metrics.stats(name, alias, rollout.stable_version, start, end)
        except Exception as exc:  # any metrics-provider failure is counted apart (consecutive_error_limit)
            log.warning("rollout metrics unavailable", extra={"function": name, "error": str(exc)})
            evidence, evaluation = metrics_failed(rollout.evidence, now, f"{type(exc).__name__}: {exc}")
        else:
            evidence, evaluation = evaluate(rollout.gates, rollout.evidence, candidate, stable, start, end)
        history = record(rollout.evaluations, evaluation, rollout.stage_index + 1, rollout.weight())
        return rollout.model_copy(update={"evidence": evidence, "evaluations": history})

    def tick_all(self) -> TickSummary:
        """Tick every rollout whose alias the controller still enforces. A lost race is reported
        as a hold (the next run decides again from the stored state); any other error is recorded
        and the run carries on with the other rollouts."""
        summary = TickSummary()
        for rollout in self._store.all():
            name = rollout.function_name
            if rollout.alias_released:
                continue
            try:
                summary.decisions[name] = self.tick(name)
            except Conflict as exc:
                summary.decisions[name] = Decision(
                    action="hold", reason=f"changed concurrently: {exc.message}", weight=rollout.weight()
                )
            except Exception as exc:
                log.exception("rollout tick failed", extra={"function": name})
                summary.failures[name] = f"{type(exc).__name__}: {exc}"
                self.notify("controller_error", rollout, summary.failures[name])
        return summary

    def act(self, function_name: str, action: str, reason: str = "", force: bool = False) -> Rollout:
        """An operator action. Refused while the alias is in a shape the controller did not set,
        unless `force`: then the alias is overwritten with the rollout's weights. `force` never
        overrides a CodeDeploy deployment still running: that shift owns the traffic."""
        rollout = self.status(function_name)
        if force:
            busy = self.deployments_in_progress()
            if busy:
                raise Conflict(
                    f"CodeDeploy deployment(s) {', '.join(busy)} still running: --force does not "
                    "override a shift in progress; wait until it ends"
                )
        now = self._clock()
        report = self._report(rollout, now) if wants_report(rollout, action) else None
        updated, decided = operator_action(rollout, action, now, reason, report)
        shape, _ = self._traffic.current(function_name, rollout.alias)
        if not rollout.owns(shape):
            if not force:
                found = drift(rollout, shape)
                if rollout.status != "drifted":
                    marked = self._store.save(apply(rollout, found, now), rollout.revision)
                    self.notify("drifted", marked, found.reason)
                raise Conflict(found.reason)
            updated = updated.model_copy(
                update={
                    "owned_shapes": (*updated.owned_shapes, shape),
                    "history": (
                        *updated.history,
                        Event(
                            at=now, action="force", detail=f"alias overwritten, it served {shape.describe()}"
                        ),
                    ),
                }
            )
        saved = self._store.save(updated, rollout.revision)
        done = self._reconcile(saved)[0]
        # pause and resume change no weight (their decision is a hold): announce the action itself.
        self._announce(
            decided.action if action in ("promote", "rollback") else action, done, decided.reason, report
        )
        return done

    def _report(self, rollout: Rollout, now: float, ended_by: str = "promote") -> dict[str, object]:
        window = (rollout.stage_started_at, now)
        name, alias = rollout.function_name, rollout.alias
        candidate = self._metrics.stats(name, alias, rollout.candidate_version, *window)
        stable = self._metrics.stats(name, alias, rollout.stable_version, *window)
        return ab_report(rollout, now, candidate, stable, ended_by)

    def _reconcile(self, rollout: Rollout) -> tuple[Rollout, Decision | None]:
        """Make the alias match the stored state. Returns the rollout as stored afterwards, and
        the drift decision when this call found the alias moved by someone else."""
        for _ in range(RECONCILE_ATTEMPTS):
            if not rollout.enforced:
                return rollout, None
            try:
                shape, revision = self._traffic.current(rollout.function_name, rollout.alias)
                expected = rollout.expected_shape()
                if shape != expected:
                    if not rollout.owns(shape):
                        return self._drifted(rollout, shape)
                    self._traffic.route(rollout.function_name, rollout.alias, expected, revision)
                if rollout.owned_shapes == (expected,):
                    return rollout, None
                # Saving the confirmation also proves the state did not change during the move.
                return self._store.save(rollout.confirmed(), rollout.revision), None
            except Conflict:
                latest = self._store.get(rollout.function_name)
                if latest is None:
                    raise
                rollout = latest
        raise Conflict(
            f"the rollout of {rollout.function_name} or its alias kept changing; the next run reconciles"
        )

    def _drifted(self, rollout: Rollout, shape: AliasShape) -> tuple[Rollout, Decision]:
        decision = drift(rollout, shape)
        log.warning(
            "rollout alias drifted", extra={"function": rollout.function_name, "reason": decision.reason}
        )
        saved = self._store.save(apply(rollout, decision, self._clock()), rollout.revision)
        self.notify("drifted", saved, decision.reason)
        return saved, decision
