"""scripts/capacity_model.py: the model follows from the bench numbers it is given."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from scripts import capacity_model as cm


def bench(route_us: float = 300.0, chat_cpu_us: float = 2_000.0, cold_ms: float = 300.0) -> dict[str, Any]:
    return {
        "machine": {"commit": "abc", "date_utc": "2026-11-30T00:00:00Z"},
        "memory_mb": 512,
        "warm_route_us": {"ours": {"median_us": route_us}},
        "chat": {
            "latency": {"session": {"median_us": 9_000.0, "cpu_median_us": chat_cpu_us}},
            "calls": {"session": ["Query:SessionsTable", "PutItem:SessionsTable"]},
        },
        "cold_start_ms": {"ours": cold_ms, "baseline": 280.0, "restore": 20.0},
    }


def test_lambda_duration_scales_cpu_to_the_memory_share_and_adds_dynamodb_calls() -> None:
    share = 512 / cm.FULL_VCPU_MB
    assert cm.lambda_ms(1.0, 512, 0) == pytest.approx(1.0 / share + cm.RUNTIME_OVERHEAD_MS)
    assert cm.lambda_ms(1.0, 512, 2) - cm.lambda_ms(1.0, 512, 0) == pytest.approx(2 * cm.DYNAMODB_CALL_MS)
    assert cm.lambda_ms(1.0, 4096, 0) == pytest.approx(1.0 + cm.RUNTIME_OVERHEAD_MS)  # capped at one vCPU


def test_concurrency_follows_littles_law() -> None:
    text = cm.model(bench(route_us=300.0), 0.005)
    duration = cm.lambda_ms(0.3, 512, 0)
    expected = math.ceil(10_000 * duration / 1000)
    assert f"| route | 10,000 | {expected:,} |" in text


def test_a_slow_chat_turn_binds_lambda_concurrency_before_api_gateway() -> None:
    text = cm.model(bench(chat_cpu_us=150_000.0), 0.005)
    line = next(x for x in text.splitlines() if x.startswith("| chat (session turn) | 10,000 |"))
    assert "Lambda concurrency" in line


def test_snapstart_is_cheaper_when_init_is_long_and_dearer_when_it_is_short() -> None:
    data = bench()
    path = cm.paths(data)[0]
    duration = cm.lambda_ms(path.cpu_ms, 512, 0)
    args = (duration, 512, path, 0.01)
    long_init = cm.cost_per_million(*args, 30_000.0, 50.0, 2_592.0, snapstart=True) < cm.cost_per_million(
        *args, 30_000.0, 50.0, 2_592.0, snapstart=False
    )
    short_init = cm.cost_per_million(*args, 100.0, 90.0, 2_592.0, snapstart=True) > cm.cost_per_million(
        *args, 100.0, 90.0, 2_592.0, snapstart=False
    )
    assert long_init and short_init


def test_missing_bench_file_is_a_clear_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cm.main(["--results", str(tmp_path / "none.json")]) == 2
    assert "make bench" in capsys.readouterr().err


def test_reads_a_bench_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "bench.json"
    results.write_text(json.dumps(bench()), encoding="utf-8")
    assert cm.main(["--results", str(results)]) == 0
    out = capsys.readouterr().out
    assert "without SnapStart" in out and cm.PRICES_READ in out
