"""The rollout's bounded evaluation history (core.release.evaluation_history), as the real
controller and gates fill it over simulated bakes (tests/release_rollout.py)."""

from __future__ import annotations

import itertools
from typing import Any

from core.release.evaluation_history import HISTORY_LIMIT, SAMPLE_SECONDS, EvaluationRecord, record
from core.release.release_gates import Evidence, Gates, VersionStats, evaluate, metrics_failed
from core.release.rollout_plan import Rollout
from tests.release_rollout import baked_rollout

WINDOW = 900.0


def _kept_for_a_reason(state: dict[str, Any]) -> None:
    """Each entry after the first is a change (outcome or stage), a fail, the evaluation behind a
    transition (the simulation has no metrics delay: it ends when the transition happens), or the
    hour's sample; and no hour of evaluations goes unrecorded."""
    entries = state["evaluations"]
    transitions = {round(event["at"]) for event in state["history"]}
    for before, entry in itertools.pairwise(entries):
        gap = entry["at"] - before["at"]
        changed = entry["outcome"] != before["outcome"] or entry["stage"] != before["stage"]
        reason = changed or entry["outcome"] == "fail" or entry["at"] in transitions
        assert reason or gap >= SAMPLE_SECONDS, (before, entry)
        if not changed:
            assert gap <= SAMPLE_SECONDS + WINDOW, (before, entry)


def test_a_21_day_bake_keeps_changes_and_hourly_samples_and_stays_small() -> None:
    state = baked_rollout()
    assert state["status"] == "completed"
    entries = state["evaluations"]
    ran = state["evidence"]["evaluations"]
    # 2,000-odd 15-minute evaluations, about one an hour kept (21 days: 504 hours) plus the changes.
    assert ran > 2000 and 21 * 24 <= len(entries) < ran / 3
    _kept_for_a_reason(state)
    assert {entry["stage"] for entry in entries} == {1, 2, 3}
    assert {entry["outcome"] for entry in entries} >= {"inconclusive", "pass"}
    # The evaluation that completed the bake is the last entry.
    last = state["evidence"]["last"]
    assert entries[-1]["at"] == round(last["at"]) and entries[-1]["outcome"] == last["outcome"]
    assert entries[-1]["e_not_worse"] == float(f"{last['e_value_not_worse']:.4g}")
    shares = {entry["stage"]: entry["share"] for entry in entries}
    assert shares == {1: 0.05, 2: 0.5, 3: 1.0}
    # The whole stored item (the JSON the DynamoDB adapter writes) stays far below 400 KB.
    stored = Rollout.model_validate(state).model_dump_json()
    assert len(stored.encode()) < 200_000


def test_a_rollback_keeps_every_fail_with_its_reasons() -> None:
    state = baked_rollout(candidate_error_rate=0.05, days=3)
    assert state["status"] == "rolled_back"
    fails = [entry for entry in state["evaluations"] if entry["outcome"] == "fail"]
    assert fails and all(entry["reasons"] for entry in fails)
    assert state["evaluations"][-1] == fails[-1]
    _kept_for_a_reason(state)


def test_states_stored_before_the_history_still_load() -> None:
    state = baked_rollout(candidate_error_rate=0.05, days=3)
    del state["evaluations"]
    assert Rollout.model_validate(state).evaluations == ()


def test_entries_leave_out_empty_fields_and_load_back_equal() -> None:
    state = baked_rollout(candidate_error_rate=0.05, days=3)
    loaded = Rollout.model_validate(state)
    first = state["evaluations"][0]
    assert "reasons" not in first and "latency_p" not in first and "immediate" not in first
    assert Rollout.model_validate_json(loaded.model_dump_json()).evaluations == loaded.evaluations


def _windows(count: int, candidate_errors: int) -> list[tuple[VersionStats, VersionStats]]:
    return [
        (
            VersionStats(version="2", requests=100, server_errors=candidate_errors),
            VersionStats(version="1", requests=900, server_errors=5),
        )
        for _ in range(count)
    ]


def test_the_cap_drops_the_oldest_hourly_samples_first_and_keeps_every_fail() -> None:
    gates, evidence = Gates(), Evidence()
    history: tuple[EvaluationRecord, ...] = ()
    at = 0.0
    outcomes = []
    # Ten days of a healthy candidate (inconclusive, sampled hourly), then one of a far worse one.
    for candidate, stable in _windows(960, 0) + _windows(8, 40):
        evidence, evaluation = evaluate(gates, evidence, candidate, stable, at, at + WINDOW)
        outcomes.append(evaluation.outcome)
        history = record(history, evaluation, stage=1, share=0.1, limit=100)
        at += WINDOW
    fails = outcomes.count("fail")
    assert fails >= 2 and len(history) == 100
    assert sum(entry.outcome == "fail" for entry in history) == fails
    # The samples left are the newest ones: the first entry survives, then a gap where the
    # oldest samples were dropped.
    assert history[0].at == WINDOW
    assert history[2].at - history[1].at > 24 * SAMPLE_SECONDS


def test_when_only_changes_are_left_the_oldest_go() -> None:
    evidence = Evidence()
    history: tuple[EvaluationRecord, ...] = ()
    for index in range(30):
        _, evaluation = metrics_failed(evidence, float(index * WINDOW), "throttled")
        evaluation = evaluation.model_copy(update={"outcome": "fail" if index % 2 else "error"})
        history = record(history, evaluation, stage=1, share=0.05, limit=10)
    assert len(history) == 10 and history[-1].at == 29 * WINDOW and history[0].at == 20 * WINDOW


def test_a_metrics_error_is_recorded_without_e_values() -> None:
    gates, evidence = Gates(), Evidence()
    candidate, stable = _windows(1, 0)[0]
    evidence, first = evaluate(gates, evidence, candidate, stable, 0.0, WINDOW)
    history = record((), first, stage=1, share=0.05)
    _, failed = metrics_failed(evidence, 2 * WINDOW, "ThrottlingException")
    history = record(history, failed, stage=1, share=0.05)
    assert [entry.outcome for entry in history] == [first.outcome, "error"]
    assert history[-1].e_worse is None and "ThrottlingException" in history[-1].reasons[0]
    assert history[0].e_worse is not None
    # A repeat of the same outcome within the hour adds nothing.
    assert record(history, failed.model_copy(update={"at": 3 * WINDOW}), stage=1, share=0.05) is history


def test_the_history_limit_fits_a_dynamodb_item() -> None:
    # A history full of fails with a real reason: the worst case per entry.
    gates, evidence = Gates(), Evidence()
    history: tuple[EvaluationRecord, ...] = ()
    at = 0.0
    for candidate, stable in _windows(4, 40):
        evidence, evaluation = evaluate(gates, evidence, candidate, stable, at, at + WINDOW)
        at += WINDOW
    assert evaluation.outcome == "fail" and evaluation.reasons
    for index in range(HISTORY_LIMIT + 50):
        history = record(history, evaluation.model_copy(update={"at": index * WINDOW}), stage=2, share=0.5)
    assert len(history) == HISTORY_LIMIT
    state = Rollout.model_validate(
        {**baked_rollout(days=1), "evaluations": [e.model_dump() for e in history]}
    )
    assert len(state.model_dump_json().encode()) < 200_000
