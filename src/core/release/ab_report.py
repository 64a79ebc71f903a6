"""The A/B report at the end of an A/B stage (default: the 50% stage): per version requests,
failed requests, error rate with a Wilson interval, p50/p95; the difference with Newcombe's
interval; the sequential test's e-values; and a verdict. A plain JSON-serialisable dict, stored
in the rollout state (`Rollout.reports`); docs/rollouts.md documents every field."""

from __future__ import annotations

import datetime as dt
import math
from typing import Literal

from core.release import sequential_stats as st
from core.release.release_gates import Evidence, Gates, VersionStats, latency_test

Verdict = Literal["candidate better", "no detectable difference", "candidate worse"]
REPORT_VERSION = 2
# Power used for "could detect X pp": a difference this large would be seen 80% of the time.
Z_POWER_80 = 0.8416212335729143


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def detectable_difference(n_candidate: int, n_stable: int, pooled_rate: float) -> float | None:
    """Smallest error-rate difference (as a rate) a two-sided 5% test on these sample sizes finds
    with 80% power; None without samples. With no error at all, the rate one error would be."""
    if n_candidate <= 0 or n_stable <= 0:
        return None
    rate = pooled_rate if pooled_rate > 0 else 1 / (n_candidate + n_stable)
    se = math.sqrt(rate * (1 - rate) * (1 / n_candidate + 1 / n_stable))
    return (st.Z_95 + Z_POWER_80) * se


def _side(stats: VersionStats) -> dict[str, object]:
    low, high = st.wilson_interval(stats.failed, stats.requests)
    return {
        "version": stats.version,
        "requests": stats.requests,
        "errors": stats.failed,
        "lambda_errors": stats.errors,
        "server_errors": stats.server_errors,
        "error_rate": round(stats.error_rate, 6),
        "error_rate_interval": [round(low, 6), round(high, 6)],
        "p50_ms": stats.p50_ms,
        "p95_ms": stats.p95_ms,
    }


def build(
    *,
    stage_number: int,
    stage_weight: float,
    ended_by: str,
    window_start: float,
    window_end: float,
    candidate: VersionStats,
    stable: VersionStats,
    evidence: Evidence,
    gates: Gates,
) -> dict[str, object]:
    difference, low, high = st.newcombe_difference(
        candidate.failed, candidate.requests, stable.failed, stable.requests
    )
    last = evidence.last
    e_worse = last.e_value_worse if last else 1.0
    e_not_worse = last.e_value_not_worse if last else 1.0
    pooled = (candidate.failed + stable.failed) / max(1, candidate.requests + stable.requests)
    detectable = detectable_difference(candidate.requests, stable.requests, pooled)
    verdict: Verdict
    if e_worse >= 1 / gates.alpha or (candidate.requests and stable.requests and low > 0):
        verdict = "candidate worse"
    elif candidate.requests and stable.requests and high < 0:
        verdict = "candidate better"
    else:
        verdict = "no detectable difference"
    verdict_text = (
        f"{verdict} (could detect {detectable * 100:.2f} pp)"
        if verdict == "no detectable difference" and detectable is not None
        else verdict
    )
    p_value, ratio = latency_test(gates, evidence.latency_candidate, evidence.latency_stable)
    return {
        "report_version": REPORT_VERSION,
        "stage": stage_number,
        "stage_weight": stage_weight,
        "ended_by": ended_by,
        "window_start": _iso(window_start),
        "window_end": _iso(window_end),
        "window_hours": round((window_end - window_start) / 3600, 2),
        "candidate": _side(candidate),
        "stable": _side(stable),
        "difference": {
            "error_rate": round(difference, 6),
            "interval": [round(low, 6), round(high, 6)],
            "method": "Newcombe hybrid score interval, 95%",
            "detectable_pp": None if detectable is None else round(detectable * 100, 4),
        },
        "error_test": {
            "name": "conditional binomial mixture e-process on the error-rate ratio (always valid)",
            "e_value_worse": round(e_worse, 6),
            "e_value_not_worse": round(e_not_worse, 6),
            "alpha": gates.alpha,
            "min_effect": gates.min_effect,
        },
        "latency_test": {
            "name": "Mann-Whitney U (one-sided) on per-window p95, cold starts excluded",
            "p_value": None if p_value is None else round(p_value, 6),
            "median_p95_ratio": None if ratio is None else round(ratio, 4),
            "windows": len(evidence.latency_candidate),
        },
        "verdict": verdict,
        "verdict_text": verdict_text,
    }
