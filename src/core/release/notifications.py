"""What a release tells its operators: one message per transition of a rollout, and the port
that delivers it (core.release.adapters.sns_notifier on AWS; tests use fakes or moto).

The transition names are the contract of the messages (docs/rollouts.md lists them); release
code names transitions only through `Transition`. A notification that cannot be delivered never
changes what the controller does: the stored state stays the truth, and the delivery failure is
logged (and counted by the caller).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from core.release.rollout_plan import Transition as PlanTransition

log = logging.getLogger(__name__)

# The rollout's own transitions (core.release.rollout_plan) plus the deploy path's.
Transition = Literal[
    PlanTransition,
    "deploy_refused",
    "deploy_override",
    "controller_error",
]

# Decision actions of the controller (and operator actions) -> the transition they announce.
# Actions that change nothing (hold) announce nothing. The statistics half of the release code
# adds its own actions here (waiting_for_approval, inconclusive_too_long) when it defines them.
ACTION_TRANSITIONS: dict[str, Transition] = {
    "start": "started",
    "advance": "advanced",
    "complete": "completed",
    "rollback": "rolled_back",
    "drift": "drifted",
    "pause": "paused",
    "resume": "resumed",
    "approve": "approved",
    "wait_approval": "waiting_for_approval",
    "waiting_for_approval": "waiting_for_approval",
    "inconclusive_too_long": "inconclusive_too_long",
}


def transition_of(action: str) -> Transition | None:
    """The transition an action announces, None for actions that change nothing."""
    return ACTION_TRANSITIONS.get(action)


class Notification(BaseModel):
    """One SNS message: a JSON object that stands on its own (who, what, why, where in the plan)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    transition: Transition
    function_name: str
    rollout_id: str | None = Field(
        default=None, description="<function>#<started_at epoch seconds>, the key of its audit record"
    )
    stable_version: str | None = None
    candidate_version: str | None = None
    stage: int | None = Field(default=None, description="1-based stage of the plan, when there is one")
    stage_weight: float | None = Field(default=None, description="the candidate's share after the transition")
    reason: str = ""
    verdict: str | None = Field(default=None, description="the A/B or gate verdict, when there is one")
    deployment_id: str | None = Field(default=None, description="the CodeDeploy deployment concerned")
    at: str = Field(description="UTC time of the transition, ISO 8601")

    def subject(self) -> str:
        """SNS subjects are at most 100 ASCII characters, no line breaks."""
        versions = f" v{self.candidate_version}" if self.candidate_version else ""
        text = f"{self.transition.replace('_', ' ')}: {self.function_name}{versions}"
        return "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text)[:100]


def iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def rollout_id(function_name: str, started_at: float) -> str:
    return f"{function_name}#{int(started_at)}"


class Notifier(Protocol):
    def publish(self, notification: Notification) -> None:
        """Deliver one notification; raises on failure (callers decide what a failure means)."""


class NoNotifier:
    """Where no topic is configured (local runs): nothing is sent."""

    def publish(self, notification: Notification) -> None:
        return None


class RecordingNotifier:
    """Keeps what would have been sent (tests, simulations)."""

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    def publish(self, notification: Notification) -> None:
        self.sent.append(notification)


def deliver(notifier: Notifier, notification: Notification) -> bool:
    """Publish, never raise: a lost notification must not undo or block a release decision."""
    try:
        notifier.publish(notification)
    except Exception:
        log.exception(
            "release notification not delivered",
            extra={"transition": notification.transition, "function": notification.function_name},
        )
        return False
    return True
