"""The rollout's bounded record of its gate evaluations (`Rollout.evaluations`), drawn by the
release page (scripts/release_report.py).

A bake evaluates every 15 minutes for weeks (2,016 evaluations in 21 days), and the whole state is
one DynamoDB item (at most 400 KB), so not every evaluation is kept: every one whose outcome or
stage differs from the one before, every fail and immediate rollback, and otherwise one sample per
hour. Past HISTORY_LIMIT entries the oldest hourly samples go first; the changes and fails, which
tell the story, stay. Entries are rounded and leave out empty fields: about 150 bytes of JSON each.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer

from core.release.release_gates import Evaluation, Outcome

HISTORY_LIMIT = 600
SAMPLE_SECONDS = 3600.0


def _round(value: float | None, digits: int = 4) -> float | None:
    """Significant digits: e-values span dozens of decades, so fixed decimals would lose the small ones."""
    return None if value is None else float(f"{value:.{digits}g}")


class EvaluationRecord(BaseModel):
    """One evaluation as the history keeps it. `stage` is the stage number (1-based, as the
    notifications and the page name it), `share` the candidate's traffic share then. The e-values
    are None for an `error` outcome (no metrics, nothing tested)."""

    model_config = ConfigDict(frozen=True)

    at: int
    stage: int
    share: float
    outcome: Outcome
    immediate: bool = False
    e_worse: float | None = None
    e_not_worse: float | None = None
    e_ceiling: float | None = None
    latency_p: float | None = None
    latency_ratio: float | None = None
    reasons: tuple[str, ...] = ()

    @model_serializer(mode="wrap")
    def _compact(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Fields at their default (no latency yet, no reasons, not immediate) are left out of the
        # stored JSON: a third of an entry's size, and they load back as the same defaults.
        data: dict[str, Any] = handler(self)
        # Identity, not equality: a 0.0 e-value is kept (0.0 == False).
        return {
            key: value
            for key, value in data.items()
            if value is not None and value is not False and value != []
        }

    @classmethod
    def of(cls, evaluation: Evaluation, stage: int, share: float) -> EvaluationRecord:
        tested = evaluation.outcome != "error"
        return cls(
            at=round(evaluation.at),
            stage=stage,
            share=round(share, 4),
            outcome=evaluation.outcome,
            immediate=evaluation.immediate,
            e_worse=_round(evaluation.e_value_worse) if tested else None,
            e_not_worse=_round(evaluation.e_value_not_worse) if tested else None,
            e_ceiling=_round(evaluation.e_value_ceiling) if tested else None,
            latency_p=_round(evaluation.latency_p_value, 3),
            latency_ratio=None if evaluation.latency_ratio is None else round(evaluation.latency_ratio, 4),
            reasons=evaluation.reasons,
        )

    @property
    def notable(self) -> bool:
        """Kept whatever its neighbours: a fail or an immediate rollback."""
        return self.outcome == "fail" or self.immediate


def _is_sample(entry: EvaluationRecord, before: EvaluationRecord) -> bool:
    """Kept only as the hour's sample: same outcome and stage as the entry before, nothing notable.
    Every change is recorded, so the entry before has the outcome of the evaluation before."""
    return not entry.notable and entry.outcome == before.outcome and entry.stage == before.stage


def _trim(entries: tuple[EvaluationRecord, ...], limit: int) -> tuple[EvaluationRecord, ...]:
    excess = len(entries) - limit
    # The first entry and the newest are never samples to drop (the newest is what the next
    # evaluation compares against).
    samples = [i for i in range(1, len(entries) - 1) if _is_sample(entries[i], entries[i - 1])][:excess]
    if samples:
        dropped = set(samples)
        entries = tuple(entry for i, entry in enumerate(entries) if i not in dropped)
    # Only changes and fails left: the oldest of them go.
    return entries[len(entries) - limit :] if len(entries) > limit else entries


def record(
    history: tuple[EvaluationRecord, ...],
    evaluation: Evaluation,
    stage: int,
    share: float,
    limit: int = HISTORY_LIMIT,
    transition: bool = False,
) -> tuple[EvaluationRecord, ...]:
    """`history` with `evaluation` added if it is worth keeping, bounded to `limit` entries.
    Returns `history` itself when nothing is added (most 15-minute evaluations). `transition`: the
    evaluation a decision acted on (an advance, a rollback), kept unless it already is."""
    previous = history[-1] if history else None
    if (
        previous is not None
        and previous.at == round(evaluation.at)
        and previous.outcome == evaluation.outcome
    ):
        return history
    keep = (
        previous is None
        or transition
        or evaluation.outcome == "fail"
        or evaluation.immediate
        or evaluation.outcome != previous.outcome
        or stage != previous.stage
        or evaluation.at - previous.at >= SAMPLE_SECONDS
    )
    if not keep:
        return history
    entries = (*history, EvaluationRecord.of(evaluation, stage, share))
    return _trim(entries, limit) if len(entries) > limit else entries
