"""Long-bake rollout logic: gates, stage progression, operator actions, and the controller
driving fakes of its three ports."""

from __future__ import annotations

import pytest

from core.errors import Conflict, ValidationFailed
from core.rollout import HOUR, Gates, Rollout, Stage, VersionStats, decide, start, violations
from core.rollout_controller import RolloutController

T0 = 1_800_000_000.0
PLAN = (
    Stage(weight=0.05, bake_hours=24),
    Stage(weight=0.5, bake_hours=48, ab_report=True),
    Stage(weight=1.0, bake_hours=0),
)


def stats(
    version: str, requests: int = 10_000, errors: int = 0, p95: float | None = 100.0, rf: int = 0
) -> VersionStats:
    return VersionStats(version=version, requests=requests, errors=errors, p95_ms=p95, routing_failures=rf)


def fresh(plan: tuple[Stage, ...] = PLAN) -> Rollout:
    return start("api", "3", "4", T0, plan)


def test_a_healthy_candidate_holds_until_the_stage_has_baked() -> None:
    decision = decide(fresh(), T0 + 23 * HOUR, stats("4"), stats("3"))
    assert decision.action == "hold"
    assert decision.weight == 0.05


def test_a_baked_stage_advances_to_the_next_weight() -> None:
    decision = decide(fresh(), T0 + 24 * HOUR, stats("4"), stats("3"))
    assert (decision.action, decision.weight) == ("advance", 0.5)
    assert decision.report is None  # the first stage asks for no A/B report


def test_the_ab_stage_attaches_a_report_comparing_the_versions() -> None:
    from core.rollout import apply

    second = apply(fresh(), decide(fresh(), T0 + 24 * HOUR, stats("4"), stats("3")), T0 + 24 * HOUR)
    decision = decide(
        second, T0 + 72 * HOUR, stats("4", errors=10, p95=110.0), stats("3", errors=5, p95=100.0)
    )
    assert (decision.action, decision.weight) == ("advance", 1.0)
    assert decision.report is not None
    assert decision.report["p95_ratio"] == 1.1
    assert decision.report["error_rate_delta"] == pytest.approx((10 - 5) / 10_000)


def test_the_last_stage_completes() -> None:
    rollout = fresh().model_copy(update={"stage_index": 2})
    assert decide(rollout, T0, stats("4"), stats("3", requests=0)).action == "complete"


@pytest.mark.parametrize(
    ("candidate", "stable", "expected"),
    [
        (stats("4", errors=300), stats("3"), "error rate"),  # 3% > 2% absolute
        (stats("4", errors=100), stats("3", errors=0), "exceeds stable"),  # +1% over stable
        (stats("4", p95=200.0), stats("3", p95=100.0), "p95"),
        (stats("4", rf=20), stats("3"), "routing failure"),
    ],
)
def test_a_broken_gate_rolls_back_at_once(
    candidate: VersionStats, stable: VersionStats, expected: str
) -> None:
    decision = decide(fresh(), T0 + HOUR, candidate, stable)  # mid-stage: gates are checked every tick
    assert decision.action == "rollback"
    assert decision.weight == 0.0
    assert expected in decision.reason


def test_relative_gates_need_stable_traffic() -> None:
    # At 100% the stable version serves nothing: only absolute gates can apply.
    assert violations(fresh(), stats("4", errors=100, p95=500.0), stats("3", requests=0)) == []


def test_too_little_traffic_holds_instead_of_advancing() -> None:
    decision = decide(fresh(), T0 + 25 * HOUR, stats("4", requests=10), stats("3"))
    assert decision.action == "hold"
    assert "requests" in decision.reason


@pytest.mark.parametrize(
    "plan",
    [
        (Stage(weight=0.5, bake_hours=1),),  # never reaches 100%
        (Stage(weight=0.5, bake_hours=1), Stage(weight=0.1, bake_hours=1), Stage(weight=1.0, bake_hours=0)),
        (),
    ],
)
def test_bad_plans_are_refused(plan: tuple[Stage, ...]) -> None:
    with pytest.raises((ValidationFailed, IndexError)):
        start("api", "3", "4", T0, plan)


def test_candidate_equal_to_stable_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        start("api", "4", "4", T0)


# ---- controller with fakes ------------------------------------------------------------------


class FakeStore:
    def __init__(self) -> None:
        self.items: dict[str, Rollout] = {}

    def get(self, function_name: str) -> Rollout | None:
        return self.items.get(function_name)

    def save(self, rollout: Rollout, expected_revision: int | None) -> Rollout:
        current = self.items.get(rollout.function_name)
        if (current.revision if current else None) != expected_revision:
            raise Conflict("stale")
        stored = rollout.model_copy(update={"revision": (expected_revision or 0) + 1})
        self.items[rollout.function_name] = stored
        return stored

    def all(self) -> list[Rollout]:
        return list(self.items.values())


class FakeAlias:
    def __init__(self, primary: str = "3") -> None:
        self.primary = primary
        self.weights: dict[str, float] = {}
        self.shifts: list[float] = []

    def current(self, function_name: str, alias: str) -> tuple[str, dict[str, float]]:
        return self.primary, dict(self.weights)

    def shift(self, function_name: str, alias: str, stable: str, candidate: str, weight: float) -> None:
        self.shifts.append(weight)
        if weight >= 1:
            self.primary, self.weights = candidate, {}
        elif weight <= 0:
            self.primary, self.weights = stable, {}
        else:
            self.primary, self.weights = stable, {candidate: weight}


class FakeMetrics:
    def __init__(self) -> None:
        self.by_version: dict[str, VersionStats] = {}

    def stats(self, function_name: str, alias: str, version: str, start: float, end: float) -> VersionStats:
        return self.by_version.get(version, stats(version))


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def parts() -> tuple[RolloutController, FakeStore, FakeAlias, FakeMetrics, Clock]:
    store, alias, metrics, clock = FakeStore(), FakeAlias(), FakeMetrics(), Clock()
    return RolloutController(store, alias, metrics, clock), store, alias, metrics, clock


def test_a_rollout_walks_the_plan_to_completion(parts: tuple) -> None:
    controller, store, alias, _, clock = parts
    controller.start("api", "4", plan=PLAN)
    assert alias.weights == {"4": 0.05}
    for hours, expected in ((1, "hold"), (24, "advance"), (50, "hold"), (72, "advance"), (73, "complete")):
        clock.now = T0 + hours * HOUR
        assert controller.tick("api").action == expected
    assert alias.primary == "4" and alias.weights == {}
    assert store.items["api"].status == "completed"
    assert alias.shifts == [0.05, 0.5, 1.0]


def test_a_failing_candidate_is_rolled_back_to_stable(parts: tuple) -> None:
    controller, store, alias, metrics, clock = parts
    controller.start("api", "4", plan=PLAN)
    metrics.by_version["4"] = stats("4", errors=1_000)
    clock.now = T0 + HOUR
    assert controller.tick("api").action == "rollback"
    assert (alias.primary, alias.weights) == ("3", {})
    assert store.items["api"].status == "rolled_back"
    assert controller.tick("api").action == "hold"  # nothing more happens afterwards


def test_start_refuses_a_split_alias_and_a_second_rollout(parts: tuple) -> None:
    controller, _, alias, _, _ = parts
    alias.weights = {"9": 0.1}
    with pytest.raises(Conflict):
        controller.start("api", "4")
    alias.weights = {}
    controller.start("api", "4")
    with pytest.raises(Conflict):
        controller.start("api", "5")


def test_start_after_the_deploy_shifted_everything_needs_the_stable_version(parts: tuple) -> None:
    controller, _, alias, _, _ = parts
    alias.primary = "4"
    with pytest.raises(ValidationFailed):
        controller.start("api", "4")
    controller.start("api", "4", stable_version="3")
    assert (alias.primary, alias.weights) == ("3", {"4": 0.05})


def test_operator_pause_resume_promote_and_rollback(parts: tuple) -> None:
    controller, store, alias, _, clock = parts
    controller.start("api", "4", plan=PLAN)
    controller.act("api", "pause", "investigating a ticket")
    clock.now = T0 + 100 * HOUR
    assert controller.tick("api").action == "hold"  # paused rollouts never move
    with pytest.raises(Conflict):
        controller.act("api", "pause")
    controller.act("api", "resume")
    assert store.items["api"].stage_started_at == clock.now  # the bake clock restarts
    controller.act("api", "promote")
    assert alias.weights == {"4": 0.5}
    controller.act("api", "rollback", "product decision")
    assert (alias.primary, alias.weights) == ("3", {})
    assert [e.action for e in store.items["api"].history] == [
        "start",
        "pause",
        "resume",
        "advance",
        "rollback",
    ]
    with pytest.raises(Conflict):
        controller.act("api", "resume")


def test_a_lost_race_is_reported_not_applied_twice(parts: tuple) -> None:
    controller, store, _, _, clock = parts
    controller.start("api", "4", plan=PLAN)
    clock.now = T0 + 24 * HOUR
    stale = store.items["api"]
    controller.tick("api")  # the first run advances
    store.items["api"] = store.items["api"].model_copy(update={"revision": stale.revision + 5})
    clock.now = T0 + 25 * HOUR
    decisions = controller.tick_all()
    assert decisions["api"].action == "hold"


def test_gates_are_configurable() -> None:
    strict = start("api", "3", "4", T0, PLAN, Gates(max_error_rate=0.0001))
    assert decide(strict, T0 + HOUR, stats("4", errors=5), stats("3", errors=5)).action == "rollback"
