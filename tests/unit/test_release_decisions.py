"""What the gates decide (core.release.rollout_plan.decide over release_gates.evaluate): pass /
fail / inconclusive, the failure and error limits, the ceiling, minimum samples (the 100% stage
too), waiting too long, approval, and the A/B report."""

from __future__ import annotations

import json
from typing import get_args

import pytest

from core.release import ab_report
from core.release.notifications import Transition as NoticeTransition
from core.release.release_gates import Evidence, Gates, VersionStats, evaluate, metrics_failed
from core.release.rollout_plan import (
    DEFAULT_PLAN,
    HOUR,
    Decision,
    Rollout,
    Stage,
    Transition,
    apply,
    decide,
    operator_action,
    start,
)

T0 = 1_800_000_000.0
PLAN = (
    Stage(weight=0.05, bake_hours=24),
    Stage(weight=0.5, bake_hours=48, ab_report=True),
    Stage(weight=1.0, bake_hours=0),
)


def stats(version: str, requests: int = 1_000, errors: int = 5, p95: float | None = 100.0) -> VersionStats:
    return VersionStats(version=version, requests=requests, server_errors=errors, p95_ms=p95)


def fed(
    rollout: Rollout, windows: list[tuple[VersionStats, VersionStats]], at: float | None = None
) -> Rollout:
    """The rollout after the controller folded these consecutive 15-minute windows into it."""
    evidence = rollout.evidence
    begin = evidence.evaluated_until or rollout.stage_started_at
    for index, (candidate, stable) in enumerate(windows):
        window_start = begin + index * 900
        evidence, _ = evaluate(rollout.gates, evidence, candidate, stable, window_start, window_start + 900)
    return rollout.model_copy(update={"evidence": evidence})


def healthy(n: int, share: float = 0.05, total: int = 2_000) -> list[tuple[VersionStats, VersionStats]]:
    candidate = round(total * share)
    stable = total - candidate
    return [(stats("4", candidate, round(candidate * 0.005)), stats("3", stable, round(stable * 0.005)))] * n


def fresh(plan: tuple[Stage, ...] = PLAN, gates: Gates | None = None) -> Rollout:
    return start("api", "3", "4", T0, plan, gates)


def test_a_healthy_candidate_holds_until_the_stage_has_baked() -> None:
    rollout = fed(fresh(), healthy(4))
    decision = decide(rollout, T0 + 23 * HOUR)
    assert decision.action == "hold" and "1.0 h left" in decision.reason
    assert decision.transition is None


def test_a_baked_stage_with_its_sample_advances() -> None:
    rollout = fed(fresh(), healthy(96))
    decision = decide(rollout, T0 + 24 * HOUR)
    assert (decision.action, decision.transition, decision.weight) == ("advance", "advanced", 0.5)
    moved = apply(rollout, decision, T0 + 24 * HOUR)
    # Error evidence carries over to the next stage; the stage's own counts start again.
    assert moved.evidence.worse == rollout.evidence.worse
    assert moved.evidence.stage.candidate_requests == 0 and moved.stage_started_at == T0 + 24 * HOUR


def test_too_little_traffic_holds_then_pauses_as_inconclusive_too_long() -> None:
    rollout = fed(fresh(gates=Gates(max_wait_hours=12)), healthy(4))  # 400 candidate requests < 500
    waiting = decide(rollout, T0 + 25 * HOUR)
    assert waiting.action == "hold" and "500 candidate requests (has 400)" in waiting.reason
    gave_up = decide(rollout, T0 + 36 * HOUR)
    assert (gave_up.action, gave_up.transition) == ("pause", "inconclusive_too_long")
    assert apply(rollout, gave_up, T0 + 36 * HOUR).status == "paused"


def test_one_failing_evaluation_holds_and_failure_limit_of_them_roll_back() -> None:
    bad = [(stats("4", 100, 30), stats("3", 1_900, 10))] * 3  # 30% against 0.5%
    # Keep the ceiling and the immediate rollback of a far-worse candidate out of it.
    gates = Gates(max_error_rate=0.9, failure_limit=3, immediate_alpha=1e-100)
    rollout = fresh(gates=gates)
    outcomes = []
    for window in bad:
        rollout = fed(rollout, [window])
        outcomes.append(decide(rollout, T0 + HOUR))
    assert [d.action for d in outcomes] == ["hold", "hold", "rollback"]
    assert "failing (1/3)" in outcomes[0].reason
    assert outcomes[2].transition == "rolled_back" and "3 failing evaluations in a row" in outcomes[2].reason
    assert outcomes[2].evaluation is not None and outcomes[2].evaluation.outcome == "fail"


def test_a_failing_evaluation_blocks_the_end_of_a_stage() -> None:
    rollout = fed(
        fresh(gates=Gates(max_error_rate=0.9, immediate_alpha=1e-100)),
        [*healthy(96), (stats("4", 100, 30), stats("3", 1_900, 10))],
    )
    decision = decide(rollout, T0 + 30 * HOUR)
    assert decision.action == "hold" and decision.reason.startswith("failing (1/2)")


def test_a_far_worse_relative_error_rate_rolls_back_without_waiting_for_the_failure_limit() -> None:
    # 6% against 0.5% (ceiling out of the way): the relative e-value passes 1/alpha^2 = 400 in one
    # window, so the rollback does not wait for a second failing evaluation.
    rollout = fed(fresh(gates=Gates(max_error_rate=0.9)), [(stats("4", 200, 12), stats("3", 3_800, 19))])
    decision = decide(rollout, T0 + 0.25 * HOUR)
    assert (decision.action, decision.transition) == ("rollback", "rolled_back")
    assert decision.evaluation is not None and decision.evaluation.immediate
    assert decision.evaluation.e_value_worse >= 400 and "at once" in decision.reason
    # The same window with the immediate threshold out of reach: one failing evaluation, a hold.
    held = fed(
        fresh(gates=Gates(max_error_rate=0.9, immediate_alpha=1e-100)),
        [(stats("4", 200, 12), stats("3", 3_800, 19))],
    )
    assert decide(held, T0 + 0.25 * HOUR).reason.startswith("failing (1/2)")


def test_a_merely_failing_relative_test_waits_for_the_failure_limit() -> None:
    # An e-value between 1/alpha and 1/alpha^2 is a failing evaluation, not an immediate rollback.
    rollout = fresh(gates=Gates(max_error_rate=0.9))
    for errors in range(1, 12):
        trial = fed(rollout, [(stats("4", 200, errors), stats("3", 3_800, 19))])
        assert trial.evidence.last is not None
        if 20 <= trial.evidence.last.e_value_worse < 400:
            assert not trial.evidence.last.immediate
            assert decide(trial, T0 + 0.25 * HOUR).action == "hold"
            break
    else:
        raise AssertionError("no error count gave an e-value between 20 and 400")


def test_immediate_alpha_defaults_to_alpha_squared_and_may_not_exceed_alpha() -> None:
    assert Gates().immediate_e_value == pytest.approx(400)
    assert Gates(alpha=0.01).immediate_e_value == pytest.approx(10_000)
    assert Gates(immediate_alpha=0.001).immediate_e_value == pytest.approx(1_000)
    with pytest.raises(ValueError, match="immediate_alpha must not exceed alpha"):
        Gates(alpha=0.01, immediate_alpha=0.02)


def test_far_worse_than_the_ceiling_rolls_back_at_once() -> None:
    rollout = fed(fresh(), [(stats("4", 400, 60), stats("3", 7_600, 40))])  # 15%, ceiling 2%
    decision = decide(rollout, T0 + 0.25 * HOUR)
    assert (decision.action, decision.transition) == ("rollback", "rolled_back")
    assert decision.evaluation is not None and decision.evaluation.immediate
    assert "ceiling" in decision.reason


def test_a_few_errors_on_a_few_requests_are_not_a_rollback() -> None:
    rollout = fed(fresh(), [(stats("4", 2, 1), stats("3", 40, 0))])
    assert decide(rollout, T0 + 0.25 * HOUR).action == "hold"


def test_metrics_errors_count_apart_from_failing_evaluations() -> None:
    evidence = Evidence(evaluated_until=T0)
    for _ in range(4):
        evidence, evaluation = metrics_failed(evidence, T0 + 900, "ThrottlingException")
    assert (evidence.consecutive_errors, evidence.consecutive_fails) == (4, 0)
    assert evaluation.outcome == "error" and evidence.evaluated_until == T0  # the window stays open
    decision = decide(fresh().model_copy(update={"evidence": evidence}), T0 + HOUR)
    assert (decision.action, decision.transition) == ("pause", "paused")
    recovered, _ = evaluate(Gates(), evidence, stats("4", 100, 0), stats("3", 1_900, 9), T0, T0 + 1_800)
    assert recovered.consecutive_errors == 0


def test_the_last_stage_watches_until_its_own_minimum_sample() -> None:
    rollout = fresh().model_copy(update={"stage_index": 2})
    rollout = rollout.model_copy(update={"evidence": rollout.evidence.for_new_stage()})
    assert decide(rollout, T0 + HOUR).action == "hold"  # zero samples: never completes
    rollout = fed(rollout, [(stats("4", 600, 2), stats("3", 0, 0))])
    decision = decide(rollout, T0 + HOUR)
    assert (decision.action, decision.transition) == ("complete", "completed")


def test_require_pass_waits_for_a_passing_test() -> None:
    gates = Gates(require_pass=True, max_wait_hours=1, min_requests=100)
    rollout = fed(fresh(gates=gates), healthy(2))
    assert rollout.evidence.last is not None and rollout.evidence.last.outcome == "inconclusive"
    assert decide(rollout, T0 + 24 * HOUR).action == "hold"
    assert decide(rollout, T0 + 25 * HOUR).transition == "inconclusive_too_long"
    # Lots of traffic with the same error rate: the pass e-process gets there.
    passing = fed(fresh(gates=gates), healthy(96, share=0.5, total=20_000))
    assert passing.evidence.last is not None and passing.evidence.last.outcome == "pass"
    assert decide(passing, T0 + 24 * HOUR).action == "advance"


def test_the_default_plan_waits_for_approval_before_100_percent() -> None:
    assert DEFAULT_PLAN[-1].approval_required and DEFAULT_PLAN[1].ab_report
    rollout = start("api", "3", "4", T0).model_copy(update={"stage_index": 1})
    rollout = fed(rollout, healthy(4, share=0.5))
    decision = decide(rollout, T0 + 14 * 24 * HOUR)
    assert (decision.action, decision.transition) == ("wait_approval", "waiting_for_approval")
    waiting = apply(rollout, decision, T0 + 14 * 24 * HOUR)
    assert waiting.status == "waiting_approval" and waiting.weight() == 0.5 and waiting.active
    approved, step = operator_action(waiting, "approve", T0 + 15 * 24 * HOUR, "ok")
    assert step.transition == "approved" and approved.stage_index == 2 and approved.weight() == 1.0


def test_transitions_are_the_notification_contract() -> None:
    # The SNS messages (core.release.notifications) name transitions; every decision's is one of them.
    assert set(get_args(Transition)) <= set(get_args(NoticeTransition))


def test_state_with_evidence_round_trips_as_json_and_old_gates_still_load() -> None:
    rollout = fed(fresh(), healthy(10))
    again = Rollout.model_validate_json(rollout.model_dump_json())
    assert again == rollout
    stored = json.loads(rollout.model_dump_json())
    stored["gates"] = {"min_requests": 500, "min_gate_requests": 100, "max_error_rate_increase": 0.005}
    stored.pop("evidence")
    old = Rollout.model_validate(stored)
    assert old.gates.min_requests == 500 and old.evidence == Evidence()


def _report(
    candidate: VersionStats, stable: VersionStats, rollout: Rollout | None = None
) -> dict[str, object]:
    rollout = rollout or fresh()
    return ab_report.build(
        stage_number=2,
        stage_weight=0.5,
        ended_by="advance",
        window_start=T0,
        window_end=T0 + 48 * HOUR,
        candidate=candidate,
        stable=stable,
        evidence=rollout.evidence,
        gates=rollout.gates,
    )


def test_the_ab_report_says_no_detectable_difference_and_what_could_be_detected() -> None:
    report = _report(stats("4", 10_000, 50, 110.0), stats("3", 10_000, 52, 100.0))
    assert report["verdict"] == "no detectable difference"
    assert str(report["verdict_text"]).startswith("no detectable difference (could detect 0.")
    candidate = report["candidate"]
    assert isinstance(candidate, dict)
    low, high = candidate["error_rate_interval"]
    assert low < 0.005 < high and candidate["p95_ms"] == 110.0
    difference = report["difference"]
    assert isinstance(difference, dict)
    assert difference["interval"][0] < -0.0002 < difference["interval"][1]
    json.dumps(report)  # stored in the rollout state as JSON


@pytest.mark.parametrize(
    ("candidate_errors", "verdict"), [(150, "candidate worse"), (10, "candidate better")]
)
def test_the_ab_report_verdicts(candidate_errors: int, verdict: str) -> None:
    report = _report(stats("4", 10_000, candidate_errors), stats("3", 10_000, 50))
    assert report["verdict"] == verdict == report["verdict_text"]


def test_the_ab_report_carries_the_sequential_test() -> None:
    rollout = fed(fresh(gates=Gates(max_error_rate=0.9)), [(stats("4", 100, 30), stats("3", 1_900, 10))] * 2)
    report = _report(stats("4", 200, 60), stats("3", 3_800, 20), rollout)
    test = report["error_test"]
    assert isinstance(test, dict) and test["e_value_worse"] >= 20 and test["alpha"] == 0.05
    assert report["verdict"] == "candidate worse"


def test_decisions_of_an_operator_name_their_transition() -> None:
    rollout = fresh()
    paused, decision = operator_action(rollout, "pause", T0)
    assert decision.transition == "paused"
    _, decision = operator_action(paused, "resume", T0)
    assert decision.transition == "resumed"
    _, decision = operator_action(rollout, "rollback", T0)
    assert decision.transition == "rolled_back"
    assert isinstance(decision, Decision)
