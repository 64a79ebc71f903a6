"""`make load`: POST /v1/route against the local server at about 1,000 requests/s with wrk.

Starts the same server `make run` starts (DynamoDB Local, tables, seeded catalog) on a free
port unless --url points at one already running, drives it with wrk for --seconds, and prints
throughput, p50/p95/p99 and errors. Exit status 1 when there were errors, the rate fell short
of 95% of the target, or p99 reached 50 ms (SPEC section 7).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "load_results.json"
P99_LIMIT_MS = 50.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_healthy(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/health/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise SystemExit(f"the server at {url} did not become ready in {timeout:.0f} s")


def run_wrk(url: str, seconds: int, rate: int, connections: int) -> dict[str, Any]:
    # Closed-loop pacing: each connection sleeps delay_ms between requests. Aim 4% above the
    # target so a millisecond of latency per request still leaves the rate at or above it.
    delay_ms = max(1, int(connections * 1000 / (rate * 1.04)))
    env = dict(os.environ, LOAD_DELAY_MS=str(delay_ms))
    command = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "2s",
        "-s",
        str(ROOT / "bench" / "load.lua"),
        url,
    ]
    print(f"$ LOAD_DELAY_MS={delay_ms} {' '.join(command)}", flush=True)
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    print(output, flush=True)
    for line in output.splitlines():
        if line.startswith("LOAD_RESULT "):
            result: dict[str, Any] = json.loads(line.removeprefix("LOAD_RESULT "))
            return result
    raise SystemExit("wrk printed no LOAD_RESULT line")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an already running server (default: start one)")
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("LOAD_SECONDS", "60")))
    parser.add_argument("--rate", type=int, default=1000, help="target requests per second")
    parser.add_argument("--connections", type=int, default=50)
    options = parser.parse_args(argv)

    if shutil.which("wrk") is None:
        raise SystemExit(
            "wrk is not installed: apt-get install -y wrk (make load does this when run as root)"
        )

    server: subprocess.Popen[bytes] | None = None
    url = options.url
    if url is None:
        port, dynamodb_port = free_port(), free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "scripts" / "local_server.py"),
                "--port",
                str(port),
                "--dynamodb-port",
                str(dynamodb_port),
                "--quiet",
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
    try:
        wait_healthy(url)
        result = run_wrk(url, options.seconds, options.rate, options.connections)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)

    seconds = result["duration_us"] / 1_000_000
    errors = sum(
        result[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts")
    )
    summary = {
        "target_rps": options.rate,
        "seconds": round(seconds, 1),
        "requests": result["requests"],
        "rps": round(result["requests"] / seconds, 1),
        "p50_ms": round(result["p50_us"] / 1000, 2),
        "p95_ms": round(result["p95_us"] / 1000, 2),
        "p99_ms": round(result["p99_us"] / 1000, 2),
        "max_ms": round(result["max_us"] / 1000, 2),
        "errors": errors,
        "error_detail": {
            k: result[k]
            for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts")
        },
    }
    summary["pass"] = (
        errors == 0 and summary["rps"] >= 0.95 * options.rate and summary["p99_ms"] < P99_LIMIT_MS
    )
    for key, value in summary.items():
        print(f"{key:>14}: {value}")
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 0 if summary["pass"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
