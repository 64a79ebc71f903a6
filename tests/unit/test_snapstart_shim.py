"""The SnapStart hook registry: Lambda's order (before-snapshot hooks in reverse order of
registration, after-restore hooks in order), registration with the runtime's
`snapshot_restore_py` when it exists, and a local registry the tests can trigger when it does not."""

from __future__ import annotations

import importlib.util
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

MODULE_PATH = Path(__file__).resolve().parents[2] / "src" / "handlers" / "common" / "snapstart.py"


def load_fresh(name: str = "snapstart_under_test") -> Any:
    """A private copy of the module, so registrations never leak into the handlers' registry."""
    spec = importlib.util.spec_from_file_location(name, MODULE_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def fake_runtime() -> Iterator[dict[str, list[Any]]]:
    """Stands in for the Lambda runtime's snapshot_restore_py module."""
    seen: dict[str, list[Any]] = {"before": [], "after": []}
    module = types.ModuleType("snapshot_restore_py")
    module.register_before_snapshot = lambda fn, *a, **k: seen["before"].append(fn) or fn  # type: ignore[attr-defined]
    module.register_after_restore = lambda fn, *a, **k: seen["after"].append(fn) or fn  # type: ignore[attr-defined]
    sys.modules["snapshot_restore_py"] = module
    yield seen
    del sys.modules["snapshot_restore_py"]


def test_without_the_runtime_module_hooks_wait_for_the_local_trigger() -> None:
    shim = load_fresh()
    calls: list[str] = []
    shim.register_before_snapshot(lambda: calls.append("b1"))
    shim.register_after_restore(lambda: calls.append("a1"))
    assert not shim.in_lambda_runtime()
    assert calls == []  # registration alone runs nothing
    shim.run_before_snapshot()
    shim.run_after_restore()
    assert calls == ["b1", "a1"]


def test_lambda_order_before_snapshot_reversed_after_restore_in_order() -> None:
    shim = load_fresh()
    calls: list[str] = []
    for name in ("one", "two", "three"):
        shim.register_before_snapshot(lambda n=name: calls.append(f"before-{n}"))
        shim.register_after_restore(lambda n=name: calls.append(f"after-{n}"))
    shim.run_before_snapshot()
    shim.run_after_restore()
    assert calls == [
        "before-three",
        "before-two",
        "before-one",
        "after-one",
        "after-two",
        "after-three",
    ]


def test_the_same_hook_is_registered_once() -> None:
    shim = load_fresh()
    calls: list[int] = []

    def hook() -> None:
        calls.append(1)

    shim.register_after_restore(hook)
    shim.register_after_restore(hook)
    shim.run_after_restore()
    assert calls == [1]


def test_inside_lambda_hooks_go_to_the_runtime_registry(fake_runtime: dict[str, list[Any]]) -> None:
    shim = load_fresh()

    def before() -> None: ...

    def after() -> None: ...

    assert shim.in_lambda_runtime()
    assert shim.register_before_snapshot(before) is before  # usable as a decorator
    assert shim.register_after_restore(after) is after
    assert fake_runtime == {"before": [before], "after": [after]}


def test_install_registers_one_warm_up_per_resolver(fake_runtime: dict[str, list[Any]]) -> None:
    shim = load_fresh()
    app = object()
    shim.install(app, requests=())
    shim.install(app, requests=())  # imported twice (local server): still one set of hooks
    assert len(fake_runtime["before"]) == 1
    assert len(fake_runtime["after"]) == 1
    shim.install(object(), requests=())
    assert len(fake_runtime["before"]) == 2


def test_a_failing_warm_up_step_never_fails_the_snapshot() -> None:
    shim = load_fresh()

    class Broken:
        calls = 0

        def resolve(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
            self.calls += 1
            raise RuntimeError("no catalog yet")

    broken = Broken()
    requests = (("POST", "/v1/route", {"resonance_key": "x"}), ("GET", "/health", None))
    shim.install(broken, requests=requests)
    shim.run_before_snapshot()  # a new stack publishes before its catalog is seeded: no raise
    assert broken.calls == 2  # and one failure does not skip the steps after it


def test_warm_up_events_carry_no_client_identity() -> None:
    shim = load_fresh()
    for method, path, body in shim._WARMUP_REQUESTS:
        event = shim.warmup_event(method, path, body)
        assert event["requestContext"]["requestId"] == shim.WARMUP_REQUEST_ID
        assert "Idempotency-Key" not in event["headers"]
        assert "session_id" not in (body or {})
        assert path != "/v1/chat"  # the chat route would write a session
