"""Long-bake rollouts (SPEC section 6): a new Lambda version moves through a staged plan on the
weighted `live` alias over weeks, gated by its metrics against the stable version's.

Pure logic: the state of a rollout, the gate evaluation and the decision of what to do next.
The controller (core/rollout_controller.py) applies decisions through ports, so everything here
is testable without AWS.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.errors import Conflict, ValidationFailed

HOUR = 3600.0

Status = Literal["baking", "paused", "completed", "rolled_back"]
Action = Literal["hold", "advance", "complete", "rollback"]


class Stage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    weight: float = Field(gt=0, le=1, description="Share of traffic on the candidate during the stage")
    bake_hours: float = Field(ge=0, le=24 * 90)
    ab_report: bool = Field(default=False, description="Attach a candidate-vs-stable report when it ends")


DEFAULT_PLAN: tuple[Stage, ...] = (
    Stage(weight=0.05, bake_hours=7 * 24),
    Stage(weight=0.5, bake_hours=14 * 24, ab_report=True),
    Stage(weight=1.0, bake_hours=0),
)


class Gates(BaseModel):
    """Limits the candidate must stay within, absolute and relative to the stable version."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_requests: int = Field(default=500, ge=0, description="Below this the stage only waits")
    max_error_rate: float = Field(default=0.02, ge=0, le=1)
    max_error_rate_increase: float = Field(default=0.005, ge=0, le=1)
    max_p95_ratio: float = Field(default=1.25, ge=1)
    max_routing_failure_rate: float = Field(default=0.001, ge=0, le=1)


class VersionStats(BaseModel):
    """What one version did during a window: Lambda invocations and errors, p95 duration, and the
    service's own routing failures."""

    model_config = ConfigDict(frozen=True)

    version: str
    requests: int = Field(ge=0)
    errors: int = Field(ge=0)
    routing_failures: int = Field(default=0, ge=0)
    p95_ms: float | None = None

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    @property
    def routing_failure_rate(self) -> float:
        return self.routing_failures / self.requests if self.requests else 0.0


class Event(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: float
    action: str
    detail: str


class Rollout(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    function_name: str = Field(min_length=1, max_length=140)
    alias: str = Field(default="live", min_length=1, max_length=128)
    stable_version: str = Field(pattern=r"^[0-9]+$")
    candidate_version: str = Field(pattern=r"^[0-9]+$")
    plan: tuple[Stage, ...] = DEFAULT_PLAN
    gates: Gates = Gates()
    status: Status = "baking"
    stage_index: int = Field(default=0, ge=0)
    stage_started_at: float
    started_at: float
    reason: str = ""
    history: tuple[Event, ...] = ()
    reports: tuple[dict[str, object], ...] = ()
    revision: int = Field(default=1, ge=1, description="Optimistic lock of the stored state")

    @model_validator(mode="after")
    def _check(self) -> Rollout:
        if self.stable_version == self.candidate_version:
            raise ValueError("the candidate must differ from the stable version")
        if not self.plan:
            raise ValueError("the plan needs at least one stage")
        if self.plan[-1].weight != 1.0:
            raise ValueError("the last stage of a plan must send 100% to the candidate")
        weights = [stage.weight for stage in self.plan]
        if weights != sorted(weights):
            raise ValueError("stage weights must not decrease")
        if self.stage_index >= len(self.plan):
            raise ValueError("stage_index is past the plan")
        return self

    @property
    def stage(self) -> Stage:
        return self.plan[self.stage_index]

    @property
    def active(self) -> bool:
        return self.status in ("baking", "paused")

    def weight(self) -> float:
        """The candidate's current share of traffic."""
        if self.status == "completed":
            return 1.0
        if self.status == "rolled_back":
            return 0.0
        return self.stage.weight


class Decision(BaseModel):
    model_config = ConfigDict(frozen=True)

    action: Action
    reason: str
    weight: float = Field(ge=0, le=1, description="The candidate's share after the decision")
    report: dict[str, object] | None = None


def start(
    function_name: str,
    stable_version: str,
    candidate_version: str,
    now: float,
    plan: tuple[Stage, ...] = DEFAULT_PLAN,
    gates: Gates | None = None,
    alias: str = "live",
) -> Rollout:
    try:
        return Rollout(
            function_name=function_name,
            alias=alias,
            stable_version=stable_version,
            candidate_version=candidate_version,
            plan=plan,
            gates=gates or Gates(),
            stage_started_at=now,
            started_at=now,
            history=(Event(at=now, action="start", detail=f"{plan[0].weight:.0%} to {candidate_version}"),),
        )
    except ValueError as exc:
        raise ValidationFailed(f"invalid rollout: {exc}") from exc


def violations(rollout: Rollout, candidate: VersionStats, stable: VersionStats) -> list[str]:
    """Every gate the candidate breaks. Relative gates apply only when the stable version has
    traffic to compare with (at 100% it has none)."""
    gates = rollout.gates
    found: list[str] = []
    if candidate.error_rate > gates.max_error_rate:
        found.append(f"error rate {candidate.error_rate:.2%} > {gates.max_error_rate:.2%}")
    if stable.requests and candidate.error_rate > stable.error_rate + gates.max_error_rate_increase:
        found.append(
            f"error rate {candidate.error_rate:.2%} exceeds stable {stable.error_rate:.2%} "
            f"by more than {gates.max_error_rate_increase:.2%}"
        )
    if candidate.routing_failure_rate > gates.max_routing_failure_rate:
        found.append(
            f"routing failure rate {candidate.routing_failure_rate:.3%} "
            f"> {gates.max_routing_failure_rate:.3%}"
        )
    if (
        stable.requests
        and candidate.p95_ms is not None
        and stable.p95_ms is not None
        and stable.p95_ms > 0
        and candidate.p95_ms > stable.p95_ms * gates.max_p95_ratio
    ):
        found.append(
            f"p95 {candidate.p95_ms:.0f} ms > {gates.max_p95_ratio:.2f} x stable {stable.p95_ms:.0f} ms"
        )
    return found


def ab_report(candidate: VersionStats, stable: VersionStats) -> dict[str, object]:
    def side(stats: VersionStats) -> dict[str, object]:
        return {
            "version": stats.version,
            "requests": stats.requests,
            "error_rate": round(stats.error_rate, 6),
            "routing_failure_rate": round(stats.routing_failure_rate, 6),
            "p95_ms": stats.p95_ms,
        }

    ratio = (
        round(candidate.p95_ms / stable.p95_ms, 3) if candidate.p95_ms is not None and stable.p95_ms else None
    )
    return {
        "candidate": side(candidate),
        "stable": side(stable),
        "error_rate_delta": round(candidate.error_rate - stable.error_rate, 6),
        "p95_ratio": ratio,
    }


def decide(rollout: Rollout, now: float, candidate: VersionStats, stable: VersionStats) -> Decision:
    """What the controller should do now, from the stage's metrics so far."""
    current = rollout.weight()
    if rollout.status != "baking":
        return Decision(action="hold", reason=f"rollout is {rollout.status}", weight=current)
    broken = violations(rollout, candidate, stable)
    if broken:
        return Decision(action="rollback", reason="; ".join(broken), weight=0.0)
    stage = rollout.stage
    elapsed = now - rollout.stage_started_at
    if elapsed < stage.bake_hours * HOUR:
        left = (stage.bake_hours * HOUR - elapsed) / HOUR
        return Decision(
            action="hold", reason=f"baking at {stage.weight:.0%}, {left:.1f} h left", weight=current
        )
    if candidate.requests < rollout.gates.min_requests and stage.weight < 1.0:
        return Decision(
            action="hold",
            reason=f"only {candidate.requests} requests on the candidate, "
            f"{rollout.gates.min_requests} needed",
            weight=current,
        )
    report = ab_report(candidate, stable) if stage.ab_report else None
    if rollout.stage_index + 1 >= len(rollout.plan):
        return Decision(
            action="complete", reason="every stage baked within its gates", weight=1.0, report=report
        )
    following = rollout.plan[rollout.stage_index + 1]
    return Decision(
        action="advance",
        reason=f"stage {rollout.stage_index + 1} baked within its gates",
        weight=following.weight,
        report=report,
    )


def apply(rollout: Rollout, decision: Decision, now: float) -> Rollout:
    """The rollout after the decision was carried out on the alias."""
    if decision.action == "hold":
        return rollout
    changes: dict[str, object] = {
        "history": (*rollout.history, Event(at=now, action=decision.action, detail=decision.reason)),
        "reports": (*rollout.reports, decision.report) if decision.report else rollout.reports,
        "reason": decision.reason,
    }
    if decision.action == "advance":
        changes.update(stage_index=rollout.stage_index + 1, stage_started_at=now)
    elif decision.action == "complete":
        changes.update(status="completed", stage_index=len(rollout.plan) - 1)
    elif decision.action == "rollback":
        changes.update(status="rolled_back")
    return rollout.model_copy(update=changes)


def operator_action(rollout: Rollout, action: str, now: float, reason: str = "") -> tuple[Rollout, Decision]:
    """pause, resume, promote (skip to the next stage now) or rollback, by an operator."""
    detail = reason or f"operator {action}"
    if not rollout.active:
        raise Conflict(f"the rollout is already {rollout.status}")
    if action == "pause":
        if rollout.status == "paused":
            raise Conflict("the rollout is already paused")
        decision = Decision(action="hold", reason=detail, weight=rollout.weight())
        paused = rollout.model_copy(
            update={
                "status": "paused",
                "history": (*rollout.history, Event(at=now, action="pause", detail=detail)),
            }
        )
        return paused, decision
    if action == "resume":
        if rollout.status != "paused":
            raise Conflict("only a paused rollout can be resumed")
        decision = Decision(action="hold", reason=detail, weight=rollout.weight())
        # The bake clock restarts: metrics from before the pause say little about now.
        resumed = rollout.model_copy(
            update={
                "status": "baking",
                "stage_started_at": now,
                "history": (*rollout.history, Event(at=now, action="resume", detail=detail)),
            }
        )
        return resumed, decision
    if action == "promote":
        if rollout.stage_index + 1 >= len(rollout.plan):
            decision = Decision(action="complete", reason=detail, weight=1.0)
        else:
            decision = Decision(
                action="advance", reason=detail, weight=rollout.plan[rollout.stage_index + 1].weight
            )
        return apply(rollout.model_copy(update={"status": "baking"}), decision, now), decision
    if action == "rollback":
        decision = Decision(action="rollback", reason=detail, weight=0.0)
        return apply(rollout, decision, now), decision
    raise ValidationFailed(f"unknown action {action!r}: pause, resume, promote or rollback")
