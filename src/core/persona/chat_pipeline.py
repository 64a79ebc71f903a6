"""The chat pipeline (SPEC section 4): resolve the key (given, else inferred) -> route with
session continuity -> build the prompts -> call the model backend -> post-process -> store the
turn -> answer."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.persona.prompts import Turn, build_prompt
from core.persona.resonance import parse_resonance_key

if TYPE_CHECKING:
    from core.persona.catalog_cache import CatalogSnapshot
    from core.persona.persona_ports import ModelBackend, SessionStore

HISTORY_TURNS = 3
MAX_REPLY_CHARS = 16000
_BLANK_RUN = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class ChatInput:
    message: str
    resonance_key: str | None = None
    on_invalid: str = "error"
    session_id: str | None = None
    user_id: str | None = None
    locale: str = "ko"
    context: Mapping[str, str] = field(default_factory=dict)
    # Who called (set by the HTTP edge). Sessions are stored inside the owner's scope, so a
    # session id guessed or reused by another caller finds nothing of this caller's history.
    session_owner: str | None = None


def session_storage_key(owner: str | None, session_id: str) -> str:
    return f"{owner}|{session_id}" if owner else session_id


def post_process(text: str) -> str:
    """Tidy a model reply: trim, fold runs of blank lines, bound its length."""
    text = _BLANK_RUN.sub("\n\n", text.replace("\r\n", "\n").strip())
    if len(text) > MAX_REPLY_CHARS:
        text = text[:MAX_REPLY_CHARS].rstrip() + "…"
    return text


class ChatService:
    def __init__(
        self,
        snapshot: Callable[[], CatalogSnapshot],
        backend: ModelBackend,
        sessions: SessionStore | None = None,
        new_session_id: Callable[[], str] = lambda: uuid.uuid4().hex,
        on_routed: Callable[[str, str], None] | None = None,
    ) -> None:
        self._snapshot = snapshot
        self._backend = backend
        self._sessions = sessions
        self._new_session_id = new_session_id
        # Told (persona, normalized key) as soon as routing decides, before the model call, so
        # whatever is logged after it (a model failure included) can name both.
        self._on_routed = on_routed

    def chat(self, request: ChatInput) -> dict[str, Any]:
        started = time.perf_counter()
        if request.resonance_key is not None:
            key = parse_resonance_key(request.resonance_key, request.on_invalid)  # type: ignore[arg-type]
        else:
            from core.persona.inference import detect_key

            key = detect_key(request.message)

        session_id = request.session_id or self._new_session_id()
        stored_as = session_storage_key(request.session_owner, session_id)
        history: list[Turn] = []
        if request.session_id and self._sessions is not None:
            history = self._sessions.history(stored_as, HISTORY_TURNS)
        previous = history[-1].persona if history else None

        snapshot = self._snapshot()
        routing = snapshot.router.route(key, previous_persona=previous)
        if self._on_routed is not None:
            self._on_routed(routing.persona, key.normalized_key)
        persona = snapshot.catalog.get(routing.persona)
        assert persona is not None  # the router only names personas of this catalog
        # A backend that takes structured turns gets the history as separate messages; the
        # others get it rendered into the prompt text (quoted, so it cannot be forged either).
        converse = getattr(self._backend, "converse", None)
        as_messages = converse is not None and bool(history)
        prompt = build_prompt(
            persona, key, request.message, history, request.context, request.locale, as_messages
        )
        if as_messages:
            completion = converse(prompt.system, history, prompt.user)  # type: ignore[misc]
        else:
            completion = self._backend.complete(prompt.system, prompt.user)
        content = post_process(completion.content) if completion is not None else None

        if self._sessions is not None:
            self._sessions.append(
                stored_as,
                Turn(user=request.message, assistant=content, persona=routing.persona),
                user_id=request.user_id,
            )

        routing_body = routing.model_dump(mode="json")
        return {
            "persona": routing.persona,
            "confidence": routing.confidence,
            "content": content,
            "prompt": prompt.model_dump(),
            "routing": routing_body,
            "resonance": routing_body["resonance"],
            "session_id": session_id,
            "execution_time_ms": round((time.perf_counter() - started) * 1000, 2),
            "llm": {
                "backend": self._backend.name,
                "model": completion.model if completion else self._backend.model,
                "latency_ms": completion.latency_ms if completion else 0.0,
                "input_tokens": completion.input_tokens if completion else 0,
                "output_tokens": completion.output_tokens if completion else 0,
            },
        }
