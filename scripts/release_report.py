"""One self-contained HTML page for a long-bake rollout (docs/rollouts.md): the stage timeline,
the candidate's traffic share over time, the gate results of each evaluation, and every A/B
report with its verdict. Charts are inline SVG; no script, no external asset, so the file can be
mailed or attached to a ticket and opened anywhere.

Input is the rollout as JSON (`Rollout.model_dump(mode="json")`, what `scripts/rollout.py
status --html` passes, or a file). Every field is read defensively: a rollout stored by an older
or newer controller renders what it has and says what it lacks.

    python scripts/release_report.py ROLLOUT.json --out report.html
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import itertools
import json
import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

# Actions in a rollout's history that start a new stage, end it, or send all traffic back.
NEXT_STAGE = frozenset({"advance", "promote"})
TO_FULL = frozenset({"complete", "completed"})
TO_ZERO = frozenset({"rollback", "rolled_back"})
VERDICT_CLASS = {
    "candidate better": "good",
    "no detectable difference": "neutral",
    "candidate worse": "bad",
}
OUTCOME_CLASS = {"pass": "good", "inconclusive": "neutral", "fail": "bad", "error": "bad"}

CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI","Noto Sans KR",sans-serif;color:#1a1a1a;
background:#fff;margin:0;padding:16px 20px;max-width:1000px}
h1{font-size:1.35rem;margin:0 0 4px}h2{font-size:1.1rem;margin:24px 0 6px;border-top:1px solid #ccc;
padding-top:12px}h3{font-size:1rem;margin:14px 0 4px}
table{border-collapse:collapse;margin:6px 0}th,td{text-align:left;padding:3px 10px 3px 0;
border-bottom:1px solid #ddd;vertical-align:top}td.n{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;border:1px solid}
.good{color:#1b5e20;border-color:#1b5e20;background:#e8f5e9}.bad{color:#8b0000;border-color:#8b0000;
background:#fdecea}.neutral{color:#3a3a3a;border-color:#6b6b6b;background:#f1f1f1}
.muted{color:#555}svg{max-width:100%;height:auto;display:block;margin:6px 0}
svg text{font:12px system-ui,sans-serif;fill:#1a1a1a}
details summary{cursor:pointer;margin:6px 0}
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _num(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "?"
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _pct(value: object, digits: int = 2) -> str:
    number = _num(value)
    return "–" if number is None else f"{number * 100:.{digits}f}%"


def _list(value: object) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _map(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


# ---- the traffic story ----------------------------------------------------------------------


def stage_spans(rollout: Mapping[str, Any], now: float) -> list[dict[str, Any]]:
    """The stages as they happened: [{stage, weight, start, end, planned_hours, ended_by}]."""
    plan = [_map(stage) for stage in _list(rollout.get("plan"))]
    start = _num(rollout.get("started_at"))
    if start is None or not plan:
        return []
    spans: list[dict[str, Any]] = []
    index = 0
    current = {"stage": 1, "weight": _num(plan[0].get("weight")) or 0.0, "start": start}
    for event in _list(rollout.get("history")):
        event = _map(event)
        action, at = str(event.get("action", "")), _num(event.get("at"))
        if at is None:
            continue
        if action in NEXT_STAGE and index + 1 < len(plan):
            spans.append({**current, "end": at, "ended_by": action})
            index += 1
            current = {"stage": index + 1, "weight": _num(plan[index].get("weight")) or 0.0, "start": at}
        elif action in TO_FULL | TO_ZERO:
            spans.append({**current, "end": at, "ended_by": action})
            current = {}
            break
    if current:
        spans.append({**current, "end": max(now, current["start"]), "ended_by": "(running)"})
    for span in spans:
        planned = _num(plan[span["stage"] - 1].get("bake_hours")) if span["stage"] <= len(plan) else None
        span["planned_hours"] = planned
    return spans


def share_points(rollout: Mapping[str, Any], spans: Sequence[Mapping[str, Any]]) -> list[tuple[float, float]]:
    """(time, candidate share) at every change, from the stage spans and the final outcome."""
    points: list[tuple[float, float]] = []
    for span in spans:
        points.append((span["start"], span["weight"]))
    if spans:
        last = spans[-1]
        ended_by = last.get("ended_by")
        if ended_by in TO_FULL:
            points.append((last["end"], 1.0))
        elif ended_by in TO_ZERO:
            points.append((last["end"], 0.0))
        else:
            points.append((last["end"], last["weight"]))
    return points


# ---- SVG ------------------------------------------------------------------------------------

WIDTH, LEFT, RIGHT = 900, 70, 20
COLORS = ["#1f5fbf", "#a34f00", "#2e7d32", "#7b1fa2", "#00695c"]


def _x(at: float, start: float, end: float) -> float:
    span = max(end - start, 1.0)
    return LEFT + (at - start) / span * (WIDTH - LEFT - RIGHT)


def timeline_svg(spans: Sequence[Mapping[str, Any]]) -> str:
    if not spans:
        return '<p class="muted">No stage timeline: the rollout has no start time or plan.</p>'
    start, end = spans[0]["start"], max(span["end"] for span in spans)
    height = 40 + 34 * len(spans)
    parts = [f'<svg role="img" aria-label="Stage timeline" viewBox="0 0 {WIDTH} {height}" class="timeline">']
    for row, span in enumerate(spans):
        y = 10 + row * 34
        x0, x1 = _x(span["start"], start, end), _x(span["end"], start, end)
        color = COLORS[row % len(COLORS)]
        planned = span.get("planned_hours")
        if planned:
            xp = _x(span["start"] + planned * 3600, start, end)
            parts.append(
                f'<rect x="{x0:.1f}" y="{y}" width="{max(xp - x0, 1):.1f}" height="22" fill="none" '
                f'stroke="{color}" stroke-dasharray="4 3"/>'
            )
        parts.append(
            f'<rect class="stage-bar" x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 2):.1f}" height="22" '
            f'fill="{color}" fill-opacity="0.85"><title>stage {span["stage"]}: {_pct(span["weight"], 0)} '
            f"from {_e(_when(span['start']))} to {_e(_when(span['end']))} "
            f"({_e(span.get('ended_by'))})</title></rect>"
        )
        parts.append(f'<text x="4" y="{y + 16}">stage {span["stage"]}</text>')
        hours = (span["end"] - span["start"]) / 3600
        label = f"{_pct(span['weight'], 0)} · {hours:.1f} h · {span.get('ended_by')}"
        parts.append(f'<text x="{min(x0 + 4, WIDTH - 240):.1f}" y="{y + 16}" fill="#fff">{_e(label)}</text>')
    axis_y = height - 12
    parts.append(f'<text x="{LEFT}" y="{axis_y}">{_e(_when(start))}</text>')
    parts.append(f'<text x="{WIDTH - RIGHT}" y="{axis_y}" text-anchor="end">{_e(_when(end))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def share_svg(points: Sequence[tuple[float, float]], stable: str, candidate: str) -> str:
    if len(points) < 2:
        return '<p class="muted">No traffic history yet.</p>'
    height, top, bottom = 220, 12, 30
    start, end = points[0][0], points[-1][0]

    def y(share: float) -> float:
        return top + (1 - share) * (height - top - bottom)

    path: list[str] = []
    for i, (at, share) in enumerate(points):
        x = _x(at, start, end)
        if i == 0:
            path.append(f"M{x:.1f},{y(share):.1f}")
        else:
            path.append(f"H{x:.1f}V{y(share):.1f}")
    line = "".join(path)
    area = f"{line}V{y(0):.1f}H{_x(start, start, end):.1f}Z"
    parts = [
        f'<svg role="img" aria-label="Traffic share per version over time" viewBox="0 0 {WIDTH} {height}" '
        'class="share">',
        f'<rect x="{LEFT}" y="{top}" width="{WIDTH - LEFT - RIGHT}" height="{height - top - bottom}" '
        'fill="#9e9e9e" fill-opacity="0.35"><title>stable</title></rect>',
        f'<path class="candidate-share" d="{area}" fill="#1f5fbf" fill-opacity="0.8">'
        f"<title>candidate v{_e(candidate)}</title></path>",
    ]
    for share in (0.0, 0.5, 1.0):
        parts.append(f'<text x="{LEFT - 6}" y="{y(share) + 4:.1f}" text-anchor="end">{share:.0%}</text>')
    parts.append(f'<text x="{LEFT}" y="{height - 8}">{_e(_when(start))}</text>')
    parts.append(f'<text x="{WIDTH - RIGHT}" y="{height - 8}" text-anchor="end">{_e(_when(end))}</text>')
    parts.append("</svg>")
    legend = (
        '<p><span class="badge" style="color:#fff;background:#1f5fbf;border-color:#1f5fbf">'
        f"candidate v{_e(candidate)}"
        f'</span> <span class="badge neutral">stable v{_e(stable)}</span></p>'
    )
    return legend + "".join(parts)


def error_rate_svg(report: Mapping[str, Any]) -> str:
    """Both versions' error rates as bars with their intervals as whiskers."""
    sides = [("candidate", _map(report.get("candidate"))), ("stable", _map(report.get("stable")))]
    values = [
        (label, _num(side.get("error_rate")), _list(side.get("error_rate_interval"))) for label, side in sides
    ]
    highs = [_num(iv[1]) for _, _, iv in values if len(iv) == 2] + [v for _, v, _ in values if v is not None]
    top = max([h for h in highs if h is not None] + [1e-6]) * 1.15
    width, row = 600, 30
    parts = [
        f'<svg role="img" aria-label="Error rate per version" viewBox="0 0 {width} {row * 2 + 24}" '
        'class="ab-chart">'
    ]
    scale = (width - 200) / top
    for i, (label, value, interval) in enumerate(values):
        y = 6 + i * row
        parts.append(f'<text x="0" y="{y + 15}">{label}</text>')
        if value is None:
            parts.append(f'<text x="90" y="{y + 15}">no data</text>')
            continue
        color = "#1f5fbf" if label == "candidate" else "#757575"
        parts.append(f'<rect x="90" y="{y}" width="{max(value * scale, 1):.1f}" height="20" fill="{color}"/>')
        if len(interval) == 2 and _num(interval[0]) is not None and _num(interval[1]) is not None:
            low, high = 90 + (_num(interval[0]) or 0) * scale, 90 + (_num(interval[1]) or 0) * scale
            parts.append(
                f'<path d="M{low:.1f},{y + 10}H{high:.1f}'
                f'M{low:.1f},{y + 4}V{y + 16}M{high:.1f},{y + 4}V{y + 16}" '
                'stroke="#1a1a1a" stroke-width="1.5"/>'
            )
        parts.append(f'<text x="{width - 100}" y="{y + 15}">{_pct(value, 3)}</text>')
    parts.append(
        f'<text x="90" y="{row * 2 + 20}" class="muted">bars: error rate; whiskers: 95% interval</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


# ---- tables ---------------------------------------------------------------------------------


def _table(headers: Iterable[str], rows: Iterable[Iterable[str]], css: str = "") -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(rows_cell for rows_cell in row) + "</tr>" for row in rows)
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _td(value: object, numeric: bool = False) -> str:
    if isinstance(value, float):
        value = f"{value:.4g}"
    return f'<td class="n">{_e(value)}</td>' if numeric else f"<td>{_e(value)}</td>"


# Names an evaluation's values have in the stored history (core.release.evaluation_history) and in
# the full Evaluation (`evidence.last`, older states): the page reads either.
EVALUATION_KEYS = {
    "e_worse": ("e_worse", "e_value_worse"),
    "e_not_worse": ("e_not_worse", "e_value_not_worse"),
    "e_ceiling": ("e_ceiling", "e_value_ceiling"),
    "latency_p": ("latency_p", "latency_p_value"),
    "latency_ratio": ("latency_ratio",),
}
# The chart's series: key, label, colour, the gate setting whose 1/alpha is its threshold, default alpha.
E_SERIES = (
    ("e_worse", "worse (fail test)", "#b00020", "alpha", 0.05),
    ("e_not_worse", "not worse (pass test)", "#1b5e20", "pass_alpha", 0.05),
    ("e_ceiling", "above the ceiling", "#a34f00", "ceiling_alpha", 0.01),
)
OUTCOME_COLOR = {"pass": "#1b5e20", "inconclusive": "#6b6b6b", "fail": "#b00020", "error": "#7b1fa2"}
# Longer evaluation tables fold into <details>.
OPEN_ROWS = 12
# Log axis bounds (decades): e-values beyond are drawn at the edge, their tooltip has the value.
MIN_DECADE, MAX_DECADE = -6, 12


def _value(item: Mapping[str, Any], key: str) -> float | None:
    for name in EVALUATION_KEYS.get(key, (key,)):
        number = _num(item.get(name))
        if number is not None:
            return number
    return None


def evaluations_of(rollout: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Gate evaluations: the history the controller keeps (`evaluations`), else the last one."""
    found = [_map(item) for item in _list(rollout.get("evaluations")) if _map(item)]
    if found:
        return sorted(found, key=lambda item: _num(item.get("at")) or 0.0)
    last = _map(_map(rollout.get("evidence")).get("last"))
    return [last] if last else []


# Short names of the thresholds, written on the chart next to their lines.
THRESHOLD_NAMES = {"e_worse": "fail", "e_not_worse": "pass", "e_ceiling": "ceiling"}


def thresholds(gates: Mapping[str, Any]) -> list[tuple[str, float, str]]:
    """(short name, e-value, colour) of each line the gates act on."""
    lines = []
    for key, _, color, setting, default in E_SERIES:
        alpha = _num(gates.get(setting)) or default
        lines.append((f"{THRESHOLD_NAMES[key]} (1/{setting})", 1 / alpha, color))
    alpha = _num(gates.get("alpha")) or 0.05
    immediate = _num(gates.get("immediate_alpha")) or alpha**2
    lines.append(("rollback at once", 1 / immediate, "#b00020"))
    return lines


def _log10(value: float) -> float:
    return math.log10(value) if value > 0 else float(MIN_DECADE)


def e_values_svg(evaluations: Sequence[Mapping[str, Any]], gates: Mapping[str, Any]) -> str:
    """The three e-values over time on a log axis, the thresholds as dashed lines, and a marker per
    evaluation coloured by its outcome."""
    timed = [(at, item) for item in evaluations if (at := _num(item.get("at"))) is not None]
    if len(timed) < 2:
        return '<p class="muted">Too few evaluations stored for a chart.</p>'
    lines = thresholds(gates)
    logs = [_log10(v) for _, item in timed for key, *_ in E_SERIES if (v := _value(item, key)) is not None]
    logs += [math.log10(value) for _, value, _ in lines]
    low = max(MIN_DECADE, min(math.floor(min(logs)), -1))
    high = min(MAX_DECADE, max(math.ceil(max(logs)), 1))
    height, top, plot_bottom, strip = 300, 12, 250, 262
    start, end = timed[0][0], timed[-1][0]

    def y(value: float) -> float:
        clamped = min(max(_log10(value), low), high)
        return top + (high - clamped) / (high - low) * (plot_bottom - top)

    parts = [
        f'<svg role="img" aria-label="E-values per evaluation, log scale" viewBox="0 0 {WIDTH} {height}" '
        'class="e-values">',
        f'<rect x="{LEFT}" y="{top}" width="{WIDTH - LEFT - RIGHT}" height="{plot_bottom - top}" '
        'fill="none" stroke="#bbb"/>',
    ]
    step = 1 if high - low <= 8 else 2
    for decade in range(low, high + 1, step):
        at_y = y(10.0**decade)
        parts.append(f'<path d="M{LEFT},{at_y:.1f}H{WIDTH - RIGHT}" stroke="#eee"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{at_y + 4:.1f}" text-anchor="end">1e{decade}</text>')
    named: dict[float, list[str]] = {}
    for label, value, color in lines:
        at_y = y(value)
        named.setdefault(value, []).append(label)
        parts.append(
            f'<path class="threshold" d="M{LEFT},{at_y:.1f}H{WIDTH - RIGHT}" stroke="{color}" '
            f'stroke-dasharray="6 4" stroke-width="1.2"><title>{_e(label)} = {value:g}</title></path>'
        )
    for value, labels in named.items():  # one label per line, thresholds that coincide share it
        parts.append(
            f'<text x="{WIDTH - RIGHT - 4}" y="{y(value) - 3:.1f}" text-anchor="end">'
            f"{_e(' / '.join(labels))} = {value:g}</text>"
        )
    for (_, before), (at, item) in itertools.pairwise(timed):
        if item.get("stage") is not None and item.get("stage") != before.get("stage"):
            x = _x(at, start, end)
            parts.append(
                f'<path class="stage-change" d="M{x:.1f},{top}V{plot_bottom}" stroke="#1a1a1a" '
                f'stroke-dasharray="2 3"><title>stage {_e(item.get("stage"))} from {_e(_when(at))}'
                "</title></path>"
            )
            # Near the right edge the label goes on the line's left, inside the chart.
            side = f'x="{x - 3:.1f}" text-anchor="end"' if x > WIDTH - RIGHT - 70 else f'x="{x + 3:.1f}"'
            parts.append(f'<text {side} y="{top + 12}">stage {_e(item.get("stage"))}</text>')
    for key, label, color, _, _ in E_SERIES:
        path: list[str] = []
        pen_up = True
        for at, item in timed:
            found = _value(item, key)
            if found is None:  # an evaluation without metrics: a gap in the line
                pen_up = True
                continue
            path.append(f"{'M' if pen_up else 'L'}{_x(at, start, end):.1f},{y(found):.1f}")
            pen_up = False
        if path:
            parts.append(
                f'<path class="e-line {key}" d="{"".join(path)}" fill="none" stroke="{color}" '
                f'stroke-width="1.6"><title>{_e(label)}</title></path>'
            )
    for at, item in timed:
        outcome = str(item.get("outcome", "?"))
        x = _x(at, start, end)
        values = ", ".join(
            f"{name} {found:.3g}" for name, *_ in E_SERIES if (found := _value(item, name)) is not None
        )
        tip = f"{_when(at)}: {outcome}" + (f" ({values})" if values else "")
        parts.append(
            f'<rect class="outcome {_e(outcome)}" x="{x - 1.5:.1f}" y="{strip}" width="3" height="12" '
            f'fill="{OUTCOME_COLOR.get(outcome, "#6b6b6b")}"><title>{_e(tip)}</title></rect>'
        )
    parts.append(f'<text x="4" y="{strip + 10}">outcome</text>')
    parts.append(f'<text x="{LEFT}" y="{height - 6}">{_e(_when(start))}</text>')
    parts.append(f'<text x="{WIDTH - RIGHT}" y="{height - 6}" text-anchor="end">{_e(_when(end))}</text>')
    parts.append("</svg>")
    legend = (
        " ".join(
            f'<span class="badge" style="color:{color};border-color:{color}">{_e(label)}</span>'
            for _, label, color, _, _ in E_SERIES
        )
        + " "
        + " ".join(
            f'<span class="badge" style="color:#fff;background:{color};border-color:{color}">'
            f"{_e(name)}</span>"
            for name, color in OUTCOME_COLOR.items()
        )
    )
    note = (
        '<p class="muted">E-values on a log scale; dashed: the thresholds (1/alpha) at which a test '
        "decides; dotted: a new stage; the strip below marks each stored evaluation's outcome.</p>"
    )
    return f"<p>{legend}</p>" + "".join(parts) + note


def evaluations_html(
    evaluations: Sequence[Mapping[str, Any]],
    evidence: Mapping[str, Any],
    gates: Mapping[str, Any] | None = None,
) -> str:
    count = evidence.get("evaluations")
    note = ""
    if isinstance(count, int) and count > len(evaluations):
        # The controller keeps every change of outcome, every fail and one evaluation an hour
        # (core.release.evaluation_history); older states only the latest one.
        note = (
            f'<p class="muted">{count} evaluations ran; the rollout stores {len(evaluations)}: every '
            "change of outcome or stage, every fail, and one an hour otherwise.</p>"
        )
    if not evaluations:
        return note + '<p class="muted">No gate evaluation stored yet.</p>'
    rows = []
    for item in evaluations:
        outcome = str(item.get("outcome", "?"))
        badge = f'<td><span class="badge {OUTCOME_CLASS.get(outcome, "neutral")}">{_e(outcome)}</span></td>'
        stage = item.get("stage")
        rows.append(
            [
                _td(_when(_num(item.get("at")))),
                _td("–" if stage is None else stage, True),
                _td(_pct(item.get("share"), 0) if item.get("share") is not None else "–", True),
                badge,
                _td(_value(item, "e_worse"), True),
                _td(_value(item, "e_not_worse"), True),
                _td(_value(item, "e_ceiling"), True),
                _td(_value(item, "latency_p"), True),
                _td(_value(item, "latency_ratio"), True),
                _td(
                    "; ".join(str(r) for r in _list(item.get("reasons")))
                    or ("immediate" if item.get("immediate") else "")
                ),
            ]
        )
    headers = [
        "at",
        "stage",
        "share",
        "outcome",
        "e-value (worse)",
        "e-value (not worse)",
        "e-value (ceiling)",
        "latency p",
        "p95 ratio",
        "reasons",
    ]
    table = _table(headers, rows, "evaluations")
    if len(rows) > OPEN_ROWS:
        tally = ", ".join(
            f"{sum(1 for item in evaluations if item.get('outcome') == name)} {name}"
            for name in OUTCOME_COLOR
            if any(item.get("outcome") == name for item in evaluations)
        )
        table = (
            f"<details><summary>All {len(rows)} stored evaluations ({_e(tally)})</summary>{table}</details>"
        )
    return note + e_values_svg(evaluations, gates or {}) + table


def history_html(rollout: Mapping[str, Any]) -> str:
    rows = [
        [_td(_when(_num(_map(e).get("at")))), _td(_map(e).get("action")), _td(_map(e).get("detail"))]
        for e in _list(rollout.get("history"))
    ]
    if not rows:
        return '<p class="muted">No transitions recorded.</p>'
    return _table(["at", "action", "detail"], rows, "history")


def report_html(report: Mapping[str, Any], number: int) -> str:
    verdict = str(report.get("verdict") or "")
    text = str(report.get("verdict_text") or verdict or "no verdict in this report")
    css = VERDICT_CLASS.get(verdict, "neutral")
    sides = [("candidate", _map(report.get("candidate"))), ("stable", _map(report.get("stable")))]
    rows = []
    for label, side in sides:
        interval = _list(side.get("error_rate_interval"))
        rows.append(
            [
                _td(f"{label} v{side.get('version', '?')}"),
                _td(side.get("requests"), True),
                _td(side.get("errors"), True),
                _td(_pct(side.get("error_rate"), 3), True),
                _td(f"{_pct(interval[0], 3)} – {_pct(interval[1], 3)}" if len(interval) == 2 else "–", True),
                _td(side.get("p50_ms", "–"), True),
                _td(side.get("p95_ms", "–"), True),
            ]
        )
    difference = _map(report.get("difference"))
    diff_interval = _list(difference.get("interval"))
    tests = []
    if difference:
        tests.append(
            f"<li>difference in error rate {_pct(difference.get('error_rate'), 3)}"
            + (
                f" (95% {_pct(diff_interval[0], 3)} to {_pct(diff_interval[1], 3)})"
                if len(diff_interval) == 2
                else ""
            )
            + (
                f"; could detect {_e(difference.get('detectable_pp'))} pp"
                if difference.get("detectable_pp") is not None
                else ""
            )
            + "</li>"
        )
    elif report.get("error_rate_delta") is not None:
        tests.append(f"<li>difference in error rate {_pct(report.get('error_rate_delta'), 3)}</li>")
    for key in ("error_test", "latency_test"):
        test = _map(report.get(key))
        if test:
            values = ", ".join(f"{_e(k)} {_e(v)}" for k, v in test.items() if k != "name")
            tests.append(f"<li>{_e(test.get('name', key))}: {values}</li>")
    if report.get("p95_ratio") is not None:
        tests.append(f"<li>p95 ratio candidate/stable {_e(report.get('p95_ratio'))}</li>")
    window = f"{_e(report.get('window_start', '?'))} .. {_e(report.get('window_end', '?'))}"
    return (
        f'<section class="ab-report"><h3>A/B report {number}: stage {_e(report.get("stage", "?"))} at '
        f"{_pct(report.get('stage_weight'), 0)}, ended by {_e(report.get('ended_by', '?'))}</h3>"
        f'<p>Verdict: <span class="badge verdict {css}">{_e(text)}</span></p>'
        f'<p class="muted">window {window} ({_e(report.get("window_hours", "?"))} h)</p>'
        + _table(
            ["version", "requests", "errors", "error rate", "95% interval", "p50 ms", "p95 ms"],
            rows,
            "ab-sides",
        )
        + error_rate_svg(report)
        + (f"<ul>{''.join(tests)}</ul>" if tests else "")
        + "</section>"
    )


def render_html(rollout: Mapping[str, Any], now: float | None = None) -> str:
    """The whole page. `now` ends a running stage's bar (default: the current time)."""
    moment = dt.datetime.now(dt.UTC).timestamp() if now is None else now
    spans = stage_spans(rollout, moment)
    points = share_points(rollout, spans)
    stable, candidate = rollout.get("stable_version", "?"), rollout.get("candidate_version", "?")
    reports = [_map(r) for r in _list(rollout.get("reports")) if _map(r)]
    title = f"Rollout of {rollout.get('function_name', '?')}:{rollout.get('alias', 'live')}"
    status = str(rollout.get("status", "?"))
    status_css = {"completed": "good", "rolled_back": "bad", "drifted": "bad"}.get(status, "neutral")
    ab = (
        "".join(report_html(r, i + 1) for i, r in enumerate(reports))
        or '<p class="muted">No A/B report yet.</p>'
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{_e(title)}</h1>"
        f"<p>stable v{_e(stable)} → candidate v{_e(candidate)} · status "
        f'<span class="badge status {status_css}">'
        f"{_e(status)}</span> · started {_e(_when(_num(rollout.get('started_at'))))}"
        f" · revision {_e(rollout.get('revision', '?'))}</p>"
        + (f"<p>Last: {_e(rollout.get('reason'))}</p>" if rollout.get("reason") else "")
        + "<h2>Stage timeline</h2>"
        + '<p class="muted">Filled: how long each stage ran; dashed: its planned bake.</p>'
        + timeline_svg(spans)
        + "<h2>Traffic share per version</h2>"
        + share_svg(points, str(stable), str(candidate))
        + "<h2>Gate results per evaluation</h2>"
        + evaluations_html(evaluations_of(rollout), _map(rollout.get("evidence")), _map(rollout.get("gates")))
        + "<h2>A/B reports</h2>"
        + ab
        + "<h2>History</h2>"
        + history_html(rollout)
        + f'<p class="muted">Generated {_e(_when(moment))} by scripts/release_report.py.</p>'
        + "</body></html>"
    )


def write_html(rollout: Mapping[str, Any], path: str | Path, now: float | None = None) -> Path:
    target = Path(path)
    target.write_text(render_html(rollout, now), encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render a stored rollout (JSON) as one HTML page.")
    parser.add_argument("rollout", help="the rollout as JSON (a file, or - for standard input)")
    parser.add_argument("--out", required=True, help="the HTML file to write")
    options = parser.parse_args(argv)
    text = sys.stdin.read() if options.rollout == "-" else Path(options.rollout).read_text(encoding="utf-8")
    try:
        rollout = json.loads(text)
    except json.JSONDecodeError as exc:
        print(f"error: {options.rollout} is not JSON: {exc}", file=sys.stderr)
        return 2
    if not isinstance(rollout, dict):
        print("error: the rollout must be a JSON object", file=sys.stderr)
        return 2
    print(write_html(rollout, options.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
