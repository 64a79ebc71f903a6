"""Statistics of the release gates, pure Python (the Lambda package carries no numpy or scipy).

- Wilson score intervals for a binomial rate, and Newcombe's interval for a difference of two.
- The Mann-Whitney U rank test, normal approximation with tie correction and continuity
  correction (the same conventions as scipy.stats.mannwhitneyu's asymptotic method).
- E-processes for the error gates. An e-process is a nonnegative process whose expectation
  stays <= 1 under the null hypothesis however long it runs; by Ville's inequality it reaches
  1/alpha with probability at most alpha, so it may be looked at every 15 minutes for weeks.
  Evidence is a mixture of likelihood ratios over a grid of alternatives (uniform weights) and
  over change points (a weight per start time), stored as running log-likelihood ratios and one
  offset per grid point, so each update costs O(grid). docs/rollouts.md explains it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Z_95 = 1.959963984540054


def normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion; (0, 1) when there is no trial."""
    if trials <= 0:
        return 0.0, 1.0
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_difference(x1: int, n1: int, x2: int, n2: int, z: float = Z_95) -> tuple[float, float, float]:
    """p1 - p2 with Newcombe's hybrid score interval (method 10), built from the two Wilson
    intervals: (difference, lower, upper)."""
    p1 = x1 / n1 if n1 else 0.0
    p2 = x2 / n2 if n2 else 0.0
    l1, u1 = wilson_interval(x1, n1, z)
    l2, u2 = wilson_interval(x2, n2, z)
    difference = p1 - p2
    lower = difference - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = difference + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return difference, lower, upper


def _ranks(values: Sequence[float]) -> tuple[list[float], list[int]]:
    """Mid-ranks (1-based) of `values` and the sizes of their tie groups."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    ties: list[int] = []
    i, n = 0, len(order)
    while i < n:
        j, value = i, values[order[i]]
        while j + 1 < n and values[order[j + 1]] == value:
            j += 1
        rank = (i + j) / 2 + 1
        for k in range(i, j + 1):
            ranks[order[k]] = rank
        if j > i:
            ties.append(j - i + 1)
        i = j + 1
    return ranks, ties


def mann_whitney_u(
    x: Sequence[float], y: Sequence[float], alternative: str = "greater"
) -> tuple[float, float]:
    """(U of x, p-value) of the Mann-Whitney U test, normal approximation with tie and continuity
    correction. alternative "greater": x tends to be larger than y; "two-sided" also supported."""
    n1, n2 = len(x), len(y)
    if n1 == 0 or n2 == 0:
        raise ValueError("both samples need at least one value")
    ranks, ties = _ranks([*x, *y])
    u1 = sum(ranks[:n1]) - n1 * (n1 + 1) / 2
    n = n1 + n2
    mean = n1 * n2 / 2
    tie_term = sum(t**3 - t for t in ties) / (n * (n - 1)) if n > 1 else 0.0
    variance = n1 * n2 / 12 * ((n + 1) - tie_term)
    if variance <= 0:
        return u1, 1.0
    sd = math.sqrt(variance)
    if alternative == "greater":
        return u1, min(1.0, normal_sf((u1 - mean - 0.5) / sd))
    if alternative == "two-sided":
        u = max(u1, n1 * n2 - u1)
        return u1, min(1.0, 2 * normal_sf((u - mean - 0.5) / sd))
    raise ValueError(f"unknown alternative {alternative!r}")


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def quantile(values: Sequence[float], q: float) -> float:
    """Linear-interpolation quantile (numpy's default)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# --- likelihood ratios -------------------------------------------------------------------------


def share_under_ratio(weight: float, ratio: float) -> float:
    """The candidate's expected share of the errors when it serves `weight` of the requests and
    its error rate is `ratio` times the stable version's: w r / (w r + 1 - w)."""
    return weight * ratio / (weight * ratio + 1 - weight)


def conditional_log_lr(
    candidate_errors: int, total_errors: int, weight: float, ratio: float, null_ratio: float
) -> float:
    """log of P(X = x | E, r=ratio) / P(X = x | E, r=null_ratio) where X, the candidate's share of
    the window's E errors, is Binomial(E, q(r)). Conditioning on E removes the unknown base error
    rate: only the ratio of the two versions' rates is left."""
    q1 = share_under_ratio(weight, ratio)
    q0 = share_under_ratio(weight, null_ratio)
    x, rest = candidate_errors, total_errors - candidate_errors
    return x * math.log(q1 / q0) + rest * math.log((1 - q1) / (1 - q0))


def bernoulli_log_lr(errors: int, requests: int, rate: float, null_rate: float) -> float:
    """log-likelihood ratio of an error rate `rate` against `null_rate` for `errors` in `requests`."""
    return errors * math.log(rate / null_rate) + (requests - errors) * math.log((1 - rate) / (1 - null_rate))


# Prior weight of the first change point (the bake's start). A regression present from the start
# is the common case (a bad deploy) and must be caught within hours; later change points share
# the rest, 1/(i (i+1)) of it for the i-th, which sums to 1 over a bake of any length.
FIRST_START_WEIGHT = 0.75


def start_weight(index: int) -> float:
    """Prior weight of the index-th change point (0: the bake's start)."""
    if index == 0:
        return FIRST_START_WEIGHT
    return (1 - FIRST_START_WEIGHT) / (index * (index + 1))


def unstarted_weight(started: int) -> float:
    """Total weight of the change points not started yet (each a process still at 1)."""
    if started == 0:
        return 1.0
    return (1 - FIRST_START_WEIGHT) / started


def logaddexp(a: float, b: float) -> float:
    high, low = (a, b) if a >= b else (b, a)
    return high + math.log1p(math.exp(low - high))


def open_change_point(
    totals: Sequence[float], offsets: Sequence[float] | None, index: int
) -> tuple[float, ...]:
    """Start the index-th change point now. Every change point's log likelihood ratio is the
    running total minus the total when it started (all rows get the same increments), so the
    mixture needs only, per grid point k, offset_k = log sum_s weight_s exp(-total_k(s)):
    O(grid) per update however many change points. Returns the new offsets."""
    term = math.log(start_weight(index))
    if offsets is None:
        return tuple(term - total for total in totals)
    return tuple(logaddexp(offset, term - total) for offset, total in zip(offsets, totals, strict=True))


def change_point_e_value(
    totals: Sequence[float],
    offsets: Sequence[float],
    started: int,
    grid_weights: Sequence[float] | None = None,
) -> float:
    """sum_s weight_s * sum_k v_k LR_k(since s), plus the weight of change points not started yet;
    v_k are the grid's prior weights (uniform when None; they must sum to 1). A mixture of
    nonnegative supermartingales that each start at 1 (Ville: P(sup >= 1/alpha) <= alpha)."""
    if grid_weights is None:
        mean = sum(math.exp(min(700.0, t + o)) for t, o in zip(totals, offsets, strict=True)) / len(totals)
    else:
        mean = sum(
            v * math.exp(min(700.0, t + o)) for t, o, v in zip(totals, offsets, grid_weights, strict=True)
        )
    return mean + unstarted_weight(started)


def mixture_e_value(totals: Sequence[float]) -> float:
    """mean_k LR_k: a mixture over the grid with equal weights, from one start."""
    return sum(math.exp(min(700.0, total)) for total in totals) / len(totals)
