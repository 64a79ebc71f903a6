"""`make load`: POST /v1/route against the local server at a constant arrival rate (open loop).

A closed-loop client (wrk, a pool of users waiting for each answer) slows down when the server
does, so it offers less load exactly when latency rises and under-reports that latency. This
generator is open loop: request i is due at start + i/rate whatever happened before it, and its
latency is measured from that intended time, not from when a connection became free
(coordinated-omission correction, as wrk2 does). Requests go over a fixed pool of keep-alive
HTTP/1.1 connections; a request that finds every connection busy waits, and the wait counts.

Unless --url points at a running server, it starts the server `make run` starts (DynamoDB Local,
tables, seeded catalog), warms it up, and pins server and client to different cores when the
machine has at least two, so they do not starve each other. It prints progress every 5 s, then
offered and achieved rate, p50/p90/p99/p99.9/max, errors, connections opened, the client's and
the server's CPU use and the machine, and writes `.results/load.json` (ignored by git).
Exit status 1 on any error, an achieved rate under 99% of the target, or p99 >= 50 ms.

    python -m bench.load [--rate 1000] [--seconds 60] [--connections 16] [--url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.machine import describe, machine, write_results  # noqa: E402

P99_LIMIT_MS = 50.0
MIN_ACHIEVED = 0.99  # of the target rate
REQUEST_TIMEOUT_S = 2.0
KEYS = (
    "frustrated-burst-seek_advice",
    "calm-medium-learning",
    "analytical-contemplative-planning",
    "Frustrated_Burst_Seeking-Advice",
    "collaborative-medium-planning",
    "curious-flowing-learning",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def route_requests(host: str) -> list[bytes]:
    """One ready-to-send HTTP/1.1 request per key: nothing is formatted on the hot path."""
    requests = []
    for key in KEYS:
        body = json.dumps({"resonance_key": key}).encode()
        head = (
            f"POST /v1/route HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        requests.append(head + body)
    return requests


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (q in 0..100)."""
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n * q / 100), at least 1
    return ordered[min(len(ordered), int(rank)) - 1]


@dataclass
class Recorder:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    connections_opened: int = 0
    sent: int = 0
    last_send: float = 0.0
    last_done: float = 0.0


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def close(self) -> None:
        self.writer.close()


async def open_connection(host: str, port: int, recorder: Recorder) -> Connection:
    reader, writer = await asyncio.open_connection(host, port)
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    recorder.connections_opened += 1
    return Connection(reader, writer)


async def exchange(connection: Connection, request: bytes) -> tuple[int, bool]:
    """Send one request, read its whole answer: (status, server wants the connection closed)."""
    connection.writer.write(request)
    head = await connection.reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, close = 0, False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "connection" and value.strip().lower() == "close":
            close = True
    if length:
        await connection.reader.readexactly(length)
    return status, close


async def drive(
    host: str,
    port: int,
    rate: float,
    seconds: float,
    connections: int,
    progress: Callable[[float, Recorder], None] | None = None,
) -> tuple[Recorder, float]:
    """Send rate*seconds requests at fixed intended times; returns the recorder and the start time."""
    loop = asyncio.get_running_loop()
    recorder = Recorder()
    requests = route_requests(f"{host}:{port}")
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await open_connection(host, port, recorder))
    total = int(rate * seconds)
    interval = 1.0 / rate
    in_flight: set[asyncio.Task[None]] = set()

    async def one(index: int, intended: float) -> None:
        connection = await pool.get()  # waiting for a free connection counts in the latency
        try:
            status, close = await asyncio.wait_for(
                exchange(connection, requests[index % len(requests)]), REQUEST_TIMEOUT_S
            )
        except TimeoutError:
            recorder.errors["timeout"] += 1
            connection.close()
            pool.put_nowait(await open_connection(host, port, recorder))
            return
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as error:
            recorder.errors[type(error).__name__] += 1
            connection.close()
            pool.put_nowait(await open_connection(host, port, recorder))
            return
        done = loop.time()
        recorder.latencies_ms.append((done - intended) * 1000.0)
        recorder.statuses[status] += 1
        recorder.last_done = done
        if status != 200:
            recorder.errors[f"status {status}"] += 1
        if close:
            connection.close()
            connection = await open_connection(host, port, recorder)
        pool.put_nowait(connection)

    start = loop.time() + 0.05
    next_report = start + 5.0
    index = 0
    while index < total:
        now = loop.time()
        # Every request whose time has come goes out now, however late the loop woke up: a slow
        # client or server shows up as latency, never as a lower offered rate.
        while index < total and start + index * interval <= now:
            task = asyncio.ensure_future(one(index, start + index * interval))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
            index += 1
            recorder.sent = index
            recorder.last_send = now
        if progress is not None and now >= next_report:
            progress(now - start, recorder)
            next_report += 5.0
        if index < total:
            await asyncio.sleep(max(0.0, start + index * interval - loop.time()))
    if in_flight:
        await asyncio.wait(in_flight, timeout=REQUEST_TIMEOUT_S * 2)
    for task in list(in_flight):  # still waiting for a connection or an answer: never answered
        task.cancel()
        recorder.errors["not answered"] += 1
    while not pool.empty():
        pool.get_nowait().close()
    return recorder, start


def cpu_seconds_of(pid: int) -> float | None:
    """utime + stime of a process from /proc, in seconds (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def summarize(
    recorder: Recorder, start: float, rate: float, seconds: float, connections: int
) -> dict[str, Any]:
    ordered = sorted(recorder.latencies_ms)
    completed = len(ordered)
    send_span = max(recorder.last_send - start, 1e-9)
    done_span = max(recorder.last_done - start, 1e-9)
    errors = sum(recorder.errors.values())
    summary: dict[str, Any] = {
        "target_rps": rate,
        "seconds": seconds,
        "connections": connections,
        "requests_sent": recorder.sent,
        "requests_completed": completed,
        # Sends are spread over [start, last send]: sent-1 intervals.
        "offered_rps": round((recorder.sent - 1) / send_span, 1) if recorder.sent > 1 else 0.0,
        "achieved_rps": round(recorder.statuses[200] / done_span, 1),
        "p50_ms": round(percentile(ordered, 50), 2),
        "p90_ms": round(percentile(ordered, 90), 2),
        "p99_ms": round(percentile(ordered, 99), 2),
        "p99_9_ms": round(percentile(ordered, 99.9), 2),
        "max_ms": round(ordered[-1], 2) if ordered else float("nan"),
        "errors": errors,
        "error_detail": dict(recorder.errors),
        "statuses": {str(k): v for k, v in sorted(recorder.statuses.items())},
        "connections_opened": recorder.connections_opened,
        "keep_alive": recorder.connections_opened == connections,
    }
    summary["pass"] = bool(
        errors == 0
        and recorder.sent == int(rate * seconds)
        and summary["achieved_rps"] >= MIN_ACHIEVED * rate
        and summary["p99_ms"] < P99_LIMIT_MS
    )
    return summary


def wait_ready(url: str, timeout: float = 90.0) -> None:
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


def warm_up(url: str, requests: int = 300) -> None:
    """The first requests pay imports and the catalog load: keep them out of the measurement."""
    body = json.dumps({"resonance_key": KEYS[0]}).encode()
    for _ in range(requests):
        request = urllib.request.Request(
            url + "/v1/route", data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()


def split_cores() -> tuple[set[int], set[int]] | None:
    """(client cores, server cores) when there are at least two usable cores, else None."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return None
    # The server (Python handlers + DynamoDB Local) gets the larger half; the client needs ~1/4 core.
    half = max(1, len(cores) // 2)
    return set(cores[:half]), set(cores[half:])


def start_server(port: int, dynamodb_port: int, cores: set[int] | None) -> subprocess.Popen[bytes]:
    def pin() -> None:  # in the child, before it starts Python or Java
        if cores:
            os.sched_setaffinity(0, cores)

    return subprocess.Popen(
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
        stdout=subprocess.DEVNULL,  # handler logs and EMF go where Lambda's log pipe would take them
        preexec_fn=pin,  # safe: the parent has no other threads yet
    )


def print_summary(summary: dict[str, Any]) -> None:
    for key, value in summary.items():
        print(f"{key:>22}: {value}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an already running server (default: start one)")
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("LOAD_SECONDS", "60")))
    parser.add_argument("--rate", type=float, default=float(os.environ.get("LOAD_RATE", "1000")))
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections")
    parser.add_argument("--no-pin", action="store_true", help="do not pin client and server to cores")
    options = parser.parse_args(argv)

    info = machine()
    print(f"==> machine: {describe(info)}", flush=True)
    split = None if options.no_pin else split_cores()
    server: subprocess.Popen[bytes] | None = None
    url = options.url
    if url is None:
        port, dynamodb_port = free_port(), free_port()
        url = f"http://127.0.0.1:{port}"
        where = f"on cores {sorted(split[1])}" if split else "unpinned"
        print(f"==> starting the local server and DynamoDB Local {where} (about 10 s)", flush=True)
        server = start_server(port, dynamodb_port, split[1] if split else None)
    if split:
        os.sched_setaffinity(0, split[0])
    try:
        wait_ready(url)
        print("==> warming up: 300 sequential requests, not recorded", flush=True)
        warm_up(url)
        parts = urlsplit(url)
        host, port_number = parts.hostname or "127.0.0.1", parts.port or 80
        print(
            f"==> open loop: {options.rate:.0f} req/s for {options.seconds:.0f} s over "
            f"{options.connections} keep-alive connections; client on cores "
            f"{sorted(split[0]) if split else 'any'}",
            flush=True,
        )

        def progress(elapsed: float, recorder: Recorder) -> None:
            recent = sorted(recorder.latencies_ms[-5000:])
            print(
                f"    {elapsed:5.0f} s: sent {recorder.sent:,}, answered {len(recorder.latencies_ms):,}, "
                f"errors {sum(recorder.errors.values())}, p99 of the last 5,000 "
                f"{percentile(recent, 99):.1f} ms",
                flush=True,
            )

        server_cpu_before = cpu_seconds_of(server.pid) if server else None
        usage_before = resource.getrusage(resource.RUSAGE_SELF)
        wall_before = time.monotonic()
        recorder, start = asyncio.run(
            drive(host, port_number, options.rate, options.seconds, options.connections, progress)
        )
        wall = time.monotonic() - wall_before
        usage_after = resource.getrusage(resource.RUSAGE_SELF)
        server_cpu_after = cpu_seconds_of(server.pid) if server else None
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()

    summary = summarize(recorder, start, options.rate, options.seconds, options.connections)
    client_cpu = (usage_after.ru_utime - usage_before.ru_utime) + (
        usage_after.ru_stime - usage_before.ru_stime
    )
    summary["client_cpu_percent_of_one_core"] = round(100 * client_cpu / wall, 1)
    if server_cpu_before is not None and server_cpu_after is not None:
        summary["server_cpu_percent_of_one_core"] = round(
            100 * (server_cpu_after - server_cpu_before) / wall, 1
        )
    summary["pinning"] = (
        {"client_cores": sorted(split[0]), "server_cores": sorted(split[1])} if split else "none"
    )
    print()
    print_summary(summary)
    command = "python -m bench.load " + " ".join(argv if argv is not None else sys.argv[1:])
    written = write_results("load.json", {"machine": info, "command": command.strip(), "result": summary})
    print(f"\nwritten to {written.relative_to(ROOT) if written.is_relative_to(ROOT) else written}")
    if not summary["pass"]:
        print(
            f"load target missed: needs 0 errors, >= {MIN_ACHIEVED:.0%} of {options.rate:.0f} req/s "
            f"achieved and p99 < {P99_LIMIT_MS:.0f} ms",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
