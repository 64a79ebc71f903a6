"""Opt-in X-Ray annotations: nothing is imported or recorded unless enabled."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Any

import pytest

from handlers.common import tracing


class FakeSubsegment:
    def __init__(self) -> None:
        self.annotations: dict[str, str] = {}

    def put_annotation(self, key: str, value: str) -> None:
        self.annotations[key] = value


class FakeProvider:
    def __init__(self) -> None:
        self.names: list[str] = []
        self.subsegment = FakeSubsegment()

    @contextmanager
    def in_subsegment(self, name: str) -> Any:
        self.names.append(name)
        yield self.subsegment


class FakeTracer:
    def __init__(self) -> None:
        self.provider = FakeProvider()


def test_disabled_by_default_and_sdk_not_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tracing, "ENABLED", False)
    with tracing.traced_request("/v1/route"):
        tracing.annotate(persona="Lua")
    assert "aws_xray_sdk" not in sys.modules or tracing.tracer.cache_info().currsize == 0


def test_enabled_annotates_inside_a_subsegment(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeTracer()
    monkeypatch.setattr(tracing, "ENABLED", True)
    monkeypatch.setattr(tracing, "tracer", lambda: fake)
    with tracing.traced_request("/v1/route"):
        tracing.annotate(persona="Lua", resonance_key="frustrated-burst-seek_advice")
    assert fake.provider.names == ["## /v1/route"]
    assert fake.provider.subsegment.annotations == {
        "persona": "Lua",
        "resonance_key": "frustrated-burst-seek_advice",
    }
    # Outside a request there is nothing to annotate, and nothing fails.
    tracing.annotate(persona="Elro")
    assert fake.provider.subsegment.annotations["persona"] == "Lua"


def test_trace_names_behind_the_catch_all_are_known_routes_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from handlers.api import app
    from handlers.common.app import _trace_name

    monkeypatch.setattr(tracing, "ENABLED", True)
    proxy = "/{proxy+}"
    assert _trace_name(app, {"resource": proxy, "path": "/v1/route"}) == "/v1/route"
    # A client-chosen path never becomes a trace name (unbounded cardinality).
    assert _trace_name(app, {"resource": proxy, "path": "/no/such/path"}) == proxy
    assert _trace_name(app, {"resource": "/v1/chat", "path": "/v1/chat"}) == "/v1/chat"
    monkeypatch.setattr(tracing, "ENABLED", False)
    assert _trace_name(app, {"resource": proxy, "path": "/v1/route"}) == proxy
