"""Long-bake rollouts (SPEC section 6): a new Lambda version moves through a staged plan on the
weighted `live` alias over weeks, gated by its metrics against the stable version's.

Pure logic: the state of a rollout and the decision of what to do next from the gates' running
evidence (core.release.release_gates, statistics in core.release.sequential_stats). The
controller (core.release.rollout_controller) applies decisions through ports, so everything here
is testable without AWS.

The stored state is the source of truth. Every state names the alias shape it expects
(`Rollout.expected_shape`) and remembers the shapes the controller may have left on the alias
while a move was under way (`owned_shapes`). An alias in one of those shapes belongs to the
controller and is brought to the expected one; any other shape was set by someone else (a
deploy, a hand edit): that is drift, and the controller leaves the alias alone.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.release import ab_report as ab
from core.release.evaluation_history import EvaluationRecord
from core.release.release_gates import Evaluation, Evidence, Gates, VersionStats
from core.shared.errors import Conflict, ValidationFailed

__all__ = ["Evaluation", "Evidence", "Gates", "VersionStats"]  # re-exported for ports and adapters

HOUR = 3600.0

Status = Literal["baking", "paused", "waiting_approval", "drifted", "completed", "rolled_back"]
Action = Literal["hold", "advance", "complete", "rollback", "drift", "wait_approval", "pause"]
# What a notification names (SNS messages map these): one per state change of a rollout.
Transition = Literal[
    "started",
    "advanced",
    "waiting_for_approval",
    "approved",
    "paused",
    "resumed",
    "inconclusive_too_long",
    "rolled_back",
    "completed",
    "drifted",
]
FINISHED: tuple[Status, ...] = ("completed", "rolled_back")
OPERATOR_ACTIONS = ("pause", "resume", "promote", "rollback", "approve")


class Stage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    weight: float = Field(gt=0, le=1, description="Share of traffic on the candidate during the stage")
    bake_hours: float = Field(ge=0, le=24 * 90)
    ab_report: bool = Field(default=False, description="Attach a candidate-vs-stable report when it ends")
    approval_required: bool = Field(
        default=False, description="Entering this stage waits for an operator `approve` (waiting_approval)"
    )


DEFAULT_PLAN: tuple[Stage, ...] = (
    Stage(weight=0.05, bake_hours=7 * 24),
    Stage(weight=0.5, bake_hours=14 * 24, ab_report=True),
    Stage(weight=1.0, bake_hours=0, approval_required=True),
)


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
    evidence: Evidence = Evidence()
    evaluations: tuple[EvaluationRecord, ...] = Field(
        default=(),
        description="Bounded history of gate evaluations for the release page "
        "(core.release.evaluation_history); empty in states stored before it existed",
    )
    owned_shapes: tuple[AliasShape, ...] = Field(
        default=(),
        description="Alias shapes the controller may have left on the alias since it last confirmed "
        "the expected one: the alias in any of them is still the controller's to move",
    )
    deployment_id: str | None = Field(
        default=None,
        description="The CodeDeploy deployment whose pre-traffic hook started this bake (None when an "
        "operator started it): if that deployment fails, the bake is rolled back",
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
        return self.status in ("baking", "paused", "waiting_approval")

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
    transition: Transition | None = Field(default=None, description="The state change, None for a hold")
    evaluation: Evaluation | None = None

    @property
    def wants_report(self) -> bool:
        """An A/B stage that ends by this decision gets its report (the controller attaches it)."""
        return self.action in ("advance", "complete", "wait_approval")


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
            evidence=Evidence(evaluated_until=now),
            history=(Event(at=now, action="start", detail=f"{plan[0].weight:.0%} to {candidate_version}"),),
        )
    except ValidationError as exc:
        problems = "; ".join(error["msg"].removeprefix("Value error, ") for error in exc.errors())
        raise ValidationFailed(f"invalid rollout: {problems}") from exc


def ab_report(
    rollout: Rollout, now: float, candidate: VersionStats, stable: VersionStats, ended_by: str
) -> dict[str, object]:
    """Candidate against stable over the stage that ends now (core.release.ab_report)."""
    return ab.build(
        stage_number=rollout.stage_index + 1,
        stage_weight=rollout.stage.weight,
        ended_by=ended_by,
        window_start=rollout.stage_started_at,
        window_end=now,
        candidate=candidate,
        stable=stable,
        evidence=rollout.evidence,
        gates=rollout.gates,
    )


def _waited_too_long(rollout: Rollout, elapsed: float, what: str) -> Decision:
    """A stage past its bake time still lacking `what`: hold, and pause once max_wait_hours ran out."""
    gates, stage = rollout.gates, rollout.stage
    if elapsed >= (stage.bake_hours + gates.max_wait_hours) * HOUR:
        return Decision(
            action="pause",
            reason=f"stage {rollout.stage_index + 1} still lacks {what} {gates.max_wait_hours:g} h after "
            "its bake time: resume to keep waiting, promote or roll back",
            weight=rollout.weight(),
            transition="inconclusive_too_long",
            evaluation=rollout.evidence.last,
        )
    return Decision(
        action="hold",
        reason=f"bake time over, waiting for {what}",
        weight=rollout.weight(),
        evaluation=rollout.evidence.last,
    )


def decide(rollout: Rollout, now: float) -> Decision:
    """What the controller should do now, from the evidence as of the latest evaluation (the
    controller folds each window into `rollout.evidence` first, release_gates.evaluate)."""
    current = rollout.weight()
    if rollout.status != "baking":
        return Decision(action="hold", reason=f"rollout is {rollout.status}", weight=current)
    gates, stage, evidence = rollout.gates, rollout.stage, rollout.evidence
    last = evidence.last
    if last is not None and last.immediate:
        return Decision(
            action="rollback",
            reason="; ".join(last.reasons),
            weight=0.0,
            transition="rolled_back",
            evaluation=last,
        )
    if last is not None and evidence.consecutive_fails >= gates.failure_limit:
        return Decision(
            action="rollback",
            reason=f"{evidence.consecutive_fails} failing evaluations in a row: " + "; ".join(last.reasons),
            weight=0.0,
            transition="rolled_back",
            evaluation=last,
        )
    if evidence.consecutive_errors >= gates.consecutive_error_limit:
        return Decision(
            action="pause",
            reason=f"metrics unavailable {evidence.consecutive_errors} times in a row"
            + (f": {last.reasons[0]}" if last and last.reasons else ""),
            weight=current,
            transition="paused",
            evaluation=last,
        )
    if last is not None and last.outcome == "fail":
        return Decision(
            action="hold",
            reason=f"failing ({evidence.consecutive_fails}/{gates.failure_limit}): "
            + "; ".join(last.reasons),
            weight=current,
            evaluation=last,
        )
    elapsed = now - rollout.stage_started_at
    if elapsed < stage.bake_hours * HOUR:
        left = (stage.bake_hours * HOUR - elapsed) / HOUR
        outcome = last.outcome if last else "not evaluated yet"
        return Decision(
            action="hold",
            reason=f"baking at {stage.weight:.0%}, {left:.1f} h left, {outcome}",
            weight=current,
            evaluation=last,
        )
    if evidence.stage.candidate_requests < gates.min_requests:
        return _waited_too_long(
            rollout,
            elapsed,
            f"{gates.min_requests} candidate requests (has {evidence.stage.candidate_requests})",
        )
    if gates.require_pass and stage.weight < 1.0 and (last is None or last.outcome != "pass"):
        return _waited_too_long(rollout, elapsed, "a passing error test")
    verdict = last.outcome if last else "inconclusive"
    if rollout.stage_index + 1 >= len(rollout.plan):
        return Decision(
            action="complete",
            reason=f"every stage baked within its gates ({verdict})",
            weight=1.0,
            transition="completed",
            evaluation=last,
        )
    following = rollout.plan[rollout.stage_index + 1]
    if following.approval_required:
        return Decision(
            action="wait_approval",
            reason=f"stage {rollout.stage_index + 1} baked within its gates ({verdict}); "
            f"{following.weight:.0%} waits for approve",
            weight=current,
            transition="waiting_for_approval",
            evaluation=last,
        )
    return Decision(
        action="advance",
        reason=f"stage {rollout.stage_index + 1} baked within its gates ({verdict})",
        weight=following.weight,
        transition="advanced",
        evaluation=last,
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
        transition="drifted",
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
        changes.update(
            status="baking",
            stage_index=rollout.stage_index + 1,
            stage_started_at=now,
            evidence=rollout.evidence.for_new_stage(),
        )
    elif decision.action == "wait_approval":
        changes.update(status="waiting_approval")
    elif decision.action == "pause":
        changes.update(status="paused")
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
    """pause, resume, promote (skip to the next stage now), approve (the step a plan holds for
    approval) or rollback, by an operator. `report` is the A/B report of the stage a promote ends
    (see wants_report)."""
    if action not in OPERATOR_ACTIONS:
        raise ValidationFailed(f"unknown action {action!r}: pause, resume, promote, approve or rollback")
    detail = reason or f"operator {action}"
    if rollout.finished:
        raise Conflict(f"the rollout is already {rollout.status}")
    if action == "pause":
        if rollout.status != "baking":
            raise Conflict(f"only a baking rollout can be paused; this one is {rollout.status}")
        decision = Decision(action="hold", reason=detail, weight=rollout.weight(), transition="paused")
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
        decision = Decision(action="hold", reason=detail, weight=rollout.weight(), transition="resumed")
        evidence = rollout.evidence
        if rollout.status == "drifted":
            # The alias served other weights meanwhile: those windows are not this rollout's.
            evidence = evidence.model_copy(update={"evaluated_until": now})
        # The bake clock restarts: metrics from before the pause say little about now.
        resumed = rollout.model_copy(
            update={
                "status": "baking",
                "stage_started_at": now,
                "evidence": evidence,
                "history": (*rollout.history, Event(at=now, action="resume", detail=detail)),
            }
        )
        return resumed, decision
    if action == "approve" and rollout.status != "waiting_approval":
        raise Conflict(f"nothing waits for approval; the rollout is {rollout.status}")
    if action in ("promote", "approve"):
        if rollout.stage_index + 1 >= len(rollout.plan):
            decision = Decision(
                action="complete", reason=detail, weight=1.0, report=report, transition="completed"
            )
        else:
            following = rollout.plan[rollout.stage_index + 1].weight
            decision = Decision(
                action="advance",
                reason=detail,
                weight=following,
                report=report,
                transition="approved" if action == "approve" else "advanced",
            )
        return apply(rollout.model_copy(update={"status": "baking"}), decision, now), decision
    decision = Decision(action="rollback", reason=detail, weight=0.0, transition="rolled_back")
    return apply(rollout, decision, now), decision
