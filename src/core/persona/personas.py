"""Personas and the catalog (SPEC section 3), validated at the edge of every write.

A typo in an operator's affinity table is an error naming the bad key and the nearest value,
never a silent 0.5. Prompt templates are checked when written: only the known placeholders,
balanced braces, so rendering (core.prompts) can never fail or reach anything else.
"""

from __future__ import annotations

import string
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from core.persona.vocabulary import PARTS, VOCABULARY, Part

PERSONA_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]{0,31}$"
MISSING_AFFINITY = 0.5
PLACEHOLDERS = frozenset(
    {"persona", "display_name", "tone", "pace", "intent", "message", "history", "context", "locale"}
)
LOCALE_PATTERN = r"^[a-z]{2}(-[A-Za-z]{2})?$"
# A value counts among a persona's best when its affinity is at least this high, or the top.
BEST_AFFINITY = 0.9

ShortText = Annotated[str, Field(min_length=1, max_length=200)]
Score = Annotated[float, Field(ge=0.0, le=1.0)]


def _nearest(part: Part, key: str) -> str:
    from core.persona.resonance import suggest

    return suggest(part, key, 1)[0]


class Affinity(BaseModel):
    """How well a persona fits each value of each part, in [0, 1]; missing values count 0.5."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tone: dict[str, Score] = Field(default_factory=dict)
    pace: dict[str, Score] = Field(default_factory=dict)
    intent: dict[str, Score] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_values_only(self) -> Affinity:
        problems = []
        for part in PARTS:
            for key in getattr(self, part):
                if key not in VOCABULARY[part]:
                    problems.append(f"{part} {key!r} is not a {part} (did you mean {_nearest(part, key)!r}?)")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def value(self, part: Part, value: str) -> float:
        table: dict[str, float] = getattr(self, part)
        return table.get(value, MISSING_AFFINITY)


def check_template(text: str) -> str:
    """Placeholders must be known names without attribute access, indexing or format specs."""
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise ValueError(
            f"template braces do not balance ({exc}); write {{{{ and }}}} for literal braces"
        ) from None
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            allowed = ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS))
            raise ValueError(f"unknown placeholder {{{name}}} in a template; allowed: {allowed}")
    return text


class PromptTemplate(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    system: str = Field(min_length=1, max_length=8000)
    user: str = Field(min_length=1, max_length=8000)

    @field_validator("system", "user")
    @classmethod
    def _placeholders(cls, text: str) -> str:
        return check_template(text)


class PersonaSpec(BaseModel):
    """What PUT /v1/admin/personas/{name} accepts: a GET body can be PUT back unchanged."""

    # Admin-only: built on first use, not in every cold start of the public function.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    name: str | None = Field(
        default=None, pattern=PERSONA_NAME_PATTERN, description="Optional; the path wins"
    )
    display_name: ShortText
    description: str = Field(min_length=1, max_length=1000)
    traits: list[ShortText] = Field(default_factory=list, max_length=20)
    strengths: list[ShortText] = Field(default_factory=list, max_length=20)
    prompt_style: str = Field(default="", max_length=500)
    affinity: Affinity = Field(default_factory=Affinity)
    priority: int = Field(default=100, ge=0, le=1_000_000)
    enabled: bool = True
    prompts: dict[Annotated[str, Field(pattern=LOCALE_PATTERN)], PromptTemplate] = Field(max_length=20)
    version: int | None = Field(default=None, description="Ignored on write: send it in If-Match")

    @field_validator("prompts")
    @classmethod
    def _korean_default(cls, prompts: dict[str, PromptTemplate]) -> dict[str, PromptTemplate]:
        if "ko" not in prompts:
            raise ValueError("prompts must include 'ko', the default locale")
        return prompts


class Persona(BaseModel):
    """A stored persona: the spec plus its name and version (optimistic locking)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=PERSONA_NAME_PATTERN)
    display_name: ShortText
    description: str = Field(min_length=1, max_length=1000)
    traits: tuple[ShortText, ...] = ()
    strengths: tuple[ShortText, ...] = ()
    prompt_style: str = Field(default="", max_length=500)
    affinity: Affinity = Field(default_factory=Affinity)
    priority: int = Field(default=100, ge=0, le=1_000_000)
    enabled: bool = True
    prompts: dict[str, PromptTemplate]
    version: int = Field(default=1, ge=1)

    @field_validator("prompts")
    @classmethod
    def _korean_default(cls, prompts: dict[str, PromptTemplate]) -> dict[str, PromptTemplate]:
        if "ko" not in prompts:
            raise ValueError("prompts must include 'ko', the default locale")
        return prompts

    @classmethod
    def from_spec(cls, name: str, spec: PersonaSpec, version: int = 1) -> Persona:
        data = spec.model_dump(exclude={"name", "version"})
        return cls.model_validate({**data, "name": name, "version": version})

    def representation(self) -> dict[str, Any]:
        """What GET returns: the PUT representation plus the version."""
        return self.model_dump(mode="json")

    def template_locale(self, locale: str) -> str:
        """Which templates render a request in `locale`: the locale's own, else its language's,
        else Korean (every persona has `ko`)."""
        if locale in self.prompts:
            return locale
        language = locale.split("-")[0]
        return language if language in self.prompts else "ko"

    def template(self, locale: str) -> PromptTemplate:
        return self.prompts[self.template_locale(locale)]


class Weights(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tone: float = Field(default=0.5, ge=0, le=1)
    pace: float = Field(default=0.3, ge=0, le=1)
    intent: float = Field(default=0.2, ge=0, le=1)

    @model_validator(mode="after")
    def _sum_to_one(self) -> Weights:
        total = self.tone + self.pace + self.intent
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"weights must sum to 1 (tone + pace + intent = {total:g})")
        return self

    def of(self, part: Part) -> float:
        value: float = getattr(self, part)
        return value


class CatalogConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    weights: Weights = Field(default_factory=Weights)
    continuity_bonus: float = Field(default=0.05, ge=0, le=0.1)


class Catalog(BaseModel):
    """Every persona plus the routing config, at one catalog version."""

    model_config = ConfigDict(frozen=True)

    version: int = Field(ge=0)
    config: CatalogConfig = Field(default_factory=CatalogConfig)
    personas: tuple[Persona, ...]
    _by_name: dict[str, Persona] = PrivateAttr(default_factory=dict)
    _by_folded_name: dict[str, Persona] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _unique_names(self) -> Catalog:
        names = [p.name for p in self.personas]
        if len(names) != len(set(names)):
            raise ValueError("persona names must be unique")
        return self

    def model_post_init(self, context: Any, /) -> None:
        # Names are matched without regard to case (`lua` is Lua). Exact spellings first, then one
        # entry per folded name, first in name order: should two spellings ever both be stored
        # (two environments creating them at the same instant), lookups stay deterministic.
        self._by_name = {p.name: p for p in self.personas}
        folded: dict[str, Persona] = {}
        for persona in sorted(self.personas, key=lambda p: p.name):
            folded.setdefault(persona.name.casefold(), persona)
        self._by_folded_name = folded

    def enabled(self) -> list[Persona]:
        return [p for p in self.personas if p.enabled]

    def get(self, name: str) -> Persona | None:
        """The persona of this name in any case (`lua`, `LUA` -> Lua), or None."""
        return self._by_name.get(name) or self._by_folded_name.get(name.casefold())

    def require(self, name: str) -> Persona:
        """The persona of this name in any case; NotFound naming the closest names otherwise."""
        persona = self.get(name)
        if persona is None:
            from core.shared.errors import NotFound

            shown = name[:64]
            suggestions = self.closest_names(name)
            hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
            raise NotFound(
                f"persona {shown!r} does not exist{hint}", [{"name": shown, "suggestions": suggestions}]
            )
        return persona

    def closest_names(self, name: str, limit: int = 3) -> list[str]:
        """Up to `limit` stored names that look like `name` (case ignored), best first."""
        import difflib

        folded = {p.name.casefold(): p.name for p in self.personas}
        matches = difflib.get_close_matches(name[:64].casefold(), list(folded), n=limit, cutoff=0.5)
        return [folded[m] for m in matches]


def capabilities(persona: Persona) -> dict[str, Any]:
    """The GET /v1/personas summary. Best values: those the persona rates at least
    BEST_AFFINITY, or its highest-rated value of the part when none reaches that."""

    def best(part: Part) -> list[str]:
        scores = {value: persona.affinity.value(part, value) for value in VOCABULARY[part]}
        top = max(scores.values())
        chosen = [v for v, s in scores.items() if s >= BEST_AFFINITY] or [
            v for v, s in scores.items() if s == top
        ]
        return chosen

    return {
        "name": persona.name,
        "display_name": persona.display_name,
        "description": persona.description,
        "traits": list(persona.traits),
        "strengths": list(persona.strengths),
        "prompt_style": persona.prompt_style,
        "priority": persona.priority,
        "version": persona.version,
        "best_tones": best("tone"),
        "best_paces": best("pace"),
        "best_intents": best("intent"),
    }
