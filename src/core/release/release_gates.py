"""Release gates: the candidate against the stable version, window by window (docs/rollouts.md,
"Statistics").

Every controller run reads both versions' counts for the same window (since the previous
evaluation) and folds them into the rollout's running evidence (`Evidence`, part of the stored
state, JSON-serialisable). One evaluation has one of four outcomes, as Argo Rollouts has them:
pass, fail, inconclusive, plus error when the metrics could not be read.

- Relative error test: conditional on a window's total errors, the candidate's errors are
  binomial with a share fixed by its traffic share and the ratio r of the two error rates. A
  mixture of likelihood ratios over r >= 1 + min_effect and over change points is an e-process
  under r <= 1: it fails at 1/alpha, so at most alpha of good versions are rolled back however
  long the bake and however often it is looked at. The pass process tests r >= 1 + min_effect.
- Absolute ceiling: an e-process for the candidate's error rate above max_error_rate (a one-sided
  confidence sequence); crossing it rolls back at once.
- Latency: Mann-Whitney U on per-window p95s of windows where both versions served enough
  requests (the service's in-handler `Latency` metric, which excludes Lambda init).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.release import sequential_stats as st

Outcome = Literal["pass", "fail", "inconclusive", "error"]

# Alternatives of the relative test, as multiples of the minimum ratio that matters (1 + min_effect):
# geometric (x1.6) up to ~13x, so large regressions gather evidence at their own pace; few points,
# since each costs log(1 / its prior weight) of evidence.
FAIL_GRID_STEPS = tuple(1.6**k for k in range(6))
# Prior weights of those alternatives (sum 1). A far-worse candidate must be caught within hours,
# from a handful of its errors, so every unit of log-evidence counts: the large ratios get the most
# weight. A moderate regression is caught over days, where the extra log(1/weight) costs little.
FAIL_GRID_WEIGHTS = (0.1, 0.1, 0.1, 0.2, 0.25, 0.25)
# Alternatives of the pass test (the candidate is not worse by min_effect): ratios below 1 + min_effect.
PASS_GRID = (1.0, 0.85, 0.7, 0.5)
# Alternatives of the ceiling test, as multiples of max_error_rate.
CEILING_GRID = (1.25, 1.5, 2.0, 3.0, 5.0, 10.0)
MAX_CHANGE_POINTS = 64


class Gates(BaseModel):
    """Gate settings of a rollout. Unknown fields are ignored so states stored by older versions
    (fixed-threshold gates) still load."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    min_requests: int = Field(
        default=500,
        ge=1,
        description="Candidate requests a stage needs before it may end (the 100% stage too)",
    )
    alpha: float = Field(
        default=0.05, gt=0, lt=1, description="Bound on the share of good versions the error test rolls back"
    )
    min_effect: float = Field(
        default=0.25,
        gt=0,
        le=10,
        description="Relative error-rate increase that matters (0.25: 1.25x stable)",
    )
    pass_alpha: float = Field(default=0.05, gt=0, lt=1)
    max_error_rate: float = Field(default=0.02, gt=0, lt=1, description="Absolute ceiling of the error rate")
    ceiling_alpha: float = Field(default=0.01, gt=0, lt=1)
    immediate_alpha: float | None = Field(
        default=None,
        gt=0,
        lt=1,
        description="The relative error test rolls back at once, without waiting for failure_limit, "
        "when its e-value reaches 1/immediate_alpha (None: alpha squared); never above alpha",
    )
    max_p95_ratio: float = Field(default=1.25, ge=1)
    latency_alpha: float = Field(default=0.001, gt=0, lt=1)
    latency_min_windows: int = Field(default=8, ge=3)
    latency_max_windows: int = Field(default=96, ge=3, description="Sliding window of per-window p95s kept")
    latency_window_requests: int = Field(
        default=20, ge=1, description="Requests per version a window needs for its p95 to count"
    )
    failure_limit: int = Field(default=2, ge=1, description="Consecutive failing evaluations that roll back")
    consecutive_error_limit: int = Field(
        default=4, ge=1, description="Consecutive evaluations without metrics that pause the rollout"
    )
    require_pass: bool = Field(
        default=False, description="A stage ends only once the pass test has passed, not on inconclusive"
    )
    max_wait_hours: float = Field(
        default=72, ge=0, description="How long past its bake time a stage may wait for its sample or pass"
    )
    change_point_hours: float = Field(
        default=24, gt=0, description="Spacing of the start times the error tests mix over"
    )

    @model_validator(mode="after")
    def _immediate_is_stricter(self) -> Gates:
        # Every relative rollback then needs the e-value >= 1/alpha, so alpha still bounds them all.
        if self.immediate_alpha is not None and self.immediate_alpha > self.alpha:
            raise ValueError("immediate_alpha must not exceed alpha")
        return self

    @property
    def immediate_e_value(self) -> float:
        """The relative test's e-value that rolls back at once."""
        return 1 / (self.immediate_alpha if self.immediate_alpha is not None else self.alpha**2)


class VersionStats(BaseModel):
    """What one version did during a window. `errors` are Lambda's Errors (crashes, timeouts),
    `server_errors` the service's own 5XX answers: the handler turns exceptions into 500s, which
    Lambda does not count, so the gates use both (`failed`)."""

    model_config = ConfigDict(frozen=True)

    version: str
    requests: int = Field(ge=0)
    errors: int = Field(default=0, ge=0)
    server_errors: int = Field(default=0, ge=0)
    routing_failures: int = Field(default=0, ge=0)
    p50_ms: float | None = None
    p95_ms: float | None = None

    @property
    def failed(self) -> int:
        # Never more than the requests: a window's counts come from different metrics.
        return min(self.requests, self.errors + self.server_errors)

    @property
    def error_rate(self) -> float:
        return self.failed / self.requests if self.requests else 0.0


class Evaluation(BaseModel):
    """One evaluation of the gates (stored as the rollout's `evidence.last`)."""

    model_config = ConfigDict(frozen=True)

    at: float
    outcome: Outcome
    immediate: bool = Field(
        default=False,
        description="The ceiling was crossed, or the relative test reached immediate_e_value: roll back now",
    )
    window_start: float
    window_end: float
    e_value_worse: float = 1.0
    e_value_not_worse: float = 1.0
    e_value_ceiling: float = 1.0
    latency_p_value: float | None = None
    latency_ratio: float | None = None
    reasons: tuple[str, ...] = ()


class Totals(BaseModel):
    model_config = ConfigDict(frozen=True)

    candidate_requests: int = 0
    candidate_failed: int = 0
    stable_requests: int = 0
    stable_failed: int = 0

    def add(self, candidate: VersionStats, stable: VersionStats) -> Totals:
        # The validating constructor: pydantic-core checks four ints faster than model_construct
        # copies them in Python (this runs twice per evaluation).
        return Totals(
            candidate_requests=self.candidate_requests + candidate.requests,
            candidate_failed=self.candidate_failed + candidate.failed,
            stable_requests=self.stable_requests + stable.requests,
            stable_failed=self.stable_failed + stable.failed,
        )


class Evidence(BaseModel):
    """Running state of the gates over the whole bake; small (a few hundred floats)."""

    model_config = ConfigDict(frozen=True)

    evaluated_until: float | None = None
    next_change_point: float | None = None
    change_points: int = Field(default=0, description="Change points started so far")
    worse: tuple[float, ...] = Field(
        default=(),
        description="Running log LR of each alternative ratio of the fail test since the bake began",
    )
    worse_offsets: tuple[float, ...] = Field(
        default=(), description="Per alternative, log sum over change points of weight * exp(-log LR then)"
    )
    not_worse: tuple[float, ...] = Field(
        default=(), description="Running log LR per alternative of the pass test"
    )
    ceiling: tuple[float, ...] = ()
    ceiling_offsets: tuple[float, ...] = ()
    consecutive_fails: int = 0
    consecutive_errors: int = 0
    latency_candidate: tuple[float, ...] = ()
    latency_stable: tuple[float, ...] = ()
    bake: Totals = Totals()
    stage: Totals = Totals()
    evaluations: int = 0
    last: Evaluation | None = None

    def for_new_stage(self) -> Evidence:
        """Evidence carries over stages (the conditional test accounts for the new share);
        only the stage's own counts and the latency samples (a new share changes cold-start
        mix and load) start again."""
        return self.model_copy(update={"stage": Totals(), "latency_candidate": (), "latency_stable": ()})


def fail_grid(gates: Gates) -> tuple[float, ...]:
    return tuple((1 + gates.min_effect) * step for step in FAIL_GRID_STEPS)


def ceiling_grid(gates: Gates) -> tuple[float, ...]:
    """Error rates above the ceiling to test against it; a ceiling near 1 keeps one point between."""
    points = tuple(gates.max_error_rate * m for m in CEILING_GRID if gates.max_error_rate * m < 0.999)
    return points or ((gates.max_error_rate + 1) / 2,)


def _add(row: tuple[float, ...], increments: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(a + b for a, b in zip(row, increments, strict=True))


def _open_change_points(evidence: Evidence, gates: Gates, start: float) -> dict[str, Any]:
    """The evidence fields after starting every change point due by `start` (one every
    change_point_hours, the first at the first evaluation)."""
    worse = evidence.worse or (0.0,) * len(FAIL_GRID_STEPS)
    ceiling = evidence.ceiling or (0.0,) * len(ceiling_grid(gates))
    worse_offsets: tuple[float, ...] | None = evidence.worse_offsets or None
    ceiling_offsets: tuple[float, ...] | None = evidence.ceiling_offsets or None
    due = start if evidence.next_change_point is None else evidence.next_change_point
    started = evidence.change_points
    spacing = gates.change_point_hours * 3600
    while due <= start:
        if started < MAX_CHANGE_POINTS:  # past the cap none starts (unstarted ones stay at 1: valid)
            worse_offsets = st.open_change_point(worse, worse_offsets, started)
            ceiling_offsets = st.open_change_point(ceiling, ceiling_offsets, started)
            started += 1
        due += spacing
    return {
        "worse": worse,
        "ceiling": ceiling,
        "worse_offsets": worse_offsets or (),
        "ceiling_offsets": ceiling_offsets or (),
        "not_worse": evidence.not_worse or (0.0,) * len(PASS_GRID),
        "next_change_point": due,
        "change_points": started,
    }


def e_values(evidence: Evidence) -> tuple[float, float, float]:
    """(worse, not worse, ceiling) e-values of the evidence; 1 before any evaluation."""
    if not evidence.worse:
        return 1.0, 1.0, 1.0
    worse = st.change_point_e_value(
        evidence.worse, evidence.worse_offsets, evidence.change_points, FAIL_GRID_WEIGHTS
    )
    not_worse = st.mixture_e_value(evidence.not_worse)
    ceiling = st.change_point_e_value(evidence.ceiling, evidence.ceiling_offsets, evidence.change_points)
    return worse, not_worse, ceiling


def evaluate(
    gates: Gates,
    evidence: Evidence,
    candidate: VersionStats,
    stable: VersionStats,
    start: float,
    end: float,
) -> tuple[Evidence, Evaluation]:
    """Fold one window [start, end) of both versions into the evidence and judge it."""
    fields = _open_change_points(evidence, gates, start)
    worse, not_worse, ceiling = fields["worse"], fields["not_worse"], fields["ceiling"]
    total_requests = candidate.requests + stable.requests
    total_failed = candidate.failed + stable.failed
    # Relative tests: only windows where both versions served and something failed carry information.
    if candidate.requests and stable.requests and total_failed:
        share = candidate.requests / total_requests
        null = 1.0
        increments = tuple(
            st.conditional_log_lr(candidate.failed, total_failed, share, ratio, null)
            for ratio in fail_grid(gates)
        )
        worse = _add(worse, increments)
        bound = 1 + gates.min_effect
        not_worse = _add(
            not_worse,
            tuple(
                st.conditional_log_lr(candidate.failed, total_failed, share, ratio, bound)
                for ratio in PASS_GRID
            ),
        )
    if candidate.requests:
        increments = tuple(
            st.bernoulli_log_lr(candidate.failed, candidate.requests, rate, gates.max_error_rate)
            for rate in ceiling_grid(gates)
        )
        ceiling = _add(ceiling, increments)

    latency_candidate, latency_stable = evidence.latency_candidate, evidence.latency_stable
    if (
        candidate.p95_ms is not None
        and stable.p95_ms is not None
        and min(candidate.requests, stable.requests) >= gates.latency_window_requests
    ):
        keep = gates.latency_max_windows
        latency_candidate = (*latency_candidate, candidate.p95_ms)[-keep:]
        latency_stable = (*latency_stable, stable.p95_ms)[-keep:]

    bake = evidence.bake.add(candidate, stable)
    started = fields["change_points"]
    e_worse = st.change_point_e_value(worse, fields["worse_offsets"], started, FAIL_GRID_WEIGHTS)
    e_not_worse = st.mixture_e_value(not_worse)
    e_ceiling = st.change_point_e_value(ceiling, fields["ceiling_offsets"], started)
    reasons: list[str] = []
    far_worse = e_worse >= gates.immediate_e_value
    immediate = e_ceiling >= 1 / gates.ceiling_alpha or far_worse
    if e_ceiling >= 1 / gates.ceiling_alpha:
        reasons.append(
            f"error rate above the {gates.max_error_rate:.2%} ceiling (e-value {e_ceiling:.3g} >= "
            f"{1 / gates.ceiling_alpha:g}; "
            f"{bake.candidate_failed}/{bake.candidate_requests} over the bake)"
        )
    if e_worse >= 1 / gates.alpha:
        reasons.append(
            f"error rate higher than stable by more than {gates.min_effect:.0%} "
            f"(e-value {e_worse:.3g} >= {1 / gates.alpha:g}"
            + (f"; >= {gates.immediate_e_value:g}: at once)" if far_worse else ")")
        )
    p_value, ratio = latency_test(gates, latency_candidate, latency_stable, only_above=gates.max_p95_ratio)
    if (
        p_value is not None
        and ratio is not None
        and p_value < gates.latency_alpha
        and ratio > gates.max_p95_ratio
    ):
        reasons.append(
            f"p95 {ratio:.2f}x stable > {gates.max_p95_ratio:.2f}x (Mann-Whitney p={p_value:.2g} "
            f"over {len(latency_candidate)} windows)"
        )
    failing = bool(reasons)
    if failing:
        outcome: Outcome = "fail"
    elif e_not_worse >= 1 / gates.pass_alpha:
        outcome = "pass"
    else:
        outcome = "inconclusive"
    evaluation = Evaluation(
        at=end,
        outcome=outcome,
        immediate=immediate,
        window_start=start,
        window_end=end,
        e_value_worse=e_worse,
        e_value_not_worse=e_not_worse,
        e_value_ceiling=e_ceiling,
        latency_p_value=p_value,
        latency_ratio=ratio,
        reasons=tuple(reasons),
    )
    # One copy of the evidence per evaluation (this runs every 15 minutes for weeks in the
    # simulation's thousands of bakes, and in every scheduled run).
    updated = evidence.model_copy(
        update={
            **fields,
            "worse": worse,
            "not_worse": not_worse,
            "ceiling": ceiling,
            "latency_candidate": latency_candidate,
            "latency_stable": latency_stable,
            "bake": bake,
            "stage": evidence.stage.add(candidate, stable),
            "evaluated_until": end,
            "evaluations": evidence.evaluations + 1,
            "consecutive_errors": 0,
            "consecutive_fails": evidence.consecutive_fails + 1 if failing else 0,
            "last": evaluation,
        }
    )
    return updated, evaluation


def latency_test(
    gates: Gates, candidate: tuple[float, ...], stable: tuple[float, ...], only_above: float | None = None
) -> tuple[float | None, float | None]:
    """(one-sided Mann-Whitney p-value that the candidate is slower, ratio of median p95s), or
    (None, None) before latency_min_windows windows. With only_above, the rank test runs only when
    the ratio exceeds it (the gate needs both; this keeps a 15-minute run cheap)."""
    if len(candidate) < gates.latency_min_windows or len(stable) < gates.latency_min_windows:
        return None, None
    base = st.median(stable)
    ratio = st.median(candidate) / base if base > 0 else None
    if only_above is not None and (ratio is None or ratio <= only_above):
        return None, ratio
    _, p_value = st.mann_whitney_u(candidate, stable, "greater")
    return p_value, ratio


def metrics_failed(evidence: Evidence, now: float, error: str) -> tuple[Evidence, Evaluation]:
    """A run that could not read the metrics: counted apart from failing evaluations; the window
    stays open, so the next successful run covers it."""
    evaluation = Evaluation(
        at=now,
        outcome="error",
        window_start=evidence.evaluated_until or now,
        window_end=now,
        reasons=(f"metrics unavailable: {error}",),
    )
    return evidence.model_copy(
        update={"consecutive_errors": evidence.consecutive_errors + 1, "last": evaluation}
    ), evaluation
