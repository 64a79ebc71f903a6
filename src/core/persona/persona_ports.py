"""The interfaces the persona domain needs from the outside world: the catalog and session
stores and the model. Each has one boto3-backed adapter in core.persona.adapters; tests may use
fakes. Nothing else in the persona domain imports boto3."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from core.persona.personas import Catalog, Persona
    from core.persona.prompts import Turn


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
        call. Raises core.shared.errors.Unavailable when the model cannot answer."""
