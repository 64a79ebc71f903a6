"""The interfaces release control needs from AWS: the rollout table, the alias's traffic split and
the versions' metrics. Each has one boto3-backed adapter in core.release.adapters; tests use
fakes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from core.release.rollout_plan import AliasShape, Rollout, VersionStats


class RolloutStore(Protocol):
    def get(self, function_name: str) -> Rollout | None:
        """The latest rollout of a function, finished or not."""

    def save(self, rollout: Rollout, expected_revision: int | None) -> Rollout:
        """Store at expected_revision (None: no rollout stored yet) and return it with the next
        revision. Raises Conflict when another writer got there first or a concurrent
        transaction got in the way (both retryable after reloading)."""

    def all(self) -> list[Rollout]:
        """The latest rollout of every function."""


class TrafficControl(Protocol):
    def current(self, function_name: str, alias: str) -> tuple[AliasShape, str]:
        """The alias's routing (primary version and additional version weights) and its revision
        (Lambda's RevisionId)."""

    def route(self, function_name: str, alias: str, shape: AliasShape, revision: str) -> str:
        """Set the alias to `shape` only if it is still at `revision`, and return its new revision.
        Raises Conflict when the alias changed since it was read."""


class VersionMetrics(Protocol):
    def stats(self, function_name: str, alias: str, version: str, start: float, end: float) -> VersionStats:
        """Requests, errors, routing failures and p95 duration of one version in [start, end)."""


class DeploymentWatch(Protocol):
    def in_progress(self) -> list[str]:
        """Ids of the CodeDeploy deployments of the function's deployment group that have not
        ended (any of them may still move traffic)."""

    def status(self, deployment_id: str) -> str:
        """CodeDeploy's status of one deployment (Created, Queued, InProgress, Baking, Ready,
        Succeeded, Failed or Stopped)."""
