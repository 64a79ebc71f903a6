"""Long-bake rollouts (SPEC section 6): a new Lambda version moves through a staged plan on the
weighted `live` alias over weeks, gated by its metrics against the stable version's.

Pure logic: the state of a rollout, the gate evaluation and the decision of what to do next.
The controller (core/rollout_controller.py) applies decisions through ports, so everything here
is testable without AWS.

The stored state is the source of truth. Every state names the alias shape it expects
(`Rollout.expected_shape`) and remembers the shapes the controller may have left on the alias
while a move was under way (`owned_shapes`). An alias in one of those shapes belongs to the
controller and is brought to the expected one; any other shape was set by someone else (a
deploy, a hand edit): that is drift, and the controller leaves the alias alone.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.shared.errors import Conflict, ValidationFailed

HOUR = 3600.0

Status = Literal["baking", "paused", "drifted", "completed", "rolled_back"]
Action = Literal["hold", "advance", "complete", "rollback", "drift"]
FINISHED: tuple[Status, ...] = ("completed", "rolled_back")
OPERATOR_ACTIONS = ("pause", "resume", "promote", "rollback")


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

    min_requests: int = Field(
        default=500,
        ge=0,
        description="Candidate requests a stage needs before it may advance (never fewer than "
        "min_gate_requests, so no stage advances unjudged)",
    )
    min_gate_requests: int = Field(
        default=100,
        ge=1,
        description="Sample below which gates are not judged: absolute gates need it on the candidate, "
        "relative gates on both versions",
    )
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


class AliasShape(BaseModel):
    """How a weighted alias splits traffic: its primary version and the additional versions'
    weights (Lambda's RoutingConfig)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    primary: str
    weights: dict[str, float] = Field(default_factory=dict)

    @field_validator("weights")
    @classmethod
    def _normalise(cls, value: dict[str, float]) -> dict[str, float]:
        # Rounded as the Lambda adapter sends them, so shapes compare equal whoever wrote them.
        rounded = {str(version): round(float(weight), 4) for version, weight in value.items()}
        return {version: weight for version, weight in rounded.items() if weight > 0}

    def share(self, version: str) -> float:
        """The share of traffic `version` gets from this alias."""
        if version == self.primary:
            return round(1.0 - sum(self.weights.values()), 4)
        return self.weights.get(version, 0.0)

    def describe(self) -> str:
        if not self.weights:
            return f"version {self.primary} only"
        extra = ", ".join(f"{version} at {weight:.2%}" for version, weight in sorted(self.weights.items()))
        return f"version {self.primary} with {extra}"


def split(stable: str, candidate: str, weight: float) -> AliasShape:
    """The alias shape that sends `weight` to candidate and the rest to stable."""
    if weight >= 1.0:
        return AliasShape(primary=candidate)
    if weight <= 0.0:
        return AliasShape(primary=stable)
    return AliasShape(primary=stable, weights={candidate: weight})


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
    owned_shapes: tuple[AliasShape, ...] = Field(
        default=(),
        description="Alias shapes the controller may have left on the alias since it last confirmed "
        "the expected one: the alias in any of them is still the controller's to move",
    )
    alias_released: bool = Field(
        default=False,
        description="Set when the alias changed outside the controller after the rollout finished: "
        "its weights are no longer enforced",
    )
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
        """In progress: a second rollout of the function may not start."""
        return self.status in ("baking", "paused")

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def enforced(self) -> bool:
        """Whether the controller keeps the alias at this rollout's weights. A drifted rollout and
        a finished one whose alias someone else has since changed are left alone."""
        return self.status != "drifted" and not self.alias_released

    def weight(self) -> float:
        """The candidate's share of traffic in this state."""
        if self.status == "completed":
            return 1.0
        if self.status == "rolled_back":
            return 0.0
        return self.stage.weight

    def expected_shape(self) -> AliasShape:
        return split(self.stable_version, self.candidate_version, self.weight())

    def owns(self, shape: AliasShape) -> bool:
        """Whether an alias in `shape` is where this state or an unconfirmed move left it."""
        return shape == self.expected_shape() or shape in self.owned_shapes

    def confirmed(self) -> Rollout:
        """This state once the alias is seen in the expected shape."""
        return self.model_copy(update={"owned_shapes": (self.expected_shape(),)})


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
    except ValidationError as exc:
        problems = "; ".join(error["msg"].removeprefix("Value error, ") for error in exc.errors())
        raise ValidationFailed(f"invalid rollout: {problems}") from exc


def judged(gates: Gates, candidate: VersionStats, stable: VersionStats) -> tuple[bool, bool]:
    """Whether the absolute and the relative gates have samples large enough to be judged."""
    absolute = candidate.requests >= gates.min_gate_requests
    return absolute, absolute and stable.requests >= gates.min_gate_requests


def violations(rollout: Rollout, candidate: VersionStats, stable: VersionStats) -> list[str]:
    """Every gate the candidate breaks. A handful of requests says nothing (1 error in 2 requests
    is not a 50% error rate worth a rollback): absolute gates wait for min_gate_requests on the
    candidate, relative gates for min_gate_requests on both versions (at 100% the stable version
    serves nothing, so only absolute gates apply)."""
    gates = rollout.gates
    absolute, relative = judged(gates, candidate, stable)
    found: list[str] = []
    if absolute and candidate.error_rate > gates.max_error_rate:
        found.append(f"error rate {candidate.error_rate:.2%} > {gates.max_error_rate:.2%}")
    if relative and candidate.error_rate > stable.error_rate + gates.max_error_rate_increase:
        found.append(
            f"error rate {candidate.error_rate:.2%} exceeds stable {stable.error_rate:.2%} "
            f"by more than {gates.max_error_rate_increase:.2%}"
        )
    if absolute and candidate.routing_failure_rate > gates.max_routing_failure_rate:
        found.append(
            f"routing failure rate {candidate.routing_failure_rate:.3%} "
            f"> {gates.max_routing_failure_rate:.3%}"
        )
    if (
        relative
        and candidate.p95_ms is not None
        and stable.p95_ms is not None
        and stable.p95_ms > 0
        and candidate.p95_ms > stable.p95_ms * gates.max_p95_ratio
    ):
        found.append(
            f"p95 {candidate.p95_ms:.0f} ms > {gates.max_p95_ratio:.2f} x stable {stable.p95_ms:.0f} ms"
        )
    return found


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def ab_report(
    rollout: Rollout, now: float, candidate: VersionStats, stable: VersionStats, ended_by: str
) -> dict[str, object]:
    """Candidate against stable over the stage that ends now, readable on its own: which stage,
    which window, both versions' numbers, and the gate limits they were held to."""

    def side(stats: VersionStats) -> dict[str, object]:
        return {
            "version": stats.version,
            "requests": stats.requests,
            "errors": stats.errors,
            "error_rate": round(stats.error_rate, 6),
            "routing_failures": stats.routing_failures,
            "routing_failure_rate": round(stats.routing_failure_rate, 6),
            "p95_ms": stats.p95_ms,
        }

    ratio = (
        round(candidate.p95_ms / stable.p95_ms, 3) if candidate.p95_ms is not None and stable.p95_ms else None
    )
    absolute, relative = judged(rollout.gates, candidate, stable)
    return {
        "stage": rollout.stage_index + 1,
        "stage_weight": rollout.stage.weight,
        "ended_by": ended_by,
        "window_start": _iso(rollout.stage_started_at),
        "window_end": _iso(now),
        "window_hours": round((now - rollout.stage_started_at) / HOUR, 2),
        "candidate": side(candidate),
        "stable": side(stable),
        "error_rate_delta": round(candidate.error_rate - stable.error_rate, 6),
        "p95_ratio": ratio,
        "gates": rollout.gates.model_dump(),
        "gates_judged": {"absolute": absolute, "relative": relative},
        "violations": violations(rollout, candidate, stable),
    }


def decide(rollout: Rollout, now: float, candidate: VersionStats, stable: VersionStats) -> Decision:
    """What the controller should do now, from the stage's metrics so far."""
    current = rollout.weight()
    if rollout.status != "baking":
        return Decision(action="hold", reason=f"rollout is {rollout.status}", weight=current)
    broken = violations(rollout, candidate, stable)
    if broken:
        return Decision(action="rollback", reason="; ".join(broken), weight=0.0)
    gates = rollout.gates
    stage = rollout.stage
    elapsed = now - rollout.stage_started_at
    if elapsed < stage.bake_hours * HOUR:
        left = (stage.bake_hours * HOUR - elapsed) / HOUR
        waiting = (
            f"; gates wait for {gates.min_gate_requests} requests (candidate has {candidate.requests})"
            if candidate.requests < gates.min_gate_requests
            else ""
        )
        return Decision(
            action="hold", reason=f"baking at {stage.weight:.0%}, {left:.1f} h left{waiting}", weight=current
        )
    needed = max(gates.min_requests, gates.min_gate_requests)
    if candidate.requests < needed and stage.weight < 1.0:
        return Decision(
            action="hold",
            reason=f"only {candidate.requests} requests on the candidate, {needed} needed",
            weight=current,
        )
    report = ab_report(rollout, now, candidate, stable, "advance") if stage.ab_report else None
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


def drift(rollout: Rollout, found: AliasShape) -> Decision:
    """The alias is in a shape the controller did not set: someone else (a deploy) owns it now."""
    then = (
        "its weights are no longer enforced"
        if rollout.finished
        else "the rollout is drifted and leaves the alias alone; resume, promote or rollback once the "
        "alias is back, or with --force to overwrite it"
    )
    return Decision(
        action="drift",
        reason=f"alias {rollout.alias} was changed outside the controller: it serves {found.describe()}, "
        f"the rollout expects {rollout.expected_shape().describe()}; {then}",
        weight=found.share(rollout.candidate_version),
    )


def _track(before: Rollout, after: Rollout) -> Rollout:
    """`after` is stored before the alias moves to its shape, so until the move is confirmed the
    alias may still show `before`'s shape: keep that shape among the ones the controller owns."""
    old = before.expected_shape()
    if after.expected_shape() == old or old in after.owned_shapes:
        return after
    return after.model_copy(update={"owned_shapes": (*after.owned_shapes, old)})


def apply(rollout: Rollout, decision: Decision, now: float) -> Rollout:
    """The rollout after the decision. The controller stores it first, then moves the alias."""
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
    elif decision.action == "drift":
        if rollout.finished:
            changes.update(alias_released=True)
        else:
            changes.update(status="drifted")
    return _track(rollout, rollout.model_copy(update=changes))


def wants_report(rollout: Rollout, action: str) -> bool:
    """An operator promote ends the stage early; an A/B stage still gets its report."""
    return action == "promote" and not rollout.finished and rollout.stage.ab_report


def operator_action(
    rollout: Rollout,
    action: str,
    now: float,
    reason: str = "",
    report: dict[str, object] | None = None,
) -> tuple[Rollout, Decision]:
    """pause, resume, promote (skip to the next stage now) or rollback, by an operator. `report`
    is the A/B report of the stage a promote ends (see wants_report)."""
    if action not in OPERATOR_ACTIONS:
        raise ValidationFailed(f"unknown action {action!r}: pause, resume, promote or rollback")
    detail = reason or f"operator {action}"
    if rollout.finished:
        raise Conflict(f"the rollout is already {rollout.status}")
    if action == "pause":
        if rollout.status != "baking":
            raise Conflict(f"only a baking rollout can be paused; this one is {rollout.status}")
        decision = Decision(action="hold", reason=detail, weight=rollout.weight())
        paused = rollout.model_copy(
            update={
                "status": "paused",
                "history": (*rollout.history, Event(at=now, action="pause", detail=detail)),
            }
        )
        return paused, decision
    if action == "resume":
        if rollout.status not in ("paused", "drifted"):
            raise Conflict("only a paused or drifted rollout can be resumed")
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
            decision = Decision(action="complete", reason=detail, weight=1.0, report=report)
        else:
            following = rollout.plan[rollout.stage_index + 1].weight
            decision = Decision(action="advance", reason=detail, weight=following, report=report)
        return apply(rollout.model_copy(update={"status": "baking"}), decision, now), decision
    decision = Decision(action="rollback", reason=detail, weight=0.0)
    return apply(rollout, decision, now), decision
