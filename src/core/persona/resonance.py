"""Resonance-key parsing (SPEC section 2): whatever a client sends -> the canonical key, with
every repair reported as a correction, or one error naming every bad part.

Reading a key:

1. Keys longer than MAX_KEY_LENGTH characters (before trimming) are rejected outright.
2. Surrounding white space is trimmed silently.
3. A separator (run of `-`, `_`, white space) before the first part or after the last is not
   dropped silently: it is reported as a `separator` correction with `resolved` "" (see below).
4. The key is split on runs of `-`, `_` and white space. Tone and pace are single words, so
   the first token is the tone, the second the pace and every remaining token belongs to the
   intent (`Seeking-Advice` -> `seeking_advice`). If the joined intent resolves to nothing, the
   longest run of leading intent words that resolves is the intent and only the words after it
   are extra parts (`seek-advice-now`: extra "now"); a run resolving exactly or by alias is
   preferred over a longer one resolving only by prefix or typo.
5. Each part is resolved: exact value, alias (English, older clients' intents, Korean), unique
   prefix of 3+ letters, or a typo: the canonical value at the smallest optimal-string-alignment
   distance, if that distance is <= 2 and no other value of the part is equally near. Typos are
   measured against canonical values only (SPEC section 2), never against aliases, so `plane`
   is not `plan` misspelt; aliases resolve only when written exactly.

Corrections, per part in this order (deterministic):

- `separator` for the tone when the key starts with a separator (input: the separator run as
  written, resolved: "" - it was removed). The Correction model fits this without change, so a
  stray edge separator is a reported repair rather than an error;
- `separator` for the pace and the intent when the separator written before them was anything
  but a single `-` (input: the separator as written, resolved: `-`);
- `case` when the part was not written in lower case (input: as written, resolved: lowered);
- `separator` for an intent whose words were joined by anything but `_`
  (input: the lowered intent as written, resolved: its words joined by `_`);
- then one of `alias`, `prefix`, `typo` when the (lowered, joined) word is not a value itself;
- `default` (only with on_invalid="default") when a part is missing or unresolvable;
- `separator` with resolved "" for a separator run after the last written part, reported under
  that part (the intent for a full key) right after its other corrections.

Parsing is memoised per (raw, on_invalid): the route hot path parses on every request, results
are immutable models and errors are rebuilt fresh on every raise.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Literal

from core.persona.data import load_data
from core.persona.resonance_models import Correction, CorrectionRule, KeyProblem, KeyValidation, ResonanceKey
from core.persona.vocabulary import DEFAULTS, PARTS, VOCABULARY, Part, canonical_key
from core.shared.errors import InvalidResonanceKey

MAX_KEY_LENGTH = 128
MIN_PREFIX = 3
MAX_TYPO_DISTANCE = 2
ECHO_LIMIT = 64  # how much of a bad token an error repeats back

OnInvalid = Literal["error", "default"]

# Aliases per part (older intent names, Korean words): core/persona/data/aliases.json.
ALIASES: dict[Part, dict[str, str]] = load_data("aliases.json")

_SPLIT = re.compile(r"([-_\s]+)")
# Separator runs at either edge of the (trimmed) key, and what lies between them.
_EDGES = re.compile(r"([-_\s]*)(.*?)([-_\s]*)", re.DOTALL)
# C0/C1 controls (other than the white space that separates parts) and bidi / zero-width
# formatting characters: never part of a key, and dangerous to echo or log as they are.
_INVISIBLE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def osa_distance(a: str, b: str, limit: int | None = None) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions and adjacent
    transpositions each cost 1. Stops early (returns limit + 1) once `limit` is exceeded."""
    if a == b:
        return 0
    if limit is not None and abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            best = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                best = min(best, previous2[j - 2] + 1)
            current[j] = best
        if limit is not None and min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def suggest(part: Part, token: str, limit: int = 3) -> list[str]:
    """Nearest values of a part: by edit distance (a shared prefix counts as near), then
    vocabulary order."""
    word = token.strip().lower()[:ECHO_LIMIT]
    values = VOCABULARY[part]

    def rank(item: tuple[int, str]) -> tuple[int, int]:
        index, value = item
        distance = osa_distance(word, value)
        if len(word) >= 2 and value.startswith(word):
            distance = 0
        return distance, index

    return [value for _, value in sorted(enumerate(values), key=rank)[:limit]]


def _resolve(part: Part, word: str) -> tuple[str, CorrectionRule | None] | None:
    """(value, rule) for a lowered, `_`-joined word; rule None when the word is the value."""
    values = VOCABULARY[part]
    if word in values:
        return word, None
    alias = ALIASES[part].get(word)
    if alias is not None:
        return alias, "alias"
    if len(word) >= MIN_PREFIX:
        matches = [v for v in values if v.startswith(word)]
        if len(matches) == 1:
            return matches[0], "prefix"
    # Typos are measured against the canonical values only (SPEC section 2).
    distances = {value: osa_distance(word, value, MAX_TYPO_DISTANCE) for value in values}
    nearest = min(distances.values())
    if nearest <= MAX_TYPO_DISTANCE:
        winners = [value for value, distance in distances.items() if distance == nearest]
        if len(winners) == 1:
            return winners[0], "typo"
    return None


def _intent_words(words: list[str]) -> int:
    """How many of the leading words form the intent. All of them when they resolve joined
    (everything after the pace is the intent); else the longest run that resolves exactly or by
    alias, else the longest that resolves by prefix or typo; all of them when none resolves
    (then the whole intent is reported unknown, not split into extra parts)."""
    lowered = [w.lower() for w in words]
    if len(words) == 1 or _resolve("intent", "_".join(lowered)) is not None:
        return len(words)
    loose = 0
    for size in range(len(words) - 1, 0, -1):
        found = _resolve("intent", "_".join(lowered[:size]))
        if found is None:
            continue
        if found[1] in (None, "alias"):
            return size
        loose = loose or size
    return loose or len(words)


def _echo(text: str) -> str:
    return text if len(text) <= ECHO_LIMIT else text[:ECHO_LIMIT] + "…"


def _parse(raw: Any, on_invalid: OnInvalid) -> ResonanceKey | tuple[KeyProblem, ...]:
    if not isinstance(raw, str):
        return (KeyProblem(part="key", input=None, reason="the resonance key must be a string"),)
    if len(raw) > MAX_KEY_LENGTH:
        return (
            KeyProblem(
                part="key",
                input=_echo(raw),
                reason=f"the key is longer than {MAX_KEY_LENGTH} characters ({len(raw)})",
            ),
        )
    if _INVISIBLE.search(raw):
        return (
            KeyProblem(
                part="key",
                input=_echo(raw.encode("unicode_escape").decode("ascii")),
                reason="the key contains control or invisible formatting characters",
            ),
        )
    edges = _EDGES.fullmatch(raw.strip())
    assert edges is not None  # every string matches: all three groups may be empty
    leading, body, trailing = edges.group(1), edges.group(2), edges.group(3)
    pieces = _SPLIT.split(body) if body else []
    tokens = pieces[0::2]
    separators = pieces[1::2]

    corrections: list[Correction] = []
    problems: list[KeyProblem] = []
    resolved: dict[Part, str] = {}

    def bad(part: Part, token: str | None, reason: str) -> None:
        if on_invalid == "default":
            value = DEFAULTS[part]
            corrections.append(
                Correction(part=part, input=_echo(token or ""), resolved=value, rule="default")
            )
            resolved[part] = value
        else:
            suggestions = suggest(part, token) if token else list(VOCABULARY[part][:3])
            problems.append(
                KeyProblem(
                    part=part,
                    input=None if token is None else _echo(token),
                    reason=reason,
                    suggestions=suggestions,
                )
            )

    def take(part: Part, written: str, before: str | None, words: list[str], inner: list[str]) -> None:
        if before is not None and before != "-":
            corrections.append(Correction(part=part, input=before, resolved="-", rule="separator"))
        lowered = written.lower()
        if lowered != written:
            corrections.append(Correction(part=part, input=written, resolved=lowered, rule="case"))
        joined = "_".join(w.lower() for w in words)
        if any(sep != "_" for sep in inner):
            corrections.append(Correction(part=part, input=lowered, resolved=joined, rule="separator"))
        found = _resolve(part, joined)
        if found is None:
            bad(part, written, f"unknown {part} {_echo(written)!r}")
            return
        value, rule = found
        if rule is not None:
            corrections.append(Correction(part=part, input=joined, resolved=value, rule=rule))
        resolved[part] = value

    # The part a trailing separator run follows: the last one written (extra words are an error).
    last_written = min(len(tokens), len(PARTS)) - 1

    def edge(part: Part, separator: str) -> None:
        corrections.append(Correction(part=part, input=separator, resolved="", rule="separator"))

    if leading:
        edge("tone", leading)
    for index, part in enumerate(PARTS[:2]):
        if index < len(tokens):
            take(part, tokens[index], separators[index - 1] if index else None, [tokens[index]], [])
            if trailing and index == last_written:
                edge(part, trailing)
        else:
            bad(part, None, f"the {part} is missing")

    extra: list[str] = []
    if len(tokens) > 2:
        words = tokens[2:]
        inner = separators[2:]
        size = _intent_words(words)
        if size < len(words):
            # The first `size` words are the intent; the rest do not belong to a key.
            extra = words[size:]
            words, inner = words[:size], inner[: size - 1]
        written = words[0] + "".join(sep + word for sep, word in zip(inner, words[1:], strict=True))
        take("intent", written, separators[1], words, inner)
        if trailing:
            edge("intent", trailing)
    else:
        bad("intent", None, "the intent is missing")

    if extra:
        problems.append(
            KeyProblem(
                part="extra",
                input=_echo(" ".join(extra)),
                reason="a key has three parts: tone-pace-intent",
                suggestions=[],
            )
        )
    if problems:
        return tuple(problems)
    return ResonanceKey(
        normalized_key=canonical_key(resolved["tone"], resolved["pace"], resolved["intent"]),
        tone=resolved["tone"],
        pace=resolved["pace"],
        intent=resolved["intent"],
        corrections=tuple(corrections),
    )


@lru_cache(maxsize=4096)
def _parse_cached(raw: str, on_invalid: OnInvalid) -> ResonanceKey | tuple[KeyProblem, ...]:
    return _parse(raw, on_invalid)


def _error(problems: tuple[KeyProblem, ...]) -> InvalidResonanceKey:
    parts = ", ".join(p.part for p in problems)
    return InvalidResonanceKey(
        f"the resonance key could not be read ({parts}); expected tone-pace-intent",
        [p.model_dump() for p in problems],
    )


def parse_resonance_key(raw: str, on_invalid: OnInvalid = "error") -> ResonanceKey:
    """The canonical key for `raw`, or InvalidResonanceKey listing every bad part."""
    mode: OnInvalid = "default" if on_invalid == "default" else "error"
    result = _parse_cached(raw, mode) if isinstance(raw, str) else _parse(raw, mode)
    if isinstance(result, ResonanceKey):
        return result
    raise _error(result)


def validate_resonance_key(raw: str) -> KeyValidation:
    """The validate endpoint's answer; never raises for any input."""
    result = _parse_cached(raw, "error") if isinstance(raw, str) else _parse(raw, "error")
    if isinstance(result, ResonanceKey):
        return KeyValidation(
            valid=True, normalized_key=result.normalized_key, corrections=list(result.corrections), errors=[]
        )
    return KeyValidation(valid=False, normalized_key=None, corrections=[], errors=list(result))
