"""Capacity and cost model from a `make bench` run (`.results/bench.json`).

    python scripts/capacity_model.py [--results .results/bench.json] [--cold-fraction 0.005]

Prints, for POST /v1/route and POST /v1/chat (backend none, with a session):
- requests per second one execution environment sustains;
- Lambda concurrency and DynamoDB capacity at 100, 1,000 and 10,000 requests per second, and
  which account limit binds first;
- cost per million requests with API Gateway, DynamoDB and cold starts, without and with
  SnapStart.

Everything measured comes from the bench file; everything assumed is a named constant below,
printed with the model. Prices: AWS list prices for us-east-1 and arm64, read on PRICES_READ.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PRICES_READ = "2026-11-30"

# ---- prices (us-east-1, arm64, first tier; read on PRICES_READ) -----------------------------
LAMBDA_PER_MILLION_REQUESTS = 0.20  # aws.amazon.com/lambda/pricing
LAMBDA_PER_GB_SECOND_ARM = 0.0000133334  # aws.amazon.com/lambda/pricing
SNAPSTART_CACHE_PER_GB_SECOND = 0.0000015046  # Python/.NET, per GB of memory, while a version is cached
SNAPSTART_RESTORE_PER_GB = 0.0001397998  # Python/.NET, per GB of memory, per restore
SNAPSTART_CACHE_MINIMUM_SECONDS = 3 * 3600  # the cache charge has a 3-hour minimum per version
API_GATEWAY_REST_PER_MILLION = 3.50  # aws.amazon.com/api-gateway/pricing, first 333 million
DYNAMODB_PER_MILLION_WRITE_UNITS = 0.625  # on-demand, aws.amazon.com/dynamodb/pricing
DYNAMODB_PER_MILLION_READ_UNITS = 0.125  # on-demand

# ---- default account limits (per region; most can be raised through Service Quotas) ---------
LAMBDA_CONCURRENCY = 1_000
LAMBDA_RPS_PER_CONCURRENCY = 10  # Lambda's invocation rate limit is 10 x the concurrency quota
API_GATEWAY_RPS = 10_000  # account-level steady-state throttle (burst 5,000)
DYNAMODB_TABLE_UNITS = 40_000  # on-demand table maximum read or write units per second
BEDROCK_REQUESTS_PER_MINUTE = 1_000  # ASSUMED: on-demand model quotas differ per model and region

# ---- assumptions that turn local numbers into Lambda numbers --------------------------------
FULL_VCPU_MB = 1769  # Lambda gives one full vCPU at 1,769 MB and CPU in proportion below
RUNTIME_OVERHEAD_MS = 0.5  # ASSUMED: runtime API round trip per invocation
DYNAMODB_CALL_MS = 4.0  # ASSUMED: in-region DynamoDB call latency (replaces DynamoDB Local's)
SESSION_READ_UNITS = 1  # ASSUMED: one Query of the recent turns within 4 KB, strongly consistent
SESSION_WRITE_UNITS = 2  # ASSUMED: one turn item of 1-2 KB
IDEMPOTENCY_WRITE_UNITS = 2  # Powertools: a conditional put (in progress) and an update (done)
ACTIVE_VERSIONS = 2  # SnapStart caches each published version: the stable one and the canary
RATES = (100, 1_000, 10_000)


@dataclass(frozen=True)
class Path_:
    name: str
    cpu_ms: float  # measured warm median CPU time per request, local machine, one full core
    dynamodb_calls: int  # per request on the warm path (their latency is added in-region)
    read_units: float
    write_units: float
    uses_model: bool


def lambda_ms(cpu_ms: float, memory_mb: int, dynamodb_calls: int) -> float:
    """Warm duration in Lambda: CPU work scaled to the memory's CPU share, plus the runtime's
    own overhead, plus in-region DynamoDB calls."""
    cpu_share = min(1.0, memory_mb / FULL_VCPU_MB)
    return cpu_ms / cpu_share + RUNTIME_OVERHEAD_MS + dynamodb_calls * DYNAMODB_CALL_MS


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    for key in ("warm_route_us", "chat", "cold_start_ms", "memory_mb"):
        if key not in data:
            raise SystemExit(f"{path} has no {key!r}: run `make bench` first (it writes them)")
    return data


def paths(data: dict[str, Any]) -> list[Path_]:
    chat_calls = data["chat"]["calls"]["session"]
    session = data["chat"]["latency"]["session"]
    return [
        # The warm route makes no DynamoDB call and waits on nothing: its wall time is CPU time.
        Path_("route", data["warm_route_us"]["ours"]["median_us"] / 1000, 0, 0, 0, False),
        Path_(
            "chat (session turn)",
            session.get("cpu_median_us", session["median_us"]) / 1000,
            len(chat_calls),
            SESSION_READ_UNITS,
            SESSION_WRITE_UNITS,
            True,
        ),
    ]


def cost_per_million(
    duration_ms: float,
    memory_mb: int,
    path: Path_,
    cold_fraction: float,
    init_ms: float,
    restore_ms: float,
    monthly_millions: float,
    snapstart: bool,
) -> float:
    gb = memory_mb / 1024
    billed = math.ceil(duration_ms)
    compute = billed / 1000 * gb * LAMBDA_PER_GB_SECOND_ARM * 1e6
    dynamodb = (
        path.read_units * DYNAMODB_PER_MILLION_READ_UNITS
        + path.write_units * DYNAMODB_PER_MILLION_WRITE_UNITS
    )
    base = LAMBDA_PER_MILLION_REQUESTS + API_GATEWAY_REST_PER_MILLION + compute + dynamodb
    colds = cold_fraction * 1e6
    if not snapstart:
        # The INIT phase is billed like invocation time for managed runtimes.
        return base + colds * math.ceil(init_ms) / 1000 * gb * LAMBDA_PER_GB_SECOND_ARM
    restores = colds * (
        gb * SNAPSTART_RESTORE_PER_GB + math.ceil(restore_ms) / 1000 * gb * LAMBDA_PER_GB_SECOND_ARM
    )
    month_seconds = 30 * 24 * 3600
    cache = (
        ACTIVE_VERSIONS
        * gb
        * max(month_seconds, SNAPSTART_CACHE_MINIMUM_SECONDS)
        * SNAPSTART_CACHE_PER_GB_SECOND
    )
    return base + restores + cache / monthly_millions


def model(data: dict[str, Any], cold_fraction: float) -> str:
    memory = int(data["memory_mb"])
    cold = data["cold_start_ms"]
    init_ms = cold["ours"] / min(1.0, memory / FULL_VCPU_MB)
    restore_ms = cold["restore"] / min(1.0, memory / FULL_VCPU_MB)
    out = [
        f"Capacity and cost model from {data.get('machine', {}).get('commit', '?')} "
        f"({data.get('machine', {}).get('date_utc', '?')}), {memory} MB arm64, prices read {PRICES_READ}",
        "",
        "| path | local CPU median (ms) | Lambda duration (ms) | RPS per environment |",
        "|---|---|---|---|",
    ]
    durations = {}
    for path in paths(data):
        duration = lambda_ms(path.cpu_ms, memory, path.dynamodb_calls)
        durations[path.name] = duration
        out.append(f"| {path.name} | {path.cpu_ms:.3f} | {duration:.2f} | {1000 / duration:,.0f} |")
    out += [
        "",
        "| path | RPS | Lambda concurrency | DynamoDB read / write units per s | binds first"
        " | with LlmBackend=bedrock |",
        "|---|---|---|---|---|---|",
    ]
    for path in paths(data):
        for rate in RATES:
            concurrency = math.ceil(rate * durations[path.name] / 1000)
            reads, writes = rate * path.read_units, rate * path.write_units
            limits = {
                "API Gateway 10,000 RPS": rate / API_GATEWAY_RPS,
                "Lambda concurrency 1,000": concurrency / LAMBDA_CONCURRENCY,
                "Lambda 10 x concurrency RPS": rate / (LAMBDA_CONCURRENCY * LAMBDA_RPS_PER_CONCURRENCY),
                "DynamoDB table 40,000 units": max(reads, writes) / DYNAMODB_TABLE_UNITS,
            }
            name, share = max(limits.items(), key=lambda item: item[1])
            verdict = f"{name} ({share:.0%} of it)"
            bedrock = "—"
            if path.uses_model:  # one model call per chat turn, against the model's own quota
                bedrock = f"Bedrock quota ({rate * 60 / BEDROCK_REQUESTS_PER_MINUTE:.0%} of it)"
            units = f"{reads:,.0f} / {writes:,.0f}"
            out.append(f"| {path.name} | {rate:,} | {concurrency:,} | {units} | {verdict} | {bedrock} |")
    out += [
        "",
        f"Cost per million requests (USD), {cold_fraction:.2%} of requests cold, "
        f"init {init_ms:.0f} ms vs restore {restore_ms:.0f} ms in Lambda, {ACTIVE_VERSIONS} cached versions:",
        "",
        "| path | RPS (monthly volume) | without SnapStart | with SnapStart |",
        "|---|---|---|---|",
    ]
    for path in paths(data):
        for rate in RATES:
            monthly_millions = rate * 30 * 24 * 3600 / 1e6
            args = (durations[path.name], memory, path, cold_fraction, init_ms, restore_ms, monthly_millions)
            without = cost_per_million(*args, snapstart=False)
            with_snapstart = cost_per_million(*args, snapstart=True)
            volume = f"{rate:,} ({monthly_millions:,.0f} M)"
            out.append(f"| {path.name} | {volume} | {without:.4f} | {with_snapstart:.4f} |")
    out += [
        "",
        "Assumptions: CPU share = memory / 1,769 MB; runtime overhead "
        f"{RUNTIME_OVERHEAD_MS} ms per invocation; {DYNAMODB_CALL_MS} ms per in-region DynamoDB call; "
        f"session turn {SESSION_READ_UNITS} read unit + {SESSION_WRITE_UNITS} write units; Bedrock quota "
        f"{BEDROCK_REQUESTS_PER_MINUTE:,} requests/min (assumed: check Service Quotas for the model); chat "
        "model time and tokens not included (backend none); prices us-east-1 list, first tier.",
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=ROOT / ".results" / "bench.json")
    parser.add_argument(
        "--cold-fraction", type=float, default=0.005, help="share of requests that start cold"
    )
    options = parser.parse_args(argv)
    if not options.results.exists():
        print(f"{options.results} not found: run `make bench` first", file=sys.stderr)
        return 2
    print(model(load(options.results), options.cold_fraction))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
