"""The playground in a real browser (headless Chromium) against the e2e stack (local server +
DynamoDB Local): what a person sees after typing a message, building a key and chatting, and
that the page stays on its own origin without console errors. Expected values come from the
API itself, so the tests check the page against the service, not against numbers written here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.e2e.chromium import DOCS, UPDATE_SCREENSHOTS, png_size

pytestmark = pytest.mark.timeout(300)

KOREAN = "배포가 또 실패했어요!! 너무 답답해요. 어떻게 해야 하죠??"
ENGLISH = "Could you walk me through how consistent hashing works? I want to understand it properly."
WAIT_MS = 30_000


class PageWatch:
    """Every request the page makes and every console error or uncaught exception it logs."""

    def __init__(self, page: Any) -> None:
        self.requests: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on(
            "response",
            lambda response: (
                response.status >= 400 and self.errors.append(f"{response.status} {response.url}")
            ),
        )


@pytest.fixture
def opened(browser: Any, base_url: str) -> Iterator[tuple[Any, PageWatch]]:
    context = browser.new_context(
        viewport={"width": 375, "height": 900}, extra_http_headers={"Accept-Language": "en-US,en;q=0.9"}
    )
    page = context.new_page()
    watch = PageWatch(page)
    page.goto(base_url + "/playground")
    page.wait_for_selector("body[data-ready=true]", timeout=WAIT_MS)
    page.wait_for_selector("#catalog-cards .card", timeout=WAIT_MS)
    try:
        yield page, watch
    finally:
        own = urlsplit(base_url)
        outside = [url for url in watch.requests if urlsplit(url)[:2] != own[:2]]
        assert outside == [], f"requests outside the page's origin: {outside}"
        assert watch.errors == [], f"console errors: {watch.errors}"
        context.close()


def _api(http: requests.Session, base_url: str, path: str, body: dict[str, Any]) -> requests.Response:
    return http.post(base_url + path, json=body, timeout=30)


def _route_message(page: Any, message: str) -> None:
    page.fill("#message", message)
    page.click("#message-form button[type=submit]")
    page.wait_for_selector("#route-result:not([hidden]) .persona-winner", timeout=WAIT_MS)


def _assert_route_rendered(page: Any, http: requests.Session, base_url: str, message: str) -> None:
    detected = _api(http, base_url, "/v1/resonance/detect", {"message": message}).json()
    routed = _api(http, base_url, "/v1/route", {"resonance_key": detected["resonance_key"]}).json()
    page.wait_for_function(
        "key => document.querySelector('#inferred-key')?.textContent === key", arg=detected["resonance_key"]
    )
    for part in ("tone", "pace", "intent"):
        shown = page.text_content(f"#detect-result tr[data-part={part}] td.key")
        assert shown == detected["parts"][part]["value"]
    assert page.text_content("#route-result .persona-winner") == routed["persona"]
    assert page.text_content("#route-result .persona-runner-up") == routed["secondary_persona"]
    assert page.text_content("#route-result .reasoning") == routed["reasoning"]

    rows = page.query_selector_all("#route-result .bar-row")
    assert len(rows) == len(routed["scores"]) == 4
    names = [row.get_attribute("data-persona") for row in rows]
    assert names == sorted(routed["scores"], key=lambda name: (-routed["scores"][name], name))
    for row in rows:
        name = row.get_attribute("data-persona")
        track = row.query_selector(".bar-track").bounding_box()
        fill = row.query_selector(".bar-fill").bounding_box()
        assert track and fill and track["width"] > 0
        # The bar's width is the score (share of the track), within a pixel or two of rounding.
        assert abs(fill["width"] / track["width"] - routed["scores"][name]) < 0.02, name
        segments = {s.get_attribute("data-part") for s in row.query_selector_all(".seg")}
        expected = {part for part, value in routed["breakdown"][name].items() if value > 0}
        assert segments == expected, name


def test_korean_message_shows_key_winner_and_score_bars(
    opened: Any, http: requests.Session, base_url: str
) -> None:
    page, _ = opened
    _route_message(page, KOREAN)
    _assert_route_rendered(page, http, base_url, KOREAN)


def test_english_message_shows_key_winner_and_score_bars(
    opened: Any, http: requests.Session, base_url: str
) -> None:
    page, _ = opened
    _route_message(page, ENGLISH)
    _assert_route_rendered(page, http, base_url, ENGLISH)


def test_misspelled_key_shows_each_correction(opened: Any, http: requests.Session, base_url: str) -> None:
    page, _ = opened
    key = "Frustrated_Brust_Seeking-Advice"
    page.fill("#key-text", key)
    page.press("#key-text", "Enter")  # keyboard only: Enter submits the form
    page.wait_for_selector("#corrections .correction", timeout=WAIT_MS)
    expected = _api(http, base_url, "/v1/route", {"resonance_key": key}).json()
    shown = [
        (li.get_attribute("data-rule"), li.text_content()) for li in page.query_selector_all(".correction")
    ]
    assert [rule for rule, _ in shown] == [c["rule"] for c in expected["resonance"]["corrections"]]
    assert "typo" in [rule for rule, _ in shown]
    for (_, text), correction in zip(shown, expected["resonance"]["corrections"], strict=True):
        assert correction["input"] in text and correction["resolved"] in text
    assert page.text_content("#key-result .persona-winner") == expected["persona"]


def test_bad_key_shows_the_422_suggestions_and_a_suggestion_fixes_it(
    opened: Any, http: requests.Session, base_url: str
) -> None:
    page, _ = opened
    key = "banana-burst-advice"
    answer = _api(http, base_url, "/v1/route", {"resonance_key": key})
    assert answer.status_code == 422
    details = answer.json()["error"]["details"]
    page.fill("#key-text", key)
    page.press("#key-text", "Enter")
    page.wait_for_selector("#key-problems .key-problem", timeout=WAIT_MS)
    for detail in details:
        item = page.query_selector(f"#key-problems .key-problem[data-part={detail['part']}]")
        assert item is not None
        offered = [b.text_content() for b in item.query_selector_all("button.suggestion")]
        assert offered == detail["suggestions"] and offered
    # Keyboard only: focus the first suggestion, press Enter, then submit again.
    first = page.query_selector("#key-problems button.suggestion")
    first.focus()
    page.keyboard.press("Enter")
    assert page.input_value("#key-text").startswith(details[0]["suggestions"][0])
    page.press("#key-text", "Enter")
    page.wait_for_selector("#key-result .persona-winner", timeout=WAIT_MS)


def test_chat_turn_appears_in_the_transcript_with_persona_key_and_prompt(opened: Any) -> None:
    page, _ = opened
    session = page.text_content("#session-id")
    assert session and session.startswith("pg-")
    page.fill("#chat-message", "I can't decide how to plan next week's release. Any advice?")
    page.click("#chat-form button[type=submit]")
    page.wait_for_selector("#transcript .turn-reply", timeout=WAIT_MS)
    reply = page.query_selector("#transcript .turn-reply")
    persona = reply.get_attribute("data-persona")
    cards = [c.get_attribute("data-persona") for c in page.query_selector_all("#catalog-cards .card")]
    assert persona in cards
    assert reply.query_selector(".turn-persona").text_content() == persona
    key = reply.query_selector(".turn-key").text_content()
    assert key and key.count("-") == 2
    # Local backend is `none`: the built prompt is shown in a collapsible block.
    details = reply.query_selector("details.turn-prompt")
    assert details is not None and details.get_attribute("open") is None
    details.query_selector("summary").click()
    assert "next week" in details.text_content()
    # A second turn in the same session keeps the session id and adds to the transcript.
    page.fill("#chat-message", "Thanks. And who should I tell first?")
    page.click("#chat-form button[type=submit]")
    page.wait_for_function("() => document.querySelectorAll('#transcript .turn-reply').length === 2")
    assert page.text_content("#session-id") == session


def test_catalog_cards_language_toggle_and_narrow_layout(
    opened: Any, http: requests.Session, base_url: str
) -> None:
    page, _ = opened
    personas = http.get(base_url + "/v1/personas", timeout=30).json()["personas"]
    cards = page.query_selector_all("#catalog-cards .card")
    assert sorted(c.get_attribute("data-persona") for c in cards) == sorted(p["name"] for p in personas)
    page.wait_for_function("() => document.querySelectorAll('#catalog-cards .aff li').length >= 4 * 19")
    # Accept-Language en picked English; the toggle switches to Korean and back.
    assert page.get_attribute("html", "lang") == "en"
    assert page.text_content("#try-title") == "Send a message"
    page.focus("#lang-toggle")
    page.keyboard.press("Enter")
    assert page.get_attribute("html", "lang") == "ko"
    assert page.text_content("#try-title") == "메시지 보내기"
    page.keyboard.press("Enter")
    assert page.get_attribute("html", "lang") == "en"
    # 375 px wide: nothing scrolls sideways.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375


def test_korean_accept_language_serves_korean(browser: Any, base_url: str) -> None:
    context = browser.new_context(extra_http_headers={"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.5"})
    try:
        page = context.new_page()
        page.goto(base_url + "/playground")
        page.wait_for_selector("body[data-ready=true]", timeout=WAIT_MS)
        assert page.get_attribute("html", "lang") == "ko"
        assert page.text_content("#builder-title") == "키 만들기"
    finally:
        context.close()


def test_screenshot_of_the_playground(opened: Any, tmp_path: Any) -> None:
    """docs/playground.png: rewritten by `make screenshots` (UPDATE_SCREENSHOTS=1)."""
    page, _ = opened
    page.set_viewport_size({"width": 1100, "height": 1350})
    _route_message(page, KOREAN)
    target = DOCS / "playground.png" if UPDATE_SCREENSHOTS else tmp_path / "playground.png"
    page.screenshot(path=str(target), full_page=False)
    width, height = png_size(target.read_bytes())
    assert (width, height) == (1100, 1350)
