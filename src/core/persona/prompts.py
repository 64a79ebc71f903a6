"""Prompt rendering (SPEC section 4). User text is data, never template.

Templates were checked when the persona was written (core.personas.check_template): known
placeholders only, no attribute access, indexing or format specs. Rendering walks the parsed
template once and concatenates literal text with the values; values are never parsed again, so
`{x}`, `${x}`, `%s` or `{{ }}` inside a message, the history or the context come out verbatim
and can reach nothing.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from functools import lru_cache
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from core.persona.personas import Persona
from core.persona.resonance_models import ResonanceKey

HISTORY_TURNS = 3

ContextKey = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
ContextValue = Annotated[str, Field(max_length=1000)]
ChatContext = Annotated[
    dict[ContextKey, ContextValue],
    Field(max_length=20, description="Flat string map from the caller (at most 20 keys)"),
]

_EMPTY = {"ko": "(없음)", "en": "(none)"}


class Turn(BaseModel):
    """One exchange of a session: the user's message and the reply that followed, if any."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    user: str
    assistant: str | None = None
    persona: str | None = None


class Prompt(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    system: str
    user: str


@lru_cache(maxsize=256)
def _parsed(template: str) -> tuple[tuple[str, str | None], ...]:
    return tuple((literal, name) for literal, name, _, _ in string.Formatter().parse(template))


def render(template: str, values: dict[str, str]) -> str:
    pieces: list[str] = []
    for literal, name in _parsed(template):
        pieces.append(literal)
        if name is not None:
            pieces.append(values.get(name, ""))
    return "".join(pieces)


def _history(turns: list[Turn], empty: str) -> str:
    lines: list[str] = []
    for turn in turns[-HISTORY_TURNS:]:
        lines.append(f"user: {turn.user}")
        if turn.assistant is not None:
            lines.append(f"assistant: {turn.assistant}")
    return "\n".join(lines) or empty


def _context(context: Mapping[str, str] | None, empty: str) -> str:
    if not context:
        return empty
    return "\n".join(f"{key}: {value}" for key, value in sorted(context.items()))


def build_prompt(
    persona: Persona,
    key: ResonanceKey,
    message: str,
    history: list[Turn] | None = None,
    context: Mapping[str, str] | None = None,
    locale: str = "ko",
) -> Prompt:
    used = persona.template_locale(locale)
    template = persona.prompts[used]
    # The placeholder for an empty history or context speaks the template's language, not the
    # requested one: a French request answered by the Korean template gets "(없음)".
    empty = _EMPTY.get(used.split("-")[0], _EMPTY["en"])
    values = {
        "persona": persona.name,
        "display_name": persona.display_name,
        "tone": key.tone,
        "pace": key.pace,
        "intent": key.intent,
        "message": message,
        "history": _history(history or [], empty),
        "context": _context(context, empty),
        "locale": locale,
    }
    return Prompt(system=render(template.system, values), user=render(template.user, values))
