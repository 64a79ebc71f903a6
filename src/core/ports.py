"""The small interfaces core needs from the outside world. Each has one boto3-backed adapter
in core.adapters; tests may use fakes. Nothing else in core imports boto3."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from core.personas import Catalog, Persona
    from core.prompts import Turn
    from core.rollout import AliasShape, Rollout, VersionStats


class CatalogStore(Protocol):
    def load(self) -> Catalog | None:
        """The whole catalog (personas + config + version), or None when nothing is stored yet."""

    def version(self) -> int | None:
        """The stored catalog version only: a cheap freshness check."""

    def put_persona(self, persona: Persona, expected_version: int | None) -> Persona:
        """Create (expected_version None) or replace at expected_version. Returns the stored
        persona with its new version. Raises Conflict, NotFound or PreconditionRequired."""

    def delete_persona(self, name: str, expected_version: int) -> None:
        """Delete at expected_version. Raises Conflict or NotFound."""

    def seed(self, catalog: Catalog) -> bool:
        """Write the catalog only if the store is empty; True when it wrote."""


class SessionStore(Protocol):
    def history(self, session_id: str, limit: int = 3) -> list[Turn]:
        """The last `limit` turns, oldest first."""

    def append(self, session_id: str, turn: Turn, user_id: str | None = None) -> str:
        """Store one turn and return its id; concurrent appends on one session must all survive."""


@dataclass(frozen=True)
class Completion:
    content: str
    model: str
    input_tokens: int
    output_tokens: int
    latency_ms: float


class ModelBackend(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def model(self) -> str | None: ...

    def complete(self, system: str, user: str) -> Completion | None:
        """Run the model on a system prompt and one user turn; None for a backend that makes no
        call. Raises core.errors.Unavailable when the model cannot answer."""


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
