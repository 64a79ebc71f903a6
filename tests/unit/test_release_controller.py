"""Long-bake rollout logic: gates, stage progression, operator actions, and the controller
driving fakes of its three ports (state first, alias reconciled to it, drift left alone)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from core.release.rollout_controller import RolloutController
from core.release.rollout_plan import (
    HOUR,
    AliasShape,
    Gates,
    Rollout,
    Stage,
    VersionStats,
    apply,
    decide,
    split,
    start,
    violations,
)
from core.shared import settings
from core.shared.errors import Conflict, ValidationFailed

T0 = 1_800_000_000.0
PLAN = (
    Stage(weight=0.05, bake_hours=24),
    Stage(weight=0.5, bake_hours=48, ab_report=True),
    Stage(weight=1.0, bake_hours=0),
)
STABLE_ONLY = AliasShape(primary="3")
AT_5 = split("3", "4", 0.05)
AT_50 = split("3", "4", 0.5)
CANDIDATE_ONLY = AliasShape(primary="4")
DEPLOYED = AliasShape(primary="5")  # what a `sam deploy` of a newer version leaves on the alias


def stats(
    version: str, requests: int = 10_000, errors: int = 0, p95: float | None = 100.0, rf: int = 0
) -> VersionStats:
    return VersionStats(version=version, requests=requests, errors=errors, p95_ms=p95, routing_failures=rf)


def fresh(plan: tuple[Stage, ...] = PLAN, gates: Gates | None = None) -> Rollout:
    return start("api", "3", "4", T0, plan, gates)


def test_a_healthy_candidate_holds_until_the_stage_has_baked() -> None:
    decision = decide(fresh(), T0 + 23 * HOUR, stats("4"), stats("3"))
    assert decision.action == "hold"
    assert decision.weight == 0.05


def test_a_baked_stage_advances_to_the_next_weight() -> None:
    decision = decide(fresh(), T0 + 24 * HOUR, stats("4"), stats("3"))
    assert (decision.action, decision.weight) == ("advance", 0.5)
    assert decision.report is None  # the first stage asks for no A/B report


def test_the_ab_stage_attaches_a_self_describing_report() -> None:
    second = apply(fresh(), decide(fresh(), T0 + 24 * HOUR, stats("4"), stats("3")), T0 + 24 * HOUR)
    decision = decide(
        second, T0 + 72 * HOUR, stats("4", errors=10, p95=110.0, rf=2), stats("3", errors=5, p95=100.0)
    )
    assert (decision.action, decision.weight) == ("advance", 1.0)
    report = decision.report
    assert report is not None
    assert report["p95_ratio"] == 1.1
    assert report["error_rate_delta"] == pytest.approx((10 - 5) / 10_000)
    assert (report["stage"], report["stage_weight"], report["ended_by"]) == (2, 0.5, "advance")
    assert report["window_start"] == "2027-01-16T08:00:00Z"  # T0 + 24 h, when the stage began
    assert report["window_end"] == "2027-01-18T08:00:00Z"
    assert report["window_hours"] == 48.0
    assert report["candidate"] == {
        "version": "4",
        "requests": 10_000,
        "errors": 10,
        "error_rate": 0.001,
        "routing_failures": 2,
        "routing_failure_rate": 0.0002,
        "p95_ms": 110.0,
    }
    assert report["stable"]["errors"] == 5  # type: ignore[index]
    assert report["gates"] == Gates().model_dump()
    assert report["gates_judged"] == {"absolute": True, "relative": True}
    assert report["violations"] == []


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


def test_one_error_in_two_requests_does_not_roll_back() -> None:
    decision = decide(fresh(), T0 + 0.25 * HOUR, stats("4", requests=2, errors=1), stats("3"))
    assert decision.action == "hold"
    assert "gates wait for 100 requests (candidate has 2)" in decision.reason


def test_relative_gates_wait_for_a_stable_sample_too() -> None:
    # 1.5% errors and 3x the p95 of a stable version that served 50 requests: not judged yet.
    candidate = stats("4", requests=200, errors=3, p95=300.0)
    assert violations(fresh(), candidate, stats("3", requests=50, p95=100.0)) == []
    broken = violations(fresh(), candidate, stats("3", requests=100, p95=100.0))
    assert len(broken) == 2 and "exceeds stable" in broken[0] and "p95" in broken[1]


def test_a_burst_of_errors_on_enough_requests_still_rolls_back_at_once() -> None:
    decision = decide(fresh(), T0 + 0.25 * HOUR, stats("4", requests=100, errors=50), stats("3"))
    assert decision.action == "rollback"


def test_the_gate_sample_size_is_configurable() -> None:
    lenient = fresh(gates=Gates(min_gate_requests=1_000))
    assert decide(lenient, T0 + HOUR, stats("4", requests=999, errors=500), stats("3")).action == "hold"
    assert decide(lenient, T0 + HOUR, stats("4", requests=1_000, errors=500), stats("3")).action == "rollback"


def test_a_stage_never_advances_before_its_gates_were_judged() -> None:
    # min_requests below min_gate_requests: the larger one decides when a stage may advance.
    rollout = fresh(gates=Gates(min_requests=10, min_gate_requests=200))
    decision = decide(rollout, T0 + 25 * HOUR, stats("4", requests=150, errors=100), stats("3"))
    assert decision.action == "hold"
    assert "200 needed" in decision.reason


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


def test_alias_shapes_compare_by_rounded_weights() -> None:
    assert AliasShape(primary="3", weights={"4": 0.050000001}) == AT_5
    assert AliasShape(primary="3", weights={"4": 0.0}) == STABLE_ONLY
    assert AT_5.share("4") == 0.05 and AT_5.share("3") == 0.95 and CANDIDATE_ONLY.share("4") == 1.0


# ---- controller with fakes ------------------------------------------------------------------


class FakeStore:
    def __init__(self) -> None:
        self.items: dict[str, Rollout] = {}
        self.before_save: Callable[[], Any] | None = None  # runs once, as a concurrent writer would

    def get(self, function_name: str) -> Rollout | None:
        return self.items.get(function_name)

    def save(self, rollout: Rollout, expected_revision: int | None) -> Rollout:
        if self.before_save:
            hook, self.before_save = self.before_save, None
            hook()
        current = self.items.get(rollout.function_name)
        if (current.revision if current else None) != expected_revision:
            raise Conflict("stale")
        stored = rollout.model_copy(update={"revision": (expected_revision or 0) + 1})
        self.items[rollout.function_name] = stored
        return stored

    def all(self) -> list[Rollout]:
        return list(self.items.values())


class FakeAlias:
    """One alias per function, with a revision that every update changes (Lambda's RevisionId)."""

    def __init__(self, primary: str = "3") -> None:
        self.shapes: dict[str, AliasShape] = {}
        self.default = AliasShape(primary=primary)
        self.revision = 0
        self.moves: list[AliasShape] = []
        self.crash_next = False
        self.before_route: Callable[[], Any] | None = None  # runs once, between read and write

    @property
    def shape(self) -> AliasShape:
        return self.shapes.get("api", self.default)

    def current(self, function_name: str, alias: str) -> tuple[AliasShape, str]:
        return self.shapes.get(function_name, self.default), str(self.revision)

    def route(self, function_name: str, alias: str, shape: AliasShape, revision: str) -> str:
        if self.before_route:
            hook, self.before_route = self.before_route, None
            hook()
        if self.crash_next:
            self.crash_next = False
            raise TimeoutError("connection lost before UpdateAlias")
        if revision != str(self.revision):
            raise Conflict("alias changed since it was read")
        self.shapes[function_name] = shape
        self.moves.append(shape)
        self.revision += 1
        return str(self.revision)

    def changed_by_someone_else(self, shape: AliasShape, function_name: str = "api") -> None:
        self.shapes[function_name] = shape
        self.revision += 1


class FakeMetrics:
    def __init__(self) -> None:
        self.by_version: dict[str, VersionStats] = {}
        self.broken: set[str] = set()
        self.windows: list[tuple[float, float]] = []

    def stats(self, function_name: str, alias: str, version: str, start: float, end: float) -> VersionStats:
        if function_name in self.broken:
            raise RuntimeError("CloudWatch is throttling")
        self.windows.append((start, end))
        return self.by_version.get(version, stats(version))


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


Parts = tuple[RolloutController, FakeStore, FakeAlias, FakeMetrics, Clock]


@pytest.fixture
def parts() -> Parts:
    store, alias, metrics, clock = FakeStore(), FakeAlias(), FakeMetrics(), Clock()
    return RolloutController(store, alias, metrics, clock), store, alias, metrics, clock


def test_a_rollout_walks_the_plan_to_completion(parts: Parts) -> None:
    controller, store, alias, _, clock = parts
    controller.start("api", "4", plan=PLAN)
    assert alias.shape == AT_5
    for hours, expected in ((1, "hold"), (24, "advance"), (50, "hold"), (72, "advance"), (73, "complete")):
        clock.now = T0 + hours * HOUR
        assert controller.tick("api").action == expected
    assert alias.shape == CANDIDATE_ONLY
    assert store.items["api"].status == "completed"
    assert alias.moves == [AT_5, AT_50, CANDIDATE_ONLY]


def test_a_failing_candidate_is_rolled_back_to_stable(parts: Parts) -> None:
    controller, store, alias, metrics, clock = parts
    controller.start("api", "4", plan=PLAN)
    metrics.by_version["4"] = stats("4", errors=1_000)
    clock.now = T0 + HOUR
    assert controller.tick("api").action == "rollback"
    assert alias.shape == STABLE_ONLY
    assert store.items["api"].status == "rolled_back"
    assert controller.tick("api").action == "hold"  # nothing more happens afterwards
    assert alias.moves == [AT_5, STABLE_ONLY]


def test_start_refuses_a_split_alias_and_a_second_rollout(parts: Parts) -> None:
    controller, _, alias, _, _ = parts
    alias.changed_by_someone_else(AliasShape(primary="3", weights={"9": 0.1}))
    with pytest.raises(Conflict):
        controller.start("api", "4")
    alias.changed_by_someone_else(STABLE_ONLY)
    controller.start("api", "4")
    with pytest.raises(Conflict):
        controller.start("api", "5")


def test_start_after_the_deploy_shifted_everything_needs_the_stable_version(parts: Parts) -> None:
    controller, _, alias, _, _ = parts
    alias.changed_by_someone_else(CANDIDATE_ONLY)
    with pytest.raises(ValidationFailed):
        controller.start("api", "4")
    controller.start("api", "4", stable_version="3")
    assert alias.shape == AT_5


def test_the_state_is_saved_before_the_alias_moves_and_a_lost_move_is_repaired(parts: Parts) -> None:
    controller, store, alias, _, clock = parts
    controller.start("api", "4", plan=PLAN)
    clock.now = T0 + 24 * HOUR
    alias.crash_next = True
    with pytest.raises(TimeoutError):
        controller.tick("api")
    assert store.items["api"].stage_index == 1  # the decision is recorded...
    assert alias.shape == AT_5  # ...the move did not happen
    clock.now = T0 + 24.25 * HOUR
    assert controller.tick("api").action == "hold"
    assert alias.shape == AT_50  # the next run made the alias match the state
    assert store.items["api"].owned_shapes == (AT_50,)


def test_two_concurrent_starts_the_loser_never_touches_the_alias(parts: Parts) -> None:
    controller, store, alias, _, _ = parts
    # The other start runs after this one read the (empty) state and the alias, before it saves.
    store.before_save = lambda: controller.start("api", "5", plan=PLAN)
    with pytest.raises(Conflict):
        controller.start("api", "4", plan=PLAN)
    assert store.items["api"].candidate_version == "5"
    assert alias.moves == [split("3", "5", 0.05)]


def test_an_operator_pause_landing_during_a_tick_wins_and_the_alias_stays(parts: Parts) -> None:
    controller, store, alias, _, clock = parts
    controller.start("api", "4", plan=PLAN)
    clock.now = T0 + 24 * HOUR
    # The tick has read the state and decided to advance; the pause is saved before the tick saves.
    store.before_save = lambda: controller.act("api", "pause", "ticket 1")
    with pytest.raises(Conflict):
        controller.tick("api")
    assert store.items["api"].status == "paused"
    assert alias.shape == AT_5
    assert alias.moves == [AT_5]


@pytest.mark.parametrize("action", ["rollback", "pause"])
def test_an_operator_action_between_a_ticks_save_and_its_alias_move_is_what_stays(
    parts: Parts, action: str
) -> None:
    controller, store, alias, _, clock = parts
    controller.start("api", "4", plan=PLAN)
    clock.now = T0 + 24 * HOUR
    # The tick saved "advance to 50%" and read the alias; the operator acts before its write.
    alias.before_route = lambda: controller.act("api", action)
    assert controller.tick("api").action == "advance"
    final = store.items["api"]
    assert final.status == {"rollback": "rolled_back", "pause": "paused"}[action]
    assert alias.shape == final.expected_shape()
    assert final.owned_shapes == (final.expected_shape(),)


def test_an_operator_rollback_right_after_a_ticks_alias_move_is_what_stays(parts: Parts) -> None:
    controller, store, alias, _, clock = parts
    controller.start("api", "4", plan=PLAN)
    clock.now = T0 + 24 * HOUR
    real_route = alias.route

    def route_then_rollback(function_name: str, name: str, shape: AliasShape, revision: str) -> str:
        new = real_route(function_name, name, shape, revision)
        if shape == AT_50:  # the tick's own move: the operator acts before the tick confirms it
            controller.act("api", "rollback")
        return new

    alias.route = route_then_rollback  # type: ignore[method-assign]
    controller.tick("api")
    assert store.items["api"].status == "rolled_back"
    assert alias.shape == STABLE_ONLY
    assert alias.moves == [AT_5, AT_50, STABLE_ONLY]


def test_an_alias_moved_by_a_deploy_is_left_alone_and_the_rollout_drifts(parts: Parts) -> None:
    controller, store, alias, metrics, clock = parts
    controller.start("api", "4", plan=PLAN)
    alias.changed_by_someone_else(DEPLOYED)
    clock.now = T0 + 24 * HOUR  # the stage has baked: without drift detection this would advance
    decision = controller.tick("api")
    assert decision.action == "drift"
    assert "changed outside the controller" in decision.reason and "version 5 only" in decision.reason
    assert decision.weight == 0.0  # the candidate's actual share
    rollout = store.items["api"]
    assert rollout.status == "drifted"
    assert rollout.history[-1].action == "drift"
    assert alias.shape == DEPLOYED and alias.moves == [AT_5]
    assert metrics.windows == []  # no gates were evaluated either
    clock.now = T0 + 48 * HOUR
    assert controller.tick("api").action == "hold"
    assert controller.tick_all().decisions["api"].reason == "rollout is drifted"
    assert alias.shape == DEPLOYED and alias.moves == [AT_5]


def test_resuming_a_drifted_rollout_needs_the_alias_back_or_force(parts: Parts) -> None:
    controller, store, alias, _, clock = parts
    controller.start("api", "4", plan=PLAN)
    alias.changed_by_someone_else(DEPLOYED)
    controller.tick("api")
    drifted = store.items["api"]
    for action in ("resume", "promote", "rollback"):
        with pytest.raises(Conflict, match="--force"):
            controller.act("api", action)
    assert store.items["api"] == drifted and alias.shape == DEPLOYED
    clock.now = T0 + 2 * HOUR
    resumed = controller.act("api", "resume", force=True)
    assert resumed.status == "baking" and resumed.stage_started_at == clock.now
    assert alias.shape == AT_5
    assert [e.action for e in resumed.history][-3:] == ["drift", "resume", "force"]
    # Put back by hand instead: resume needs no force.
    alias.changed_by_someone_else(DEPLOYED)
    controller.tick("api")
    alias.changed_by_someone_else(AT_5)
    assert controller.act("api", "resume").status == "baking"
    assert alias.moves == [AT_5, AT_5]


def test_an_operator_action_on_a_moved_alias_marks_drift_instead_of_overwriting(parts: Parts) -> None:
    controller, store, alias, _, _ = parts
    controller.start("api", "4", plan=PLAN)
    alias.changed_by_someone_else(DEPLOYED)
    with pytest.raises(Conflict, match="changed outside the controller"):
        controller.act("api", "promote")
    assert store.items["api"].status == "drifted"
    assert store.items["api"].stage_index == 0
    assert alias.shape == DEPLOYED


def test_a_new_start_replaces_a_drifted_rollout(parts: Parts) -> None:
    controller, store, alias, _, _ = parts
    controller.start("api", "4", plan=PLAN)
    alias.changed_by_someone_else(DEPLOYED)
    controller.tick("api")
    controller.start("api", "6", stable_version="5", plan=PLAN)
    assert store.items["api"].candidate_version == "6"
    assert alias.shape == split("5", "6", 0.05)


def test_a_finished_rollout_is_enforced_until_a_deploy_moves_the_alias(parts: Parts) -> None:
    controller, store, alias, _, clock = parts
    controller.start("api", "4", plan=PLAN)
    alias.crash_next = True
    with pytest.raises(TimeoutError):
        controller.act("api", "rollback", "product decision")
    assert store.items["api"].status == "rolled_back" and alias.shape == AT_5
    clock.now = T0 + HOUR
    assert controller.tick("api").action == "hold"
    assert alias.shape == STABLE_ONLY  # the interrupted rollback was finished by the next run
    alias.changed_by_someone_else(DEPLOYED)
    assert controller.tick("api").action == "drift"
    assert store.items["api"].alias_released and store.items["api"].status == "rolled_back"
    assert controller.tick_all().decisions == {}  # released: never looked at again
    assert alias.shape == DEPLOYED


def test_operator_pause_resume_promote_and_rollback(parts: Parts) -> None:
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
    assert alias.shape == AT_50
    controller.act("api", "rollback", "product decision")
    assert alias.shape == STABLE_ONLY
    assert [e.action for e in store.items["api"].history] == [
        "start",
        "pause",
        "resume",
        "advance",
        "rollback",
    ]
    with pytest.raises(Conflict):
        controller.act("api", "resume")


def test_promote_out_of_the_ab_stage_still_writes_the_report(parts: Parts) -> None:
    controller, _, alias, metrics, clock = parts
    controller.start("api", "4", plan=PLAN)
    clock.now = T0 + 24 * HOUR
    controller.tick("api")  # advance to the 50% A/B stage
    metrics.by_version["4"] = stats("4", requests=400, errors=2, p95=120.0, rf=1)
    metrics.by_version["3"] = stats("3", requests=380, errors=1, p95=100.0)
    clock.now = T0 + 30 * HOUR
    promoted = controller.act("api", "promote", "enough evidence")
    assert alias.shape == CANDIDATE_ONLY
    [report] = promoted.reports
    assert report["ended_by"] == "promote"
    assert (report["stage"], report["stage_weight"], report["window_hours"]) == (2, 0.5, 6.0)
    assert report["candidate"]["requests"] == 400 and report["candidate"]["routing_failures"] == 1  # type: ignore[index]
    assert report["stable"]["p95_ms"] == 100.0  # type: ignore[index]
    assert report["gates"]["max_p95_ratio"] == 1.25  # type: ignore[index]
    assert metrics.windows[-1] == (T0 + 24 * HOUR, T0 + 30 * HOUR)


def test_promote_out_of_a_stage_without_report_reads_no_metrics(parts: Parts) -> None:
    controller, _, _, metrics, _ = parts
    controller.start("api", "4", plan=PLAN)
    assert controller.act("api", "promote").reports == ()
    assert metrics.windows == []


def test_a_lost_race_is_reported_not_applied_twice(parts: Parts) -> None:
    controller, store, alias, _, clock = parts
    controller.start("api", "4", plan=PLAN)
    clock.now = T0 + 24 * HOUR
    stale = store.items["api"]
    store.before_save = lambda: store.items.update(
        api=store.items["api"].model_copy(update={"revision": stale.revision + 5})
    )
    decisions = controller.tick_all().decisions
    assert decisions["api"].action == "hold"
    assert "changed concurrently" in decisions["api"].reason
    assert alias.moves == [AT_5]


def test_one_failing_rollout_does_not_stop_the_others(parts: Parts) -> None:
    controller, _, alias, metrics, clock = parts
    controller.start("admin", "4", plan=PLAN)
    controller.start("api", "4", plan=PLAN)
    metrics.broken.add("admin")  # listed first: the run must go on to "api"
    clock.now = T0 + 24 * HOUR
    summary = controller.tick_all()
    assert list(summary.failures) == ["admin"]
    assert "RuntimeError: CloudWatch is throttling" in summary.failures["admin"]
    assert summary.decisions["api"].action == "advance"
    assert alias.shape == AT_50


def test_the_scheduled_run_fails_after_processing_every_rollout(
    parts: Parts, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handlers import rollout_schedule as handler
    from tests.lambda_events import LambdaContext

    controller, store, alias, metrics, clock = parts
    controller.start("admin", "4", plan=PLAN)
    controller.start("api", "4", plan=PLAN)
    metrics.broken.add("admin")
    clock.now = T0 + 24 * HOUR
    namespaces: list[str | None] = []

    def build(namespace: str | None, table: str | None = None) -> RolloutController:
        namespaces.append(namespace)
        return controller

    monkeypatch.setattr(handler, "build_controller", build)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "PersonaRouter/prod")
    settings.reload()
    with pytest.raises(handler.RolloutRunFailed, match="admin"):
        handler.lambda_handler({}, LambdaContext())
    assert namespaces == ["PersonaRouter/prod"]
    assert store.items["api"].stage_index == 1 and alias.shape == AT_50


def test_gates_are_configurable() -> None:
    strict = start("api", "3", "4", T0, PLAN, Gates(max_error_rate=0.0001))
    assert decide(strict, T0 + HOUR, stats("4", errors=5), stats("3", errors=5)).action == "rollback"
