"""A stored rollout made by the real controller and gate code, for the release page tests: a
simulated 21-day bake (scripts/rollout_simulation.py's clock, metrics and in-memory ports) that
ends with the 50% stage's A/B report, or rolls back when the candidate is worse."""

from __future__ import annotations

from typing import Any

from scripts import rollout_simulation as sim


def baked_rollout(candidate_error_rate: float = 0.005, seed: int = 3, days: float = 22) -> dict[str, Any]:
    scenario = sim.Scenario(
        days=days,
        requests_per_day=20_000,
        stable_error_rate=0.005,
        candidate_error_rate=candidate_error_rate,
        seed=seed,
        approve_all=True,
    )
    clock = [sim.T0]
    metrics = sim.SyntheticMetrics()
    generator = sim.Generator(scenario)
    with sim.memory_backend() as (store, traffic):
        controller = sim.RolloutController(store, traffic, metrics, clock=lambda: clock[0], metrics_delay=0.0)
        controller.start(sim.FUNCTION, sim.CANDIDATE, sim.STABLE, "live", sim.DEFAULT_PLAN, sim.Gates())
        for tick in range(1, round(scenario.days * sim.DAY / sim.WINDOW) + 1):
            shape, _ = traffic.current(sim.FUNCTION, "live")
            metrics.windows.append(generator.window(clock[0], shape))
            clock[0] = sim.T0 + tick * sim.WINDOW
            controller.tick(sim.FUNCTION)
            if controller.status(sim.FUNCTION).status == "waiting_approval":
                controller.act(sim.FUNCTION, "approve", "approved by the test")
            if controller.status(sim.FUNCTION).finished:
                break
        return controller.status(sim.FUNCTION).model_dump(mode="json")
