"""An old v2 client, written the way the replaced service's Python example was: a plain
requests.Session, JSON bodies, no knowledge of the new API. It must run unchanged."""

from __future__ import annotations

from typing import Any

import requests


class OldPersonaClient:
    """What the old example did: process with a structured key, recommend, persona info, stats."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/") + "/api/v2"
        self.session = requests.Session()
        self.session.headers.update({"Content-Type": "application/json"})

    def process(self, text: str, tone: str, pace: str, intent: str, **context: Any) -> dict[str, Any]:
        body = {
            "user_input": text,
            "resonance_key": {"tone": tone, "pace": pace, "intent": intent},
            "context": context or None,
            "include_metadata": True,
        }
        response = self.session.post(f"{self.base}/process", json=body, timeout=10)
        response.raise_for_status()
        return dict(response.json())

    def recommend(self, scenario: str) -> dict[str, Any]:
        response = self.session.post(f"{self.base}/recommend", json={"scenario": scenario}, timeout=10)
        response.raise_for_status()
        return dict(response.json())

    def persona_info(self, name: str) -> dict[str, Any]:
        response = self.session.get(f"{self.base}/personas/{name}", timeout=10)
        response.raise_for_status()
        return dict(response.json())

    def cache_stats(self) -> dict[str, Any]:
        response = self.session.get(f"{self.base}/cache-stats", timeout=10)
        response.raise_for_status()
        return dict(response.json())


def test_the_old_v2_example_flow_runs_unchanged(base_url: str) -> None:
    client = OldPersonaClient(base_url)

    result = client.process(
        "I have been stuck on this bug all day and nothing works",
        tone="frustrated",
        pace="burst",
        intent="seeking_advice",
        user_id="user-123",
        session_id="old-client-session",
    )
    assert result["success"] is True
    assert result["persona_used"] == "Lua"
    assert result["resonance_key"] == "frustrated-burst-seek_advice"
    assert result["content"] is None  # no model backend locally, exactly like /v1/chat
    print_scores = result["routing"]["scores"]
    assert set(print_scores) == {"lua", "elro", "riri", "nana"}
    assert result["performance"]["execution_time_ms"] >= 0

    recommendation = client.recommend("I need to plan the team's release schedule and tell everyone")
    assert recommendation["recommended_persona"] in {"Lua", "Elro", "Riri", "Nana"}
    assert recommendation["capabilities"]["name"] == recommendation["recommended_persona"]

    info = client.persona_info("lua")
    assert info["name"] == "Lua" and info["traits"] and "frustrated" in info["best_for_tones"]

    stats = client.cache_stats()
    assert 0.0 <= stats["hit_rate"] <= 1.0
