"""Acceptance of the release gates by simulation (issue 13 item 5; docs/rollouts.md "Acceptance").

    .venv/bin/python scripts/simulate_acceptance.py --seeds 200 [--workers 2] [--markdown]

Every cell runs `--seeds` simulated bakes (scripts/rollout_simulation.py, the real controller and
gates, default plan and gates, fixed seeds 0..seeds-1) and reports its share with a 95% Wilson
interval:

- false rollbacks: identical versions (base error 0.1%, 0.5%, 1% x 2,000, 20,000, 200,000
  requests a day) rolled back during a 21-day bake: at most 5%;
- a regression from day 3 (0.5% -> 1% at 200,000 a day) rolled back before day 5: at least 95%;
- a candidate at 5% errors against 0.5% at 20,000 a day: hours to roll back;
- power: error-rate ratio x traffic -> share rolled back within 21 days and median hours (95%
  interval of the median from order statistics).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from core.release.sequential_stats import wilson_interval
from scripts.rollout_simulation import Scenario, run

BASE_RATES = (0.001, 0.005, 0.01)
TRAFFIC = (2_000, 20_000, 200_000)
RATIOS = (1.5, 2.0, 3.0, 5.0, 10.0)
POWER_BASE = 0.005


@dataclass(frozen=True)
class Cell:
    name: str
    scenario: Scenario

    def with_seed(self, seed: int) -> Scenario:
        return Scenario(**{**self.scenario.__dict__, "seed": seed})


def _rolled_back_at(scenario: Scenario) -> float | None:
    result = run(scenario)
    value = result["rolled_back_at_hours"]
    return None if value is None else float(value)


def outcomes(cell: Cell, seeds: int, workers: int = 1) -> list[float | None]:
    """Hours to rollback (None: not rolled back) of each seed."""
    scenarios = [cell.with_seed(seed) for seed in range(seeds)]
    if workers <= 1:
        return [_rolled_back_at(s) for s in scenarios]
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(_rolled_back_at, scenarios, chunksize=4))


def share(hits: int, runs: int) -> str:
    low, high = wilson_interval(hits, runs)
    return f"{hits}/{runs} = {hits / runs:.1%} [{low:.1%}, {high:.1%}]"


def median_interval(values: Sequence[float]) -> tuple[float, float, float] | None:
    """Median with a distribution-free ~95% interval: order statistics n/2 -+ 1.96 sqrt(n)/2."""
    if not values:
        return None
    ordered = sorted(values)
    n = len(ordered)
    half = 1.96 * math.sqrt(n) / 2
    low = ordered[max(0, math.floor(n / 2 - half))]
    high = ordered[min(n - 1, math.ceil(n / 2 + half) - 1)]
    middle = ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2
    return middle, low, high


def identical_cells(days: float = 21) -> list[Cell]:
    return [
        Cell(
            f"identical {rate:.1%} @ {traffic:,}/day",
            Scenario(days=days, requests_per_day=traffic, stable_error_rate=rate, candidate_error_rate=rate),
        )
        for rate in BASE_RATES
        for traffic in TRAFFIC
    ]


REGRESSION_DAY3 = Cell(
    "0.5% -> 1% from day 3 @ 200,000/day",
    Scenario(
        days=5,
        requests_per_day=200_000,
        stable_error_rate=0.005,
        candidate_error_rate=0.005,
        change_day=3,
        candidate_error_rate_after=0.01,
    ),
)
FAR_WORSE = Cell(
    "5% vs 0.5% @ 20,000/day",
    Scenario(days=2, requests_per_day=20_000, stable_error_rate=0.005, candidate_error_rate=0.05),
)


def power_cells() -> list[Cell]:
    return [
        Cell(
            f"x{ratio:g} @ {traffic:,}/day",
            Scenario(
                days=21,
                requests_per_day=traffic,
                stable_error_rate=POWER_BASE,
                candidate_error_rate=POWER_BASE * ratio,
            ),
        )
        for ratio in RATIOS
        for traffic in TRAFFIC
    ]


def report(seeds: int, workers: int, out: Callable[[str], None] = print) -> bool:
    """Run every cell, print markdown tables, return whether every criterion held."""
    ok = True
    began = time.perf_counter()
    out(f"Seeds per cell: {seeds} (0..{seeds - 1}); default plan and gates.\n")
    out("| identical versions | rolled back in 21 days (95% Wilson) | criterion <= 5% |")
    out("|---|---|---|")
    for cell in identical_cells():
        hours = outcomes(cell, seeds, workers)
        hits = sum(h is not None for h in hours)
        passed = hits / seeds <= 0.05
        ok &= passed
        out(f"| {cell.name} | {share(hits, seeds)} | {'yes' if passed else 'NO'} |")
    out("")
    out("| regression | result (95% Wilson) | criterion |")
    out("|---|---|---|")
    hours = outcomes(REGRESSION_DAY3, seeds, workers)
    hits = sum(h is not None and h < 5 * 24 for h in hours)
    early = sum(h is not None and h < 3 * 24 for h in hours)
    passed = hits / seeds >= 0.95
    ok &= passed
    out(
        f"| {REGRESSION_DAY3.name} | before day 5: {share(hits, seeds)}; before the change (day 3): "
        f"{early} | >= 95% before day 5: {'yes' if passed else 'NO'} |"
    )
    hours = outcomes(FAR_WORSE, seeds, workers)
    caught = [h for h in hours if h is not None]
    within = sum(h <= 6 for h in caught)
    median = median_interval(caught)
    median_text = "-" if median is None else f"median {median[0]:.2f} h [{median[1]:.2f}, {median[2]:.2f}]"
    passed = median is not None and median[0] <= 6
    ok &= passed
    out(
        f"| {FAR_WORSE.name} | within 6 h: {share(within, seeds)}; {median_text} | "
        f"median <= 6 h: {'yes' if passed else 'NO'} |"
    )
    out("")
    out(f"| power: error-rate ratio (base {POWER_BASE:.1%}) | rolled back in 21 days | median hours [95%] |")
    out("|---|---|---|")
    for cell in power_cells():
        hours = outcomes(cell, seeds, workers)
        caught = [h for h in hours if h is not None]
        median = median_interval(caught)
        text = "-" if median is None else f"{median[0]:.1f} [{median[1]:.1f}, {median[2]:.1f}]"
        out(f"| {cell.name} | {share(len(caught), seeds)} | {text} |")
    out(f"\n{time.perf_counter() - began:.0f} s")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args(argv)
    return 0 if report(options.seeds, options.workers) else 1


if __name__ == "__main__":
    raise SystemExit(main())
