"""The release page in a real browser: a rollout baked by the real controller, rendered by
scripts/release_report.py, opened from a file. Also checks the README's screenshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scripts.release_report import write_html
from tests.e2e.chromium import DOCS, UPDATE_SCREENSHOTS, png_size
from tests.release_rollout import baked_rollout

pytestmark = pytest.mark.timeout(300)


def test_release_page_renders_charts_and_verdict_in_chromium(browser: Any, tmp_path: Path) -> None:
    rollout = baked_rollout()
    page_file = write_html(rollout, tmp_path / "release.html", now=rollout["history"][-1]["at"])
    context = browser.new_context(viewport={"width": 1000, "height": 1400})
    page = context.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(page_file.as_uri())
        bars = page.query_selector_all("svg.timeline rect.stage-bar")
        assert len(bars) == len(rollout["plan"])
        widths = [bar.bounding_box()["width"] for bar in bars]
        # Stage 2 (14 days) ran twice as long as stage 1 (7 days): the bars say so.
        assert widths[1] == pytest.approx(2 * widths[0], rel=0.05)
        assert page.query_selector("svg.share path.candidate-share").bounding_box()["height"] > 50
        verdict = page.text_content(".ab-report .verdict")
        assert verdict == rollout["reports"][-1]["verdict_text"]
        badges = page.query_selector_all("table.evaluations .badge")
        assert len(badges) == len(rollout["evaluations"])
        assert badges[-1].text_content() == rollout["evidence"]["last"]["outcome"]
        # The e-value chart is drawn; the long table starts folded away and opens on a click.
        assert page.query_selector("svg.e-values").bounding_box()["height"] > 100
        assert not page.is_visible("table.evaluations")
        page.click("details summary")
        assert page.is_visible("table.evaluations")
        if UPDATE_SCREENSHOTS:
            page.screenshot(path=str(DOCS / "release-report.png"))
    finally:
        context.close()
    assert requests == [page_file.as_uri()]
    assert errors == []


@pytest.mark.parametrize("name", ["playground.png", "release-report.png"])
def test_readme_screenshots_are_non_empty_pngs(name: str) -> None:
    """`make screenshots` rewrites them from the browser tests above and in test_playground.py."""
    data = (DOCS / name).read_bytes()
    width, height = png_size(data)
    assert width >= 800 and height >= 600 and len(data) > 10_000
    assert name in (DOCS.parent / "README.md").read_text(encoding="utf-8")
