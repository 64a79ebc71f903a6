"""The release page (scripts/release_report.py) from rollouts stored by the real controller."""

from __future__ import annotations

import math
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from scripts.release_report import OPEN_ROWS, main, render_html, stage_spans
from tests.release_rollout import baked_rollout


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Collect()
    parser.feed(page)
    return parser.tags


def test_completed_bake_renders_timeline_share_gates_and_ab_verdict() -> None:
    rollout = baked_rollout()
    assert rollout["status"] == "completed" and rollout["reports"]
    page = render_html(rollout, now=rollout["history"][-1]["at"])
    tags = _tags(page)
    # One timeline bar per stage that ran, the share chart, the A/B chart: all inline SVG.
    bars = [a for t, a in tags if t == "rect" and "stage-bar" in (a.get("class") or "")]
    assert len(bars) == len(stage_spans(rollout, rollout["history"][-1]["at"])) == len(rollout["plan"])
    assert any(t == "path" and "candidate-share" in (a.get("class") or "") for t, a in tags)
    assert sum(1 for t, a in tags if t == "svg" and a.get("class") == "ab-chart") == len(rollout["reports"])
    report = rollout["reports"][-1]
    assert f">{report['verdict_text']}<" in page
    assert str(report["candidate"]["requests"]) in page and str(report["stable"]["requests"]) in page
    last = rollout["evidence"]["last"]
    assert f">{last['outcome']}<" in page
    # Self-contained: nothing is loaded from anywhere, no script at all.
    assert not any(t in ("script", "link", "img", "iframe") for t, _ in tags)
    assert not re.search(r"(src|href)=\"?https?:", page)


def test_the_page_charts_and_tables_every_stored_evaluation() -> None:
    rollout = baked_rollout()
    stored = rollout["evaluations"]
    assert len(stored) > OPEN_ROWS and rollout["reports"]
    page = render_html(rollout, now=rollout["history"][-1]["at"])
    tags = _tags(page)
    assert any(t == "svg" and a.get("class") == "e-values" for t, a in tags)
    lines = [a for t, a in tags if t == "path" and "e-line" in (a.get("class") or "")]
    assert len(lines) == 3
    # One outcome marker and one table row per stored evaluation, the table folded away.
    markers = [a for t, a in tags if t == "rect" and (a.get("class") or "").startswith("outcome ")]
    assert [(m.get("class") or "").split()[1] for m in markers] == [e["outcome"] for e in stored]
    table = page[page.index('<table class="evaluations">') :]
    table = table[: table.index("</table>")]
    assert table.count("<tr>") == len(stored) + 1
    assert page.index("<details><summary>All ") < page.index('<table class="evaluations">')
    assert f"All {len(stored)} stored evaluations" in page
    # The thresholds on a log axis: 20 (1/alpha), 100 (1/ceiling_alpha), 400 (1/alpha^2) are spaced
    # by log(5) and log(4), whatever the pixels.
    heights = {}
    for t, a in tags:
        if t == "path" and a.get("class") == "threshold":
            match = re.match(r"M[\d.]+,([\d.]+)H", a.get("d") or "")
            assert match
            heights[round(float(match.group(1)), 1)] = True
    y20, y100, y400 = sorted(heights, reverse=True)
    assert (y20 - y100) / (y100 - y400) == pytest.approx(math.log(5) / math.log(4), rel=0.02)
    # Each e-value line passes through the point of the last evaluation.
    worse = next(a for a in lines if "e_worse" in (a.get("class") or ""))
    last_y = float((worse.get("d") or "").rsplit(",", 1)[1])
    span = y20 - y100
    expected = y20 - span * math.log(stored[-1]["e_worse"] / 20) / math.log(5)
    assert last_y == pytest.approx(expected, abs=1.0)


def test_rollback_shows_share_back_to_zero_and_the_rollback() -> None:
    rollout = baked_rollout(candidate_error_rate=0.05, days=3)
    assert rollout["status"] == "rolled_back"
    page = render_html(rollout, now=rollout["history"][-1]["at"])
    assert 'class="badge status bad"' in page and "rolled_back" in page
    # Few evaluations: the table is open, the fails show their reasons.
    assert "<details>" not in page and 'class="badge bad">fail<' in page
    assert "error rate higher than stable" in page
    share = next(a for t, a in _tags(page) if t == "path" and "candidate-share" in (a.get("class") or ""))
    # The share line's last step is the chart's bottom (0%), where the area closes: the candidate
    # lost all traffic. A completed bake ends at the top (100%) instead.
    assert re.search(r"V(\d+\.\d)V\1H", share.get("d") or "")
    completed = render_html(baked_rollout(), now=None)
    done = next(a for t, a in _tags(completed) if t == "path" and "candidate-share" in (a.get("class") or ""))
    assert not re.search(r"V(\d+\.\d)V\1H", done.get("d") or "")


def test_missing_fields_still_render() -> None:
    page = render_html({"function_name": "api"}, now=0)
    assert "No stage timeline" in page and "No A/B report yet" in page


def test_cli_writes_the_page(tmp_path: Path) -> None:
    import json

    source = tmp_path / "rollout.json"
    source.write_text(json.dumps(baked_rollout()), encoding="utf-8")
    out = tmp_path / "report.html"
    assert main([str(source), "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("<!doctype html>")
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    assert main([str(bad), "--out", str(out)]) == 2
