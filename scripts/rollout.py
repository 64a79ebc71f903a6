"""Operator CLI for long-bake rollouts on the weighted `live` alias (docs/rollouts.md).

    python scripts/rollout.py --table <RolloutStateTable> --function <ApiFunction name> start --candidate 12
    python scripts/rollout.py ... status
    python scripts/rollout.py --namespace PersonaRouter/prod ... tick    # what the scheduled run does, now
    python scripts/rollout.py ... pause|resume|promote|approve|rollback [--reason "..."] [--force]
    python scripts/rollout.py simulate --days 21 --requests-per-day 20000 --stable-error-rate 0.005 \
        --candidate-error-rate 0.005 --seed 1 --json     # the real controller on synthetic metrics

AWS credentials and region come from the usual environment. --table, --function and --namespace
default to ROLLOUT_TABLE, ROLLOUT_FUNCTION and ROLLOUT_METRICS_NAMESPACE; `tick` and `promote`
read metrics and need the namespace (PersonaRouter/<stage>, see samconfig.toml).

`simulate` needs no AWS (scripts/rollout_simulation.py; --backend moto runs the real adapters
against moto).

Exit codes: 0 done; 1 refused or failed (conflict, not found, drift, AWS error); 2 bad usage.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # scripts.rollout_simulation

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from core.release.rollout_plan import DEFAULT_PLAN, Gates, Rollout, Stage
from core.shared.errors import DomainError, ValidationFailed

OK, FAILED, USAGE = 0, 1, 2
NEEDS_METRICS = ("tick", "promote")


def parse_plan(text: str) -> tuple[Stage, ...]:
    """`5:168,50:336:ab,100:0:approve` -> weight percent : bake hours [: ab] [: approve] (an A/B
    report when the stage ends; entering the stage waits for `approve`)."""
    stages = []
    for chunk in text.split(","):
        parts = chunk.strip().split(":")
        flags = parts[2:]
        if (
            len(parts) < 2
            or any(flag not in ("ab", "approve") for flag in flags)
            or len(set(flags)) < len(flags)
        ):
            raise ValueError(f"bad stage {chunk!r}: use PERCENT:HOURS[:ab][:approve]")
        try:
            stage = Stage(
                weight=float(parts[0]) / 100,
                bake_hours=float(parts[1]),
                ab_report="ab" in flags,
                approval_required="approve" in flags,
            )
        except ValueError as exc:
            raise ValueError(f"bad stage {chunk!r}: {_first_problem(exc)}") from None
        stages.append(stage)
    return tuple(stages)


def _first_problem(exc: ValueError) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'value'}: {error['msg']}"
            for error in exc.errors()
        )
    return str(exc)


def _when(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def report_lines(report: dict[str, object]) -> list[str]:
    def side(label: str, stats: object) -> str:
        if not isinstance(stats, dict):
            return f"  {label}: ?"
        p50, p95 = stats.get("p50_ms"), stats.get("p95_ms")
        interval = stats.get("error_rate_interval") or [0, 0]
        assert isinstance(interval, list)
        return (
            f"  {label:<9} v{stats.get('version')}: {stats.get('requests')} requests, "
            f"{stats.get('errors')} errors ({float(str(stats.get('error_rate') or 0)):.3%}, "
            f"95% {float(interval[0]):.3%}..{float(interval[1]):.3%}), "
            f"p50 {'-' if p50 is None else f'{float(str(p50)):.0f} ms'}, "
            f"p95 {'-' if p95 is None else f'{float(str(p95)):.0f} ms'}"
        )

    weight = float(str(report.get("stage_weight", 0)))
    difference = report.get("difference") if isinstance(report.get("difference"), dict) else {}
    test = report.get("error_test") if isinstance(report.get("error_test"), dict) else {}
    latency = report.get("latency_test") if isinstance(report.get("latency_test"), dict) else {}
    assert isinstance(difference, dict) and isinstance(test, dict) and isinstance(latency, dict)
    return [
        f"A/B report stage {report.get('stage')} at {weight:.0%}, {report.get('window_start')} .. "
        f"{report.get('window_end')} ({report.get('window_hours')} h), ended by {report.get('ended_by')}",
        side("candidate", report.get("candidate")),
        side("stable", report.get("stable")),
        f"  difference {difference.get('error_rate')} (95% {difference.get('interval')}), "
        f"e-value worse {test.get('e_value_worse')}, not worse {test.get('e_value_not_worse')}; "
        f"latency p {latency.get('p_value')}, p95 ratio {latency.get('median_p95_ratio')}",
        f"  verdict   {report.get('verdict_text') or report.get('verdict')}",
    ]


def describe(rollout: Rollout) -> str:
    if rollout.alias_released:
        alias = "changed outside the controller since the rollout finished: no longer enforced"
    elif rollout.status == "drifted":
        alias = f"changed outside the controller; the rollout expects {rollout.expected_shape().describe()}"
    else:
        alias = f"kept at {rollout.expected_shape().describe()}"
    lines = [
        f"function   {rollout.function_name}:{rollout.alias}",
        f"versions   stable {rollout.stable_version} -> candidate {rollout.candidate_version}",
        f"status     {rollout.status} (revision {rollout.revision})",
        f"stage      {rollout.stage_index + 1}/{len(rollout.plan)}: {rollout.weight():.0%} on the candidate, "
        f"since {_when(rollout.stage_started_at)}, bake {rollout.stage.bake_hours:g} h",
        f"alias      {alias}",
    ]
    if rollout.reason:
        lines.append(f"last       {rollout.reason}")
    lines.append("history")
    lines.extend(f"  {_when(e.at)}  {e.action:<8} {e.detail}" for e in rollout.history)
    last = rollout.evidence.last
    if last is not None:
        lines.append(
            f"gates      {last.outcome} at {_when(last.at)}: e-value worse {last.e_value_worse:.3g}, "
            f"not worse {last.e_value_not_worse:.3g}, ceiling {last.e_value_ceiling:.3g}"
            + (f"; {'; '.join(last.reasons)}" if last.reasons else "")
        )
    for report in rollout.reports:
        lines.extend(report_lines(report))
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--table", default=os.environ.get("ROLLOUT_TABLE"))
    parser.add_argument("--function", default=os.environ.get("ROLLOUT_FUNCTION"))
    parser.add_argument("--alias", default="live")
    parser.add_argument(
        "--namespace",
        default=os.environ.get("ROLLOUT_METRICS_NAMESPACE"),
        help="the stack's metrics namespace, PersonaRouter/<stage> (needed by tick and promote)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    begin = commands.add_parser("start", help="start baking a published version")
    begin.add_argument("--candidate", required=True, help="the new version number")
    begin.add_argument("--stable", help="the version to bake against (default: what the alias serves)")
    begin.add_argument("--plan", help="e.g. 5:168,50:336:ab,100:0:approve (percent:hours[:ab][:approve])")
    begin.add_argument("--min-requests", type=int, default=Gates().min_requests)
    begin.add_argument(
        "--alpha", type=float, default=Gates().alpha, help="false-rollback bound of the error test"
    )
    begin.add_argument(
        "--min-effect", type=float, default=Gates().min_effect, help="error-rate increase that matters (0.25)"
    )
    status = commands.add_parser("status")
    status.add_argument(
        "--html", metavar="FILE", help="also write the rollout as one self-contained HTML page (release view)"
    )
    commands.add_parser(
        "tick", help="reconcile the alias and evaluate the gates now, as the scheduled run does"
    )
    simulate = commands.add_parser("simulate", help="a bake by the real controller on synthetic metrics")
    simulate.add_argument("--days", type=float, default=21)
    simulate.add_argument("--requests-per-day", type=float, default=20_000)
    simulate.add_argument("--stable-error-rate", type=float, default=0.005)
    simulate.add_argument("--candidate-error-rate", type=float, default=0.005)
    simulate.add_argument(
        "--candidate-error-rate-from-day",
        nargs=2,
        type=float,
        metavar=("DAY", "RATE"),
        help="the candidate's error rate becomes RATE from DAY on",
    )
    simulate.add_argument("--stable-p95-ms", type=float, default=120.0)
    simulate.add_argument("--candidate-p95-ms", type=float)
    simulate.add_argument("--seed", type=int, default=0)
    simulate.add_argument("--approve-all", action="store_true", help="approve every step that waits for it")
    simulate.add_argument("--plan", help="as for start")
    simulate.add_argument("--backend", choices=("memory", "moto"), default="memory")
    simulate.add_argument("--json", action="store_true", help="print one JSON object")
    for action in ("pause", "resume", "promote", "approve", "rollback"):
        sub = commands.add_parser(action)
        sub.add_argument("--reason", default="")
        if action != "pause":
            sub.add_argument(
                "--force",
                action="store_true",
                help="overwrite an alias someone else changed with the rollout's weights",
            )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    options = parser.parse_args(argv)
    if options.command == "simulate":
        try:
            return _simulate(options)
        except ValueError as exc:
            return _error(USAGE, _first_problem(exc))
    if not options.table or not options.function:
        return _error(USAGE, "--table and --function (or ROLLOUT_TABLE and ROLLOUT_FUNCTION) are required")
    if options.command in NEEDS_METRICS and not options.namespace:
        return _error(
            USAGE,
            f"{options.command} reads metrics: pass --namespace PersonaRouter/<stage> "
            "(or set ROLLOUT_METRICS_NAMESPACE), the MetricsNamespace the stack was deployed with",
        )
    try:
        return _run(options)
    except ValidationFailed as exc:
        return _error(USAGE, f"{exc.code}: {exc.message}")
    except DomainError as exc:
        return _error(FAILED, f"{exc.code}: {exc.message}")
    except ValueError as exc:  # pydantic's ValidationError included: bad --plan or gate values
        return _error(USAGE, _first_problem(exc))
    except ClientError as exc:
        error = exc.response.get("Error", {})
        return _error(FAILED, f"AWS {error.get('Code', 'error')}: {error.get('Message', exc)}")
    except BotoCoreError as exc:  # no credentials, no region, endpoint unreachable
        return _error(FAILED, f"AWS: {exc}")


def _error(code: int, message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def _simulate(options: argparse.Namespace) -> int:
    from scripts.rollout_simulation import Scenario, run

    change = options.candidate_error_rate_from_day
    for name in ("stable_error_rate", "candidate_error_rate"):
        if not 0 <= getattr(options, name) <= 1:
            raise ValueError(f"--{name.replace('_', '-')} must be between 0 and 1")
    if change is not None and not 0 <= change[1] <= 1:
        raise ValueError("--candidate-error-rate-from-day RATE must be between 0 and 1")
    if options.days <= 0 or options.requests_per_day <= 0:
        raise ValueError("--days and --requests-per-day must be positive")
    scenario = Scenario(
        days=options.days,
        requests_per_day=options.requests_per_day,
        stable_error_rate=options.stable_error_rate,
        candidate_error_rate=options.candidate_error_rate,
        change_day=None if change is None else change[0],
        candidate_error_rate_after=None if change is None else change[1],
        stable_p95_ms=options.stable_p95_ms,
        candidate_p95_ms=options.candidate_p95_ms,
        seed=options.seed,
        approve_all=options.approve_all,
    )
    plan = parse_plan(options.plan) if options.plan else DEFAULT_PLAN
    result = run(scenario, backend=options.backend, plan=plan)
    if options.json:
        print(json.dumps(result, sort_keys=True))
        return OK
    print(
        f"outcome {result['outcome']} at stage {result['stage_reached']}; rolled back at "
        f"{result['rolled_back_at_hours']} h; A/B verdict {result['ab_verdict']}"
    )
    for entry in result["timeline"]:
        print(f"  {entry['at_hours']:>7.2f} h  {entry['action']:<13} {entry['detail']}")
    return OK


def _run(options: argparse.Namespace) -> int:
    from handlers.rollout_schedule import build_controller

    plan, gates = DEFAULT_PLAN, Gates()
    if options.command == "start":  # checked before any AWS call: bad values are usage errors
        plan = parse_plan(options.plan) if options.plan else DEFAULT_PLAN
        gates = Gates(min_requests=options.min_requests, alpha=options.alpha, min_effect=options.min_effect)
    controller = build_controller(options.namespace, options.table)
    if options.command == "start":
        rollout = controller.start(
            options.function, options.candidate, options.stable, options.alias, plan, gates
        )
    elif options.command == "status":
        rollout = controller.status(options.function)
    elif options.command == "tick":
        decision = controller.tick(options.function)
        print(f"{decision.action}: {decision.reason} (candidate weight {decision.weight:.0%})")
        rollout = controller.status(options.function)
    else:
        force = getattr(options, "force", False)
        rollout = controller.act(options.function, options.command, options.reason, force)
    print(describe(rollout))
    if getattr(options, "html", None):
        root = str(Path(__file__).resolve().parent.parent)
        if root not in sys.path:  # run as `python scripts/rollout.py`
            sys.path.insert(0, root)
        from scripts.release_report import write_html

        print(f"release page: {write_html(rollout.model_dump(mode='json'), options.html)}")
    return OK


if __name__ == "__main__":
    raise SystemExit(main())
