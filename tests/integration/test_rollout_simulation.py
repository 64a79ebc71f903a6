"""`scripts/rollout.py simulate`: the real controller and gates over synthetic metrics, the same
outcome in memory and against moto, and the acceptance criteria of issue 13 item 5 on a reduced,
fixed set of seeds (the full table: `make simulate-acceptance`, docs/rollouts.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.release.release_gates import Evaluation, Evidence, Gates, evaluate
from core.release.rollout_plan import Stage
from scripts.rollout import main
from scripts.rollout_simulation import Scenario, run
from scripts.simulate_acceptance import FAR_WORSE, REGRESSION_DAY3, Cell, identical_cells, outcomes

SHORT_PLAN = (
    Stage(weight=0.05, bake_hours=24),
    Stage(weight=0.5, bake_hours=24, ab_report=True),
    Stage(weight=1.0, bake_hours=0, approval_required=True),
)


def test_simulate_prints_one_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["simulate", "--days", "3", "--requests-per-day", "20000", "--stable-error-rate", "0.005"]
    argv += ["--candidate-error-rate", "0.005", "--candidate-error-rate-from-day", "1", "0.05", "--seed", "3"]
    assert main([*argv, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["outcome"] == "rolled_back"
    assert 24 < result["rolled_back_at_hours"] < 36  # the change came at hour 24
    assert result["stage_reached"] == 1 and result["ab_verdict"] is None
    assert [entry["action"] for entry in result["timeline"]] == ["start", "rollback"]


def test_simulate_bad_values_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--stable-error-rate", "2"]) == 2
    assert "between 0 and 1" in capsys.readouterr().err


def test_a_good_version_walks_the_plan_with_approve_all_and_gets_an_ab_report() -> None:
    scenario = Scenario(days=3, requests_per_day=20_000, seed=5, approve_all=True)
    result = run(scenario, plan=SHORT_PLAN)
    assert result["outcome"] == "completed", result["timeline"]
    assert [e["action"] for e in result["timeline"]] == [
        "start",
        "advance",
        "wait_approval",
        "advance",
        "complete",
    ]
    assert str(result["ab_verdict"]).startswith(("no detectable difference", "candidate better"))
    report = result["report"]
    assert report["candidate"]["requests"] > 1_000 and report["stable"]["requests"] > 1_000
    without = run(Scenario(days=3, requests_per_day=20_000, seed=5), plan=SHORT_PLAN)
    assert without["outcome"] == "waiting_approval" and without["stage_reached"] == 2


def test_a_slow_candidate_is_rolled_back_by_the_latency_gate() -> None:
    scenario = Scenario(days=3, requests_per_day=20_000, candidate_p95_ms=240.0, seed=2)
    result = run(scenario, plan=SHORT_PLAN)
    assert result["outcome"] == "rolled_back"
    assert "p95" in result["timeline"][-1]["detail"] and "Mann-Whitney" in result["timeline"][-1]["detail"]


def test_the_moto_backend_reaches_the_same_outcome_as_memory() -> None:
    # The real DynamoDB and Lambda adapters (moto): same state machine, same decisions, same times.
    plan = (
        Stage(weight=0.05, bake_hours=6),
        Stage(weight=0.5, bake_hours=6, ab_report=True),
        Stage(weight=1.0, bake_hours=0, approval_required=True),
    )
    scenario = Scenario(days=0.75, requests_per_day=200_000, seed=11, approve_all=True)
    memory = run(scenario, plan=plan)
    moto = run(scenario, backend="moto", plan=plan)
    assert memory["outcome"] == "completed"
    for key in ("outcome", "rolled_back_at_hours", "stage_reached", "ab_verdict", "timeline", "evaluations"):
        assert moto[key] == memory[key], key
    assert moto["scenario"]["backend"] == "moto"


# ---- acceptance on a reduced seed set (fixed seeds: deterministic) ------------------------------
# The thresholds are the criteria widened by the binomial uncertainty of a small sample, so that a
# gate meeting the criterion passes and one far from it (like the old fixed +0.5 pp gate, which
# rolled back 10-63% of good versions) fails.
SEEDS = 8


def test_identical_versions_are_rarely_rolled_back() -> None:
    rolled_back = {
        cell.name: sum(h is not None for h in outcomes(cell, SEEDS, 2)) for cell in identical_cells()
    }
    assert sum(rolled_back.values()) <= 8, rolled_back  # 5% of 72 is 3.6; P(Bin(72, 0.05) > 8) ~ 2%
    assert max(rolled_back.values()) <= 2, rolled_back


def test_the_old_fixed_threshold_gate_fails_the_same_acceptance(monkeypatch: pytest.MonkeyPatch) -> None:
    # The acceptance can fail: the gate this replaced (cumulative candidate error rate more than
    # +0.5 pp over stable, judged from 100 requests, every run) plugged into the same controller.
    from core.release import rollout_controller

    def old_gate(gates: Gates, evidence: Evidence, *args: Any) -> tuple[Evidence, Evaluation]:
        evidence, evaluation = evaluate(gates, evidence, *args)
        bake = evidence.bake
        if bake.candidate_requests >= 100 and bake.stable_requests >= 100:
            rate = bake.candidate_failed / bake.candidate_requests
            if rate > bake.stable_failed / bake.stable_requests + 0.005:
                evaluation = evaluation.model_copy(update={"outcome": "fail", "reasons": ("+0.5 pp",)})
                evidence = evidence.model_copy(
                    update={"consecutive_fails": gates.failure_limit, "last": evaluation}
                )
        return evidence, evaluation

    monkeypatch.setattr(rollout_controller, "evaluate", old_gate)
    cell = Cell(
        "identical 1% @ 2,000/day",
        Scenario(requests_per_day=2_000, stable_error_rate=0.01, candidate_error_rate=0.01, days=7),
    )
    rolled_back = sum(run(cell.with_seed(seed))["rolled_back_at_hours"] is not None for seed in range(SEEDS))
    assert rolled_back > 2  # more than the per-cell allowance above, within one week


def test_a_doubled_error_rate_from_day_3_is_rolled_back_before_day_5() -> None:
    hours = outcomes(REGRESSION_DAY3, 20, 2)
    assert sum(h is not None and 72 <= h < 120 for h in hours) >= 18, hours


def test_a_candidate_at_ten_times_the_errors_is_rolled_back_within_6_hours() -> None:
    # Criterion: >= 95% of runs within 6 simulated hours (bake starting 08:00 UTC). On 40 seeds the
    # bound is widened to 36 (90%): a gate truly at 95% fails it with probability ~5%, one at 78%
    # (the previous gate with the bake's first hours in the night trough, the simulator's old
    # phase) passes it with probability ~4%; the seeds are fixed, so the outcome is deterministic.
    hours = sorted(h if h is not None else float("inf") for h in outcomes(FAR_WORSE, 40, 2))
    assert sum(h <= 6 for h in hours) >= 36, hours
    assert hours[-1] <= 24, hours  # every run the same day


def test_rehearse_prints_both_stories_and_draws_their_charts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from scripts import rehearse

    assert rehearse.main(["--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "good: completed at stage 3" in out and "bad: rolled_back at stage 2" in out
    for name in ("good", "bad"):
        assert (tmp_path / f"{name}.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        # The release page of the story's final state, as `rollout.py status --html` writes it.
        page = (tmp_path / f"{name}.html").read_text(encoding="utf-8")
        assert page.startswith("<!doctype html>") and 'class="e-values"' in page
        assert f"release page: {tmp_path / name}.html" in out
    assert 'class="badge status good">completed<' in (tmp_path / "good.html").read_text(encoding="utf-8")
    bad = (tmp_path / "bad.html").read_text(encoding="utf-8")
    assert 'class="badge status bad">rolled_back<' in bad and 'class="badge bad">fail<' in bad
