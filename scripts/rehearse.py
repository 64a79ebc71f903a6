"""`make rehearse`: a good and a bad release story through the simulation (the real controller and
gates, scripts/rollout_simulation.py), each printed as a timeline and drawn as a chart:
rehearsal/<story>.png with the candidate's traffic share and each version's error rate over the
days, transitions marked; and rehearsal/<story>.html, the release page of its final state
(scripts/release_report.py, what `scripts/rollout.py status --html` writes).

    .venv/bin/python scripts/rehearse.py [--out rehearsal] [--seed 7]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from scripts.release_report import write_html
from scripts.rollout_simulation import Scenario, Trace, run

STORIES = {
    # Same error rate as stable: 5% for 7 days, 50% for 14 with its A/B report, approved, 100%.
    "good": Scenario(
        days=21.25, requests_per_day=20_000, stable_error_rate=0.005, candidate_error_rate=0.005
    ),
    # A slow regression that starts on day 9, in the 50% stage: 0.5% -> 1.5% errors.
    "bad": Scenario(
        days=21,
        requests_per_day=20_000,
        stable_error_rate=0.005,
        candidate_error_rate=0.005,
        change_day=9,
        candidate_error_rate_after=0.015,
    ),
}


def _smooth(values: list[float], hours: int = 6) -> list[float]:
    """Mean of the last `hours` hours of 15-minute windows (raw windows are mostly 0 or 1 error)."""
    size = hours * 4
    out = []
    for index in range(len(values)):
        window = [v for v in values[max(0, index - size + 1) : index + 1] if not math.isnan(v)]
        out.append(sum(window) / len(window) if window else math.nan)
    return out


def chart(path: Path, title: str, trace: Trace, timeline: list[dict[str, object]]) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    days = [h / 24 for h in trace.hours]
    figure, (share_axis, rate_axis) = plt.subplots(2, 1, sharex=True, figsize=(10, 6))
    share_axis.step(days, [s * 100 for s in trace.share], where="post", color="tab:blue")
    share_axis.set_ylabel("candidate share (%)")
    share_axis.set_ylim(-5, 105)
    rate_axis.plot(days, [r * 100 for r in _smooth(trace.stable_rate)], label="stable", color="tab:gray")
    rate_axis.plot(days, [r * 100 for r in _smooth(trace.candidate_rate)], label="candidate", color="tab:red")
    rate_axis.set_ylabel("error rate, 6 h mean (%)")
    rate_axis.set_xlabel("days since the deploy")
    rate_axis.legend(loc="upper left")
    for entry in timeline:
        at = float(str(entry["at_hours"])) / 24
        for axis in (share_axis, rate_axis):
            axis.axvline(at, color="black", linestyle=":", linewidth=1)
        share_axis.annotate(
            str(entry["action"]),
            (at, 100),
            rotation=90,
            fontsize=8,
            va="top",
            ha="right",
            xytext=(-2, 0),
            textcoords="offset points",
        )
    share_axis.set_title(title)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=80)
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", default="rehearsal")
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args(argv)
    for name, scenario in STORIES.items():
        scenario = Scenario(**{**scenario.__dict__, "seed": options.seed, "approve_all": True})
        trace = Trace()
        result = run(scenario, trace=trace)
        print(
            f"{name}: {result['outcome']} at stage {result['stage_reached']}, rolled back at "
            f"{result['rolled_back_at_hours']} h, A/B verdict {result['ab_verdict']}"
        )
        for entry in result["timeline"]:
            print(f"  day {float(entry['at_hours']) / 24:6.2f}  {entry['action']:<13} {entry['detail']}")
        path = Path(options.out) / f"{name}.png"
        chart(path, f"{name} release (seed {options.seed})", trace, result["timeline"])
        print(f"  chart: {path}")
        if trace.rollout is not None:
            history = trace.rollout.get("history") or [{}]
            page = write_html(trace.rollout, path.with_suffix(".html"), now=history[-1].get("at"))
            print(f"  release page: {page}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
