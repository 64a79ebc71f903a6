"""`scripts/rollout.py simulate`: a long bake run by the real controller and gate code
(core.release.rollout_controller, rollout_plan, release_gates) against a simulated clock and
synthetic per-version CloudWatch statistics (docs/rollouts.md, "Simulation").

Traffic is Poisson per 15-minute window with a daily cycle; each window's requests split
between the versions by the alias weights the controller set (Poisson thinning), errors are
binomial per version, and each version's per-window p95 is log-normal around its level with a
spread that shrinks with the window's requests. The controller ticks every 15 minutes, as the
scheduled function does.

Backends: `memory` (default) stores the rollout and the alias in memory behind the same ports
(fast: a 21-day bake in well under a second); `moto` uses the real DynamoDB and Lambda adapters
against moto (Lambda versions and the weighted alias, the rollout table), for a test proving
both backends reach the same outcome.
"""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import numpy as np

from core.release.release_ports import RolloutStore, TrafficControl
from core.release.rollout_controller import RolloutController
from core.release.rollout_plan import DEFAULT_PLAN, AliasShape, Gates, Rollout, Stage, VersionStats
from core.shared.errors import Conflict

WINDOW = 900.0
HOUR = 3600.0
DAY = 86_400.0
T0 = 1_800_000_000.0  # the simulated clock's start; the daily cycle is phased by Scenario.start_hour
FUNCTION = "api"
STABLE, CANDIDATE = "1", "2"


@dataclass(frozen=True)
class Scenario:
    days: float = 21
    requests_per_day: float = 20_000
    stable_error_rate: float = 0.005
    candidate_error_rate: float = 0.005
    change_day: float | None = None
    candidate_error_rate_after: float | None = None
    stable_p95_ms: float = 120.0
    candidate_p95_ms: float | None = None
    seed: int = 0
    approve_all: bool = False
    daily_amplitude: float = 0.6  # peak/trough around the mean: busy afternoons, quiet nights
    start_hour: float = 8.0  # UTC time of day the bake starts (a working-hours deploy)

    def candidate_rate(self, at_days: float) -> float:
        if (
            self.change_day is not None
            and self.candidate_error_rate_after is not None
            and at_days >= self.change_day
        ):
            return self.candidate_error_rate_after
        return self.candidate_error_rate


class MemoryStore:
    """The RolloutStore port in memory, with the same optimistic locking as the DynamoDB one."""

    def __init__(self) -> None:
        self.item: dict[str, Rollout] = {}

    def get(self, function_name: str) -> Rollout | None:
        return self.item.get(function_name)

    def save(self, rollout: Rollout, expected_revision: int | None) -> Rollout:
        current = self.item.get(rollout.function_name)
        if (current.revision if current else None) != expected_revision:
            raise Conflict("stale revision")
        stored = rollout.model_copy(update={"revision": (expected_revision or 0) + 1})
        self.item[rollout.function_name] = stored
        return stored

    def all(self) -> list[Rollout]:
        return list(self.item.values())


class MemoryAlias:
    """The TrafficControl port in memory, conditional on a revision like Lambda's RevisionId."""

    def __init__(self, shape: AliasShape) -> None:
        self.shape = shape
        self.revision = 1

    def current(self, function_name: str, alias: str) -> tuple[AliasShape, str]:
        return self.shape, str(self.revision)

    def route(self, function_name: str, alias: str, shape: AliasShape, revision: str) -> str:
        if revision != str(self.revision):
            raise Conflict("alias changed")
        self.shape, self.revision = shape, self.revision + 1
        return str(self.revision)


@dataclass(frozen=True, slots=True)
class Counts:
    """One version in one window: plain numbers (the port's VersionStats is built per read)."""

    requests: int
    server_errors: int
    p95_ms: float | None


@dataclass
class Window:
    start: float
    stats: dict[str, Counts]


@dataclass
class SyntheticMetrics:
    """The VersionMetrics port over generated 15-minute windows (what CloudWatch would sum)."""

    windows: list[Window] = field(default_factory=list)

    def stats(self, function_name: str, alias: str, version: str, start: float, end: float) -> VersionStats:
        requests = errors = 0
        p95s: list[float] = []
        for window in reversed(self.windows):  # recent windows are at the end: stop at `start`
            if window.start < start:
                break
            if window.start >= end:
                continue
            found = window.stats[version]
            requests += found.requests
            errors += found.server_errors
            if found.p95_ms is not None and found.requests:
                p95s.append(found.p95_ms)
        # One window: its p95. Several (a stage's report): the median window's, a stand-in for
        # CloudWatch's percentile over the whole range.
        p95 = sorted(p95s)[len(p95s) // 2] if p95s else None
        # The validating constructor: pydantic-core checks these few fields faster than
        # model_construct copies them in Python.
        return VersionStats(
            version=version,
            requests=requests,
            server_errors=errors,
            p95_ms=p95,
            p50_ms=None if p95 is None else p95 / 2,
        )


class Generator:
    """Per-window traffic: total requests Poisson around the daily cycle (drawn for the whole run
    at once), split between the versions by the alias weights of that window (binomial thinning,
    equivalent to independent Poisson counts per version), errors binomial per version."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        rng = np.random.default_rng(scenario.seed)
        count = round(scenario.days * DAY / WINDOW) + 1
        hours = (scenario.start_hour + np.arange(count) * WINDOW / HOUR) % 24
        # Daily cycle with the same mean as a flat day: trough at 04:00, peak at 16:00 UTC.
        cycle = 1 + scenario.daily_amplitude * np.sin(2 * np.pi * (hours - 10) / 24)
        self.totals = [int(n) for n in rng.poisson(scenario.requests_per_day * WINDOW / DAY * cycle)]
        self.random = random.Random(scenario.seed)

    def window(self, start: float, shape: AliasShape) -> Window:
        s = self.scenario
        index = round((start - T0) / WINDOW)
        total = self.totals[index]
        share = shape.share(CANDIDATE)
        candidate = (
            self.random.binomialvariate(total, share) if 0 < share < 1 else (total if share >= 1 else 0)
        )
        result: dict[str, Counts] = {}
        for version, requests in ((STABLE, total - candidate), (CANDIDATE, candidate)):
            rate = s.stable_error_rate if version == STABLE else s.candidate_rate((start - T0) / DAY)
            errors = self.random.binomialvariate(requests, min(1.0, rate)) if requests else 0
            level = s.stable_p95_ms if version == STABLE else (s.candidate_p95_ms or s.stable_p95_ms)
            p95 = (
                level * math.exp(self.random.gauss(0, 0.05 + 0.6 / math.sqrt(requests))) if requests else None
            )
            result[version] = Counts(requests=requests, server_errors=errors, p95_ms=p95)
        return Window(start=start, stats=result)


@dataclass
class Trace:
    """What the chart draws: per window, the candidate's share and each version's error rate."""

    hours: list[float] = field(default_factory=list)
    share: list[float] = field(default_factory=list)
    stable_rate: list[float] = field(default_factory=list)
    candidate_rate: list[float] = field(default_factory=list)
    rollout: dict[str, Any] | None = None  # the stored state at the end (the release page renders it)


@contextmanager
def memory_backend() -> Iterator[tuple[RolloutStore, TrafficControl]]:
    yield MemoryStore(), MemoryAlias(AliasShape(primary=STABLE))


@contextmanager
def moto_backend() -> Iterator[tuple[RolloutStore, TrafficControl]]:
    """The real adapters against moto: a Lambda function with two published versions and a `live`
    alias on the first, and a rollout table shaped like RolloutStateTable."""
    import os

    import boto3
    from moto import mock_aws

    from core.release.adapters.dynamodb_rollouts import DynamoDBRolloutStore
    from core.release.adapters.lambda_traffic import LambdaAliasTraffic
    from scripts.moto_lambda import function_with_versions

    for key, value in (
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
    ):
        os.environ.setdefault(key, value)
    with mock_aws():
        # Versions 1 (stable, on `live`) and 2 (candidate).
        client, _, _ = function_with_versions(FUNCTION, ("stable", "candidate"), live=int(STABLE))
        dynamodb = boto3.client("dynamodb")
        dynamodb.create_table(
            TableName="rollouts",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield DynamoDBRolloutStore("rollouts", dynamodb), LambdaAliasTraffic(client)


def run(
    scenario: Scenario,
    backend: str = "memory",
    plan: tuple[Stage, ...] = DEFAULT_PLAN,
    gates: Gates | None = None,
    trace: Trace | None = None,
) -> dict[str, Any]:
    """One simulated bake; the JSON object `simulate --json` prints."""
    clock = [T0]
    metrics = SyntheticMetrics()
    generator = Generator(scenario)
    factory = moto_backend if backend == "moto" else memory_backend
    with factory() as (store, traffic):
        controller = RolloutController(store, traffic, metrics, clock=lambda: clock[0], metrics_delay=0.0)
        controller.start(FUNCTION, CANDIDATE, STABLE, "live", plan, gates or Gates())
        ticks = round(scenario.days * DAY / WINDOW)
        for tick in range(1, ticks + 1):
            shape, _ = traffic.current(FUNCTION, "live")
            window = generator.window(clock[0], shape)
            metrics.windows.append(window)
            if trace is not None:
                _record(trace, window, shape)
            clock[0] = T0 + tick * WINDOW
            controller.tick(FUNCTION)
            rollout = controller.status(FUNCTION)
            if rollout.status == "waiting_approval" and scenario.approve_all:
                controller.act(FUNCTION, "approve", "approved by --approve-all")
                rollout = controller.status(FUNCTION)
            if rollout.finished:
                break
        final = controller.status(FUNCTION)
        if trace is not None:
            trace.rollout = final.model_dump(mode="json")
        return summary(final, scenario, backend)


def _record(trace: Trace, window: Window, shape: AliasShape) -> None:
    trace.hours.append((window.start - T0) / HOUR)
    trace.share.append(shape.share(CANDIDATE))
    for version, rates in ((STABLE, trace.stable_rate), (CANDIDATE, trace.candidate_rate)):
        found = window.stats[version]
        rates.append(found.server_errors / found.requests if found.requests else math.nan)


def summary(rollout: Rollout, scenario: Scenario, backend: str) -> dict[str, Any]:
    started = rollout.started_at
    timeline = [
        {
            "at_hours": round((event.at - started) / HOUR, 2),
            "action": event.action,
            "detail": event.detail,
        }
        for event in rollout.history
    ]
    rolled_back = next((e for e in rollout.history if e.action == "rollback"), None)
    report = rollout.reports[-1] if rollout.reports else None
    last = rollout.evidence.last
    return {
        "outcome": rollout.status,
        "rolled_back_at_hours": None if rolled_back is None else round((rolled_back.at - started) / HOUR, 2),
        "stage_reached": rollout.stage_index + 1,
        "ab_verdict": None if report is None else report.get("verdict_text"),
        "timeline": timeline,
        "evaluations": rollout.evidence.evaluations,
        "last_evaluation": None if last is None else last.model_dump(mode="json"),
        "report": report,
        "scenario": {**scenario.__dict__, "backend": backend},
    }
