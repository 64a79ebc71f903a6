"""Long-bake rollout logic: plans, operator actions, and the controller driving fakes of its
ports (state first, alias reconciled to it, drift left alone). The gates' decisions are in
test_release_decisions.py, their statistics in test_release_statistics.py."""

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
    split,
    start,
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
        self.broken: set[str] = set()
        self.crash_next = False
        self.before_route: Callable[[], Any] | None = None  # runs once, between read and write

    @property
    def shape(self) -> AliasShape:
        return self.shapes.get("api", self.default)

    def current(self, function_name: str, alias: str) -> tuple[AliasShape, str]:
        if function_name in self.broken:
            raise RuntimeError("Lambda is throttling")
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
    assert report["candidate"]["requests"] == 400 and report["candidate"]["errors"] == 2  # type: ignore[index]
    assert report["stable"]["p95_ms"] == 100.0  # type: ignore[index]
    assert report["verdict"] == "no detectable difference"
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
    controller, _, alias, _metrics, clock = parts
    controller.start("admin", "4", plan=PLAN)
    controller.start("api", "4", plan=PLAN)
    alias.broken.add("admin")  # listed first: the run must go on to "api"
    clock.now = T0 + 24 * HOUR
    summary = controller.tick_all()
    assert list(summary.failures) == ["admin"]
    assert "RuntimeError: Lambda is throttling" in summary.failures["admin"]
    assert summary.decisions["api"].action == "advance"
    assert alias.shape == AT_50


def test_the_scheduled_run_fails_after_processing_every_rollout(
    parts: Parts, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handlers import rollout_schedule as handler
    from tests.lambda_events import LambdaContext

    controller, store, alias, _metrics, clock = parts
    controller.start("admin", "4", plan=PLAN)
    controller.start("api", "4", plan=PLAN)
    alias.broken.add("admin")
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


def test_metrics_errors_are_counted_apart_and_pause_after_the_limit(parts: Parts) -> None:
    controller, store, alias, metrics, clock = parts
    controller.start("api", "4", plan=PLAN, gates=Gates(consecutive_error_limit=3))
    metrics.broken.add("api")
    for tick in range(1, 3):
        clock.now = T0 + tick * 0.25 * HOUR
        assert controller.tick("api").action == "hold"
    evidence = store.items["api"].evidence
    assert evidence.consecutive_errors == 2 and evidence.consecutive_fails == 0
    assert evidence.last is not None and evidence.last.outcome == "error"
    clock.now = T0 + 0.75 * HOUR
    decision = controller.tick("api")
    assert (decision.action, decision.transition) == ("pause", "paused")
    assert "metrics unavailable 3 times" in decision.reason
    assert store.items["api"].status == "paused" and alias.shape == AT_5  # paused, not rolled back


def test_a_window_is_read_once_and_ends_before_the_metrics_delay(parts: Parts) -> None:
    controller, store, _, metrics, clock = parts
    controller.start("api", "4", plan=PLAN)
    for minutes in (15, 30, 30.5):
        clock.now = T0 + minutes * 60
        controller.tick("api")
    # The third run is 30 s after the second: its window would be shorter than a minute.
    assert metrics.windows == [(T0, T0 + 600), (T0, T0 + 600), (T0 + 600, T0 + 1500), (T0 + 600, T0 + 1500)]
    assert store.items["api"].evidence.evaluations == 2


def test_a_ceiling_breach_rolls_back_at_once_and_says_why(parts: Parts) -> None:
    controller, store, alias, metrics, clock = parts
    controller.start("api", "4", plan=PLAN)
    metrics.by_version["4"] = stats("4", requests=500, errors=100)  # 20%, ceiling 2%
    clock.now = T0 + 0.25 * HOUR
    decision = controller.tick("api")
    assert (decision.action, decision.transition) == ("rollback", "rolled_back")
    assert "ceiling" in decision.reason
    assert alias.shape == STABLE_ONLY and store.items["api"].status == "rolled_back"


def test_the_approval_step_waits_for_approve(parts: Parts) -> None:
    controller, store, alias, _, clock = parts
    plan = (Stage(weight=0.05, bake_hours=24), Stage(weight=1.0, bake_hours=0, approval_required=True))
    controller.start("api", "4", plan=plan)
    clock.now = T0 + 24 * HOUR
    decision = controller.tick("api")
    assert (decision.action, decision.transition) == ("wait_approval", "waiting_for_approval")
    assert store.items["api"].status == "waiting_approval" and alias.shape == AT_5
    clock.now = T0 + 48 * HOUR
    assert controller.tick("api").action == "hold"  # waits, whatever the clock says
    approved = controller.act("api", "approve", "looks good")
    assert approved.status == "baking" and approved.stage_index == 1 and alias.shape == CANDIDATE_ONLY
    with pytest.raises(Conflict, match="nothing waits for approval"):
        controller.act("api", "approve")


class FakeDeployments:
    """CodeDeploy as the controller sees it: deployments still running and how each ended."""

    def __init__(self) -> None:
        self.running: list[str] = []
        self.statuses: dict[str, str] = {}
        self.unreachable = False
        self.asked: list[str] = []

    def in_progress(self) -> list[str]:
        return list(self.running)

    def status(self, deployment_id: str) -> str:
        self.asked.append(deployment_id)
        if self.unreachable:
            raise RuntimeError("CodeDeploy is throttling")
        return self.statuses[deployment_id]


def _deploy_started(parts: Parts) -> tuple[RolloutController, FakeDeployments]:
    _, store, alias, metrics, clock = parts
    deployments = FakeDeployments()
    controller = RolloutController(store, alias, metrics, clock, deployments=deployments)
    deployments.running = ["d-DEPLOY1"]
    deployments.statuses["d-DEPLOY1"] = "InProgress"
    controller.start("api", "4", plan=PLAN, own_deployment="d-DEPLOY1")
    assert store.items["api"].deployment_id == "d-DEPLOY1"
    deployments.running = []
    return controller, deployments


@pytest.mark.parametrize("ended", ["Failed", "Stopped"])
def test_a_bake_whose_deploy_failed_is_rolled_back(parts: Parts, ended: str) -> None:
    _, store, alias, _, clock = parts
    controller, deployments = _deploy_started(parts)
    assert alias.shape == AT_5
    deployments.statuses["d-DEPLOY1"] = ended
    clock.now = T0 + HOUR
    decision = controller.tick("api")
    assert decision.action == "rollback"
    assert "d-DEPLOY1" in decision.reason and ended in decision.reason
    assert alias.shape == STABLE_ONLY
    assert store.items["api"].status == "rolled_back"
    assert controller.tick("api").action == "hold"
    assert alias.moves == [AT_5, STABLE_ONLY]


def test_a_bake_whose_deploy_succeeded_or_runs_goes_on(parts: Parts) -> None:
    _, store, alias, _, clock = parts
    controller, deployments = _deploy_started(parts)
    for hours, status in ((1, "InProgress"), (2, "Succeeded")):
        deployments.statuses["d-DEPLOY1"] = status
        clock.now = T0 + hours * HOUR
        assert controller.tick("api").action == "hold"
    assert store.items["api"].status == "baking"
    assert alias.shape == AT_5


def test_an_unreadable_deployment_status_leaves_the_bake_alone(parts: Parts) -> None:
    _, store, alias, _, clock = parts
    controller, deployments = _deploy_started(parts)
    deployments.unreachable = True
    clock.now = T0 + HOUR
    assert controller.tick("api").action == "hold"
    assert store.items["api"].status == "baking"
    deployments.unreachable = False
    deployments.statuses["d-DEPLOY1"] = "Failed"
    clock.now = T0 + 2 * HOUR
    assert controller.tick("api").action == "rollback"
    assert alias.shape == STABLE_ONLY


def test_an_operator_started_bake_asks_codedeploy_nothing(parts: Parts) -> None:
    _, store, _, _, clock = parts
    deployments = FakeDeployments()
    controller = RolloutController(store, parts[2], parts[3], clock, deployments=deployments)
    controller.start("api", "4", plan=PLAN)
    assert store.items["api"].deployment_id is None
    clock.now = T0 + HOUR
    assert controller.tick("api").action == "hold"
    assert deployments.asked == []
