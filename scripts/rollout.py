"""Operator CLI for long-bake rollouts on the weighted `live` alias (docs/operations.md).

    python scripts/rollout.py --table <RolloutStateTable> --function <ApiFunction name> start --candidate 12
    python scripts/rollout.py ... status
    python scripts/rollout.py ... tick                 # what the scheduled controller does, now
    python scripts/rollout.py ... pause|resume|promote|rollback [--reason "..."]

AWS credentials and region come from the usual environment. --table and --function default to
ROLLOUT_TABLE and ROLLOUT_FUNCTION.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from core.errors import DomainError
from core.rollout import DEFAULT_PLAN, Gates, Rollout, Stage


def parse_plan(text: str) -> tuple[Stage, ...]:
    """`5:168,50:336:ab,100:0` -> weight percent : bake hours [: ab report]."""
    stages = []
    for chunk in text.split(","):
        parts = chunk.strip().split(":")
        if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] != "ab"):
            raise argparse.ArgumentTypeError(f"bad stage {chunk!r}: use PERCENT:HOURS[:ab]")
        stages.append(
            Stage(weight=float(parts[0]) / 100, bake_hours=float(parts[1]), ab_report=len(parts) == 3)
        )
    return tuple(stages)


def describe(rollout: Rollout) -> str:
    def when(epoch: float) -> str:
        return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")

    lines = [
        f"function   {rollout.function_name}:{rollout.alias}",
        f"versions   stable {rollout.stable_version} -> candidate {rollout.candidate_version}",
        f"status     {rollout.status} (revision {rollout.revision})",
        f"stage      {rollout.stage_index + 1}/{len(rollout.plan)}: {rollout.weight():.0%} on the candidate, "
        f"since {when(rollout.stage_started_at)}, bake {rollout.stage.bake_hours:g} h",
    ]
    if rollout.reason:
        lines.append(f"last       {rollout.reason}")
    lines.append("history")
    lines.extend(f"  {when(e.at)}  {e.action:<8} {e.detail}" for e in rollout.history)
    for report in rollout.reports:
        lines.append("A/B report " + json.dumps(report))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", default=os.environ.get("ROLLOUT_TABLE"))
    parser.add_argument("--function", default=os.environ.get("ROLLOUT_FUNCTION"))
    parser.add_argument("--alias", default="live")
    commands = parser.add_subparsers(dest="command", required=True)
    begin = commands.add_parser("start", help="start baking a published version")
    begin.add_argument("--candidate", required=True, help="the new version number")
    begin.add_argument("--stable", help="the version to bake against (default: what the alias serves)")
    begin.add_argument("--plan", type=parse_plan, default=DEFAULT_PLAN, help="e.g. 5:168,50:336:ab,100:0")
    begin.add_argument("--min-requests", type=int, default=Gates().min_requests)
    commands.add_parser("status")
    commands.add_parser("tick", help="evaluate the gates now, as the scheduled controller does")
    for action in ("pause", "resume", "promote", "rollback"):
        sub = commands.add_parser(action)
        sub.add_argument("--reason", default="")
    options = parser.parse_args(argv)
    if not options.table or not options.function:
        parser.error("--table and --function (or ROLLOUT_TABLE and ROLLOUT_FUNCTION) are required")

    os.environ["ROLLOUT_TABLE"] = options.table
    from handlers.rollout_controller import build_controller

    controller = build_controller()
    try:
        if options.command == "start":
            rollout = controller.start(
                options.function,
                options.candidate,
                options.stable,
                options.alias,
                options.plan,
                Gates(min_requests=options.min_requests),
            )
        elif options.command == "status":
            rollout = controller.status(options.function)
        elif options.command == "tick":
            decision = controller.tick(options.function)
            print(f"{decision.action}: {decision.reason} (candidate weight {decision.weight:.0%})")
            rollout = controller.status(options.function)
        else:
            rollout = controller.act(options.function, options.command, options.reason)
    except DomainError as exc:
        print(f"{exc.code}: {exc.message}", file=sys.stderr)
        return 1
    print(describe(rollout))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
