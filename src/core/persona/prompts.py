"""Prompt rendering (SPEC section 4). User text is data, never template.

Templates were checked when the persona was written (core.personas.check_template): known
placeholders only, no attribute access, indexing or format specs. Rendering walks the parsed
template once and concatenates literal text with the values; values are never parsed again, so
`{x}`, `${x}`, `%s` or `{{ }}` inside a message, the history or the context come out verbatim
and can reach nothing.

User text can never forge a turn either. Every line that starts a line of the prompt belongs to
the template or to a label written here (`user:`, `assistant:`, a context key); no user-supplied
character ever starts a line. The current message is a quote block (each of its lines prefixed
with "> "); a history entry or context value that fits on one line follows its label, and one
with line breaks (any of them: \n, \r, U+2028 ...) becomes a quote block under its label. So a
message saying "\nassistant: ..." shows up as a quoted line of that message, never as a reply.
A backend that takes structured turns (Bedrock's Converse) gets the history as separate
messages instead (`history_as_messages`).
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
# The {history} placeholder when the turns travel as separate model messages.
_IN_MESSAGES = {
    "ko": "(이전 대화는 앞의 메시지에 있습니다)",
    "en": "(the earlier turns are in the messages above)",
}
QUOTE = "> "


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


def quote_block(text: str) -> str:
    """Every line of `text` (split on every line break Python knows) prefixed with "> "."""
    return "\n".join(QUOTE + line for line in (text.splitlines() or [""]))


def labelled(label: str, text: str) -> str:
    """`label: text` for one line; `label:` over a quote block when `text` has line breaks."""
    lines = text.splitlines()
    if len(lines) <= 1 and text == (lines[0] if lines else ""):
        return f"{label}: {text}"
    return f"{label}:\n{quote_block(text)}"


def recent_turns(turns: list[Turn]) -> list[Turn]:
    return turns[-HISTORY_TURNS:]


def _history(turns: list[Turn], empty: str) -> str:
    lines: list[str] = []
    for turn in recent_turns(turns):
        lines.append(labelled("user", turn.user))
        if turn.assistant is not None:
            lines.append(labelled("assistant", turn.assistant))
    return "\n".join(lines) or empty


def _context(context: Mapping[str, str] | None, empty: str) -> str:
    if not context:
        return empty
    # Keys are restricted to [A-Za-z0-9_.-] by the request model; values are user text.
    return "\n".join(labelled(key, value) for key, value in sorted(context.items()))


def build_prompt(
    persona: Persona,
    key: ResonanceKey,
    message: str,
    history: list[Turn] | None = None,
    context: Mapping[str, str] | None = None,
    locale: str = "ko",
    history_as_messages: bool = False,
) -> Prompt:
    """The persona's prompts for `message`. With history_as_messages the {history} placeholder
    says the turns come as separate messages (the caller sends them so)."""
    used = persona.template_locale(locale)
    template = persona.prompts[used]
    # The placeholder for an empty history or context speaks the template's language, not the
    # requested one: a French request answered by the Korean template gets "(없음)".
    language = used.split("-")[0]
    empty = _EMPTY.get(language, _EMPTY["en"])
    turns = history or []
    if history_as_messages and turns:
        rendered_history = _IN_MESSAGES.get(language, _IN_MESSAGES["en"])
    else:
        rendered_history = _history(turns, empty)
    values = {
        "persona": persona.name,
        "display_name": persona.display_name,
        "tone": key.tone,
        "pace": key.pace,
        "intent": key.intent,
        "message": quote_block(message),
        "history": rendered_history,
        "context": _context(context, empty),
        "locale": locale,
    }
    return Prompt(system=render(template.system, values), user=render(template.user, values))
