"""Operator CLI for long-bake rollouts on the weighted `live` alias (docs/rollouts.md).

    python scripts/rollout.py --table <RolloutStateTable> --function <ApiFunction name> start --candidate 12
    python scripts/rollout.py ... status
    python scripts/rollout.py --namespace PersonaRouter/prod ... tick    # what the scheduled run does, now
    python scripts/rollout.py ... pause|resume|promote|rollback [--reason "..."] [--force]

AWS credentials and region come from the usual environment. --table, --function and --namespace
default to ROLLOUT_TABLE, ROLLOUT_FUNCTION and ROLLOUT_METRICS_NAMESPACE; `tick` and `promote`
read metrics and need the namespace (PersonaRouter/<stage>, see samconfig.toml).

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

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from core.release.rollout_plan import DEFAULT_PLAN, Gates, Rollout, Stage
from core.shared.errors import DomainError, ValidationFailed

OK, FAILED, USAGE = 0, 1, 2
NEEDS_METRICS = ("tick", "promote")


def parse_plan(text: str) -> tuple[Stage, ...]:
    """`5:168,50:336:ab,100:0` -> weight percent : bake hours [: ab report]."""
    stages = []
    for chunk in text.split(","):
        parts = chunk.strip().split(":")
        if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] != "ab"):
            raise ValueError(f"bad stage {chunk!r}: use PERCENT:HOURS[:ab]")
        try:
            stage = Stage(weight=float(parts[0]) / 100, bake_hours=float(parts[1]), ab_report=len(parts) == 3)
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
        p95 = stats.get("p95_ms")
        return (
            f"  {label:<9} v{stats.get('version')}: {stats.get('requests')} requests, "
            f"{stats.get('errors')} errors ({float(stats.get('error_rate') or 0):.2%}), "
            f"{stats.get('routing_failures')} routing failures, "
            f"p95 {'-' if p95 is None else f'{float(p95):.0f} ms'}"
        )

    weight = float(str(report.get("stage_weight", 0)))
    return [
        f"A/B report stage {report.get('stage')} at {weight:.0%}, {report.get('window_start')} .. "
        f"{report.get('window_end')} ({report.get('window_hours')} h), ended by {report.get('ended_by')}",
        side("candidate", report.get("candidate")),
        side("stable", report.get("stable")),
        f"  gates     {json.dumps(report.get('gates'), sort_keys=True)}",
        f"  judged    {report.get('gates_judged')}; violations {report.get('violations') or 'none'}",
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
    begin.add_argument("--plan", help="e.g. 5:168,50:336:ab,100:0 (percent:hours[:ab])")
    begin.add_argument("--min-requests", type=int, default=Gates().min_requests)
    begin.add_argument("--min-gate-requests", type=int, default=Gates().min_gate_requests)
    status = commands.add_parser("status")
    status.add_argument(
        "--html", metavar="FILE", help="also write the rollout as one self-contained HTML page (release view)"
    )
    commands.add_parser(
        "tick", help="reconcile the alias and evaluate the gates now, as the scheduled run does"
    )
    for action in ("pause", "resume", "promote", "rollback"):
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


def _run(options: argparse.Namespace) -> int:
    from handlers.rollout_schedule import build_controller

    plan, gates = DEFAULT_PLAN, Gates()
    if options.command == "start":  # checked before any AWS call: bad values are usage errors
        plan = parse_plan(options.plan) if options.plan else DEFAULT_PLAN
        gates = Gates(min_requests=options.min_requests, min_gate_requests=options.min_gate_requests)
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
