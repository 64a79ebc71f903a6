"""The deploy path in `bake` release mode: what a deploy's pre-traffic hook does once the new
version passed its smoke tests (docs/rollouts.md, "Deploys and bakes").

A deploy never touches `live` itself (it shifts the `deployed` alias, which serves nobody). The
hook asks the controller to start a bake of the new version on `live` at the plan's first share.
A deploy while a bake is active is refused (the hook reports Failed, CodeDeploy rolls the
`deployed` alias back, CloudFormation rolls the stack back), unless the stack's override names
that bake's version: then the bake is ended first (rolled back or promoted to the end), and that
is recorded in the rollout's history and announced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pydantic import ValidationError

from core.release.rollout_controller import RolloutController
from core.release.rollout_plan import Rollout, Stage
from core.shared.errors import Conflict, DomainError, NotFound, ValidationFailed

# promote steps one stage at a time; a plan has a handful of stages, this only bounds a bug.
MAX_PROMOTE_STEPS = 20


class DeployRefused(Exception):
    """The deploy must not go on; the message is the reason operators see."""


@dataclass(frozen=True)
class Override:
    how: Literal["rollback", "promote"]
    version: str


def parse_override(text: str) -> Override | None:
    """`none`, `rollback:<version>` or `promote:<version>`. Naming the version keeps a value left
    in the stack's parameters from ending a later bake it was not meant for."""
    value = text.strip()
    if value in ("", "none"):
        return None
    found = re.fullmatch(r"(rollback|promote):([0-9]+)", value)
    if not found:
        raise ValidationFailed(
            f"bad release override {text!r}: use none, rollback:<version> or promote:<version>"
        )
    how: Literal["rollback", "promote"] = "rollback" if found.group(1) == "rollback" else "promote"
    return Override(how=how, version=found.group(2))


def parse_plan(text: str) -> tuple[Stage, ...]:
    """`5:168,50:336:ab,100:0:approve` -> stages of PERCENT:HOURS, `ab` for an A/B report at the
    end, `approve` when entering the stage waits for an operator (the grammar of
    `scripts/rollout.py start --plan`)."""
    stages = []
    for chunk in text.split(","):
        parts = chunk.strip().split(":")
        flags = parts[2:]
        if len(parts) < 2 or not set(flags) <= {"ab", "approve"} or len(set(flags)) < len(flags):
            raise ValidationFailed(f"bad plan stage {chunk!r}: use PERCENT:HOURS[:ab][:approve]")
        try:
            stages.append(
                Stage(
                    weight=float(parts[0]) / 100,
                    bake_hours=float(parts[1]),
                    ab_report="ab" in flags,
                    approval_required="approve" in flags,
                )
            )
        except (ValueError, ValidationError) as exc:
            raise ValidationFailed(f"bad plan stage {chunk!r}: {exc}") from None
    if not stages or stages[-1].weight != 1.0:
        raise ValidationFailed(f"plan {text!r} must end with a 100% stage")
    return tuple(stages)


def version_of(version_arn: str) -> str:
    """The version number at the end of a qualified function ARN."""
    version = version_arn.rsplit(":", 1)[-1]
    if not version.isdigit():
        raise ValidationFailed(f"{version_arn!r} is not the ARN of a published version")
    return version


def _latest(controller: RolloutController, function_name: str) -> Rollout | None:
    try:
        return controller.status(function_name)
    except NotFound:
        return None


def refusal(active: Rollout) -> str:
    return (
        f"deploy refused: a bake of version {active.candidate_version} against "
        f"{active.stable_version} is {active.status} at {active.weight():.0%} of {active.alias} "
        f"(stage {active.stage_index + 1}/{len(active.plan)}). Finish it (scripts/rollout.py promote or "
        f"rollback), or deploy with ReleaseOverride=rollback:{active.candidate_version} or "
        f"ReleaseOverride=promote:{active.candidate_version} to end it first"
    )


def end_for_deploy(
    controller: RolloutController, active: Rollout, override: Override, deployment_id: str
) -> Rollout:
    reason = f"ended by deploy {deployment_id} (ReleaseOverride={override.how}:{override.version})"
    function_name = active.function_name
    if override.how == "rollback":
        ended = controller.act(function_name, "rollback", reason)
    else:
        ended = active
        for _ in range(MAX_PROMOTE_STEPS):
            ended = controller.act(function_name, "promote", reason)
            if ended.finished:
                break
    controller.notify("deploy_override", ended, reason, deployment_id=deployment_id)
    return ended


def begin_bake(
    controller: RolloutController,
    function_name: str,
    candidate_version: str,
    deployment_id: str,
    plan: tuple[Stage, ...],
    override: Override | None,
) -> Rollout:
    """Start the bake of `candidate_version` on `live` for deploy `deployment_id`, or raise
    DeployRefused with the reason (also announced as `deploy_refused`)."""
    try:
        active = _latest(controller, function_name)
        if active is not None and active.active:
            if active.candidate_version == candidate_version:
                # The same deploy's hook again (CodeDeploy retried it): the bake it started stands.
                return active
            if override is None or override.version != active.candidate_version:
                raise DeployRefused(refusal(active))
            end_for_deploy(controller, active, override, deployment_id)
        return controller.start(function_name, candidate_version, plan=plan, own_deployment=deployment_id)
    except DeployRefused as exc:
        controller.notify(
            "deploy_refused",
            _latest(controller, function_name),
            str(exc),
            function_name,
            deployment_id=deployment_id,
        )
        raise
    except (Conflict, ValidationFailed) as exc:
        reason = f"deploy refused: {exc.message}"
        controller.notify(
            "deploy_refused",
            _latest(controller, function_name),
            reason,
            function_name,
            deployment_id=deployment_id,
        )
        raise DeployRefused(reason) from None
    except DomainError as exc:
        raise DeployRefused(f"deploy refused: {exc.message}") from None
