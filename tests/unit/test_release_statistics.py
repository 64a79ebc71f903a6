"""The statistics of the release gates (core.release.sequential_stats) on published cases, against
scipy (dev-only) and by their defining properties."""

from __future__ import annotations

import math
import random

import pytest
from scipy import stats as scipy_stats

from core.release import sequential_stats as st
from core.release.release_gates import Evidence, Gates, VersionStats, evaluate


# Newcombe (1998), "Two-sided confidence intervals for the single proportion", Statistics in
# Medicine 17: 857-872, Table I, method 3 (Wilson score interval without continuity correction).
@pytest.mark.parametrize(
    ("x", "n", "low", "high"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)],
)
def test_wilson_interval_matches_newcombes_table(x: int, n: int, low: float, high: float) -> None:
    found = st.wilson_interval(x, n)
    assert found == pytest.approx((low, high), abs=5e-5)


def test_newcombe_difference_matches_the_published_example() -> None:
    # Newcombe (1998), "Interval estimation for the difference between independent proportions",
    # Statistics in Medicine 17: 873-890, example (a): 56/70 - 48/80, method 10: 0.0524 to 0.3339.
    difference, low, high = st.newcombe_difference(56, 70, 48, 80)
    assert difference == pytest.approx(0.2)
    assert (low, high) == pytest.approx((0.0524, 0.3339), abs=5e-5)


def test_no_trial_gives_the_whole_interval() -> None:
    assert st.wilson_interval(0, 0) == (0.0, 1.0)


def test_mann_whitney_u_counts_the_pairs_by_hand() -> None:
    # Pairs (x, y) with x > y: 19 beats 11, 17, 12; 22 and 29 and 24 beat all four; 16 beats 11, 12.
    x, y = [19, 22, 16, 29, 24], [20, 11, 17, 12]
    u, p_value = st.mann_whitney_u(x, y)
    assert u == 17
    assert 0 < p_value < 0.1


@pytest.mark.parametrize("alternative", ["greater", "two-sided"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_mann_whitney_u_agrees_with_scipy_including_ties(alternative: str, seed: int) -> None:
    rng = random.Random(seed)
    x = [round(rng.gauss(110, 15)) for _ in range(40)]  # rounded: plenty of ties
    y = [round(rng.gauss(100, 15)) for _ in range(55)]
    u, p_value = st.mann_whitney_u(x, y, alternative)
    expected = scipy_stats.mannwhitneyu(
        x, y, alternative=alternative, method="asymptotic", use_continuity=True
    )
    assert u == pytest.approx(expected.statistic)
    assert p_value == pytest.approx(expected.pvalue, rel=1e-9)


def test_mann_whitney_rejects_empty_samples_and_unknown_alternatives() -> None:
    with pytest.raises(ValueError, match="at least one"):
        st.mann_whitney_u([], [1.0])
    with pytest.raises(ValueError, match="alternative"):
        st.mann_whitney_u([1.0], [2.0], "less-ish")


def test_quantiles_interpolate_like_numpy() -> None:
    values = [1.0, 2.0, 3.0, 4.0, 10.0]
    assert st.median(values) == 3.0
    assert st.median([4.0, 1.0, 3.0, 2.0]) == 2.5
    assert st.quantile(values, 0.95) == pytest.approx(8.8)


@pytest.mark.parametrize(("total", "weight", "ratio"), [(1, 0.05, 2.0), (7, 0.05, 10.0), (30, 0.5, 1.25)])
def test_the_conditional_likelihood_ratio_has_expectation_one_under_the_null(
    total: int, weight: float, ratio: float
) -> None:
    # Exactly 1 at r = 1 (a martingale), below 1 when the candidate is better (a supermartingale).
    def expectation(true_ratio: float) -> float:
        q = st.share_under_ratio(weight, true_ratio)
        return sum(
            math.comb(total, x)
            * q**x
            * (1 - q) ** (total - x)
            * math.exp(st.conditional_log_lr(x, total, weight, ratio, 1.0))
            for x in range(total + 1)
        )

    assert expectation(1.0) == pytest.approx(1.0, rel=1e-12)
    assert expectation(0.7) < 1.0


def test_change_point_offsets_equal_the_explicit_mixture() -> None:
    # Rows started at different times, summed explicitly, against the O(grid) bookkeeping.
    rng = random.Random(7)
    grid = 3
    totals = [0.0] * grid
    offsets: tuple[float, ...] | None = None
    starts: list[list[float]] = []
    for step in range(40):
        if step % 10 == 0:
            offsets = st.open_change_point(totals, offsets, len(starts))
            starts.append(list(totals))
        totals = [t + rng.uniform(-1.0, 1.2) for t in totals]
    assert offsets is not None
    explicit = sum(
        st.start_weight(index) * sum(math.exp(totals[k] - start[k]) for k in range(grid)) / grid
        for index, start in enumerate(starts)
    ) + st.unstarted_weight(len(starts))
    assert st.change_point_e_value(totals, offsets, len(starts)) == pytest.approx(explicit, rel=1e-12)
    weights = (0.2, 0.3, 0.5)
    weighted = sum(
        st.start_weight(index) * sum(weights[k] * math.exp(totals[k] - start[k]) for k in range(grid))
        for index, start in enumerate(starts)
    ) + st.unstarted_weight(len(starts))
    found = st.change_point_e_value(totals, offsets, len(starts), weights)
    assert found == pytest.approx(weighted, rel=1e-12)


def test_the_fail_grid_prior_sums_to_one_and_favours_large_ratios() -> None:
    from core.release.release_gates import FAIL_GRID_STEPS, FAIL_GRID_WEIGHTS

    assert len(FAIL_GRID_WEIGHTS) == len(FAIL_GRID_STEPS)
    assert sum(FAIL_GRID_WEIGHTS) == pytest.approx(1.0)
    assert list(FAIL_GRID_WEIGHTS) == sorted(FAIL_GRID_WEIGHTS)


def test_change_point_weights_sum_to_one() -> None:
    assert sum(st.start_weight(i) for i in range(5)) + st.unstarted_weight(5) == pytest.approx(1.0)
    assert st.unstarted_weight(0) == 1.0


def _null_run(rng: random.Random, gates: Gates, windows: int, per_window: int, rate: float) -> bool:
    """One run of identical versions through the gates: does the fail e-process ever reach 1/alpha?"""
    evidence = Evidence(evaluated_until=0.0)
    for t in range(windows):
        share = 0.05 if t < windows // 3 else 0.5
        candidate_requests = rng.binomialvariate(per_window, share)
        stable_requests = per_window - candidate_requests
        candidate = VersionStats(
            version="2",
            requests=candidate_requests,
            server_errors=rng.binomialvariate(candidate_requests, rate),
        )
        stable = VersionStats(
            version="1", requests=stable_requests, server_errors=rng.binomialvariate(stable_requests, rate)
        )
        evidence, evaluation = evaluate(gates, evidence, candidate, stable, t * 900.0, (t + 1) * 900.0)
        if evaluation.e_value_worse >= 1 / gates.alpha:
            return True
    return False


def test_villes_bound_holds_for_identical_versions_looked_at_every_window() -> None:
    # 120 runs of 300 windows (~3 days, looked at 300 times each), fixed seed. Ville's inequality
    # bounds the share reaching 1/alpha by alpha = 0.05; the upper end of a 95% Wilson interval
    # of what is seen must stay under alpha's neighbourhood (a broken e-process crosses often).
    rng = random.Random(2026)
    gates = Gates()
    runs = 120
    crossed = sum(_null_run(rng, gates, 300, 200, 0.01) for _ in range(runs))
    low, _high = st.wilson_interval(crossed, runs)
    assert low <= gates.alpha, f"{crossed}/{runs} null runs crossed 1/alpha"


def test_a_doubled_error_rate_crosses_quickly() -> None:
    # The same machinery has power: a candidate at twice the stable error rate is found.
    gates = Gates()
    evidence = Evidence(evaluated_until=0.0)
    crossed_at = None
    for t in range(400):
        candidate = VersionStats(version="2", requests=100, server_errors=2)
        stable = VersionStats(version="1", requests=100, server_errors=1)
        evidence, evaluation = evaluate(gates, evidence, candidate, stable, t * 900.0, (t + 1) * 900.0)
        if evaluation.e_value_worse >= 20:
            crossed_at = t
            break
    assert crossed_at is not None and crossed_at < 100
