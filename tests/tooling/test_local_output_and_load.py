"""The local server's terminal output and the open-loop load generator's accounting."""

from __future__ import annotations

import asyncio
import io
import json
import threading

from bench.load import Recorder, drive, percentile, summarize
from scripts.local_server import HandlerOutput, access_line, persona_of

EMF = json.dumps({"_aws": {"Timestamp": 1, "CloudWatchMetrics": []}, "Requests": [1.0]})


def test_handler_output_drops_emf_and_info_logs_and_keeps_warnings_short() -> None:
    target = io.StringIO()
    out = HandlerOutput(target)
    out.write(EMF + "\n")
    out.write(json.dumps({"level": "INFO", "message": "routed", "service": "x"}) + "\n")
    print(json.dumps({"level": "WARNING", "message": "catalog refresh failed", "error": "boom"}), file=out)
    out.write("plain text\n")
    assert target.getvalue().splitlines() == [
        '  WARNING catalog refresh failed {"error": "boom"}',
        "plain text",
    ]


def test_handler_output_joins_a_line_written_in_pieces() -> None:
    target = io.StringIO()
    out = HandlerOutput(target)
    out.write('{"_aws": {}, ')
    out.write('"x": 1}')
    assert target.getvalue() == ""  # nothing until the line is complete
    out.write("\nnext\n")
    assert target.getvalue() == "next\n"


def test_access_line_names_method_path_status_persona_and_time() -> None:
    line = access_line("POST", "/v1/route", 200, "Lua", 3.14, json_format=False)
    assert line.split()[1:] == ["POST", "/v1/route", "200", "Lua", "3.1", "ms"]
    record = json.loads(access_line("GET", "/health", 200, None, 1.0, json_format=True))
    assert record == {"access": True, "method": "GET", "path": "/health", "status": 200, "ms": 1.0}


def test_persona_comes_from_a_json_answer_only() -> None:
    json_headers = [("Content-Type", "application/json")]
    assert persona_of(json_headers, b'{"persona": "Riri", "confidence": 0.8}') == "Riri"
    assert persona_of(json_headers, b'{"name": "Lua"}') is None
    assert persona_of([("Content-Type", "text/html")], b'{"persona": "Riri"}') is None
    assert persona_of(json_headers, b'{"persona": ') is None


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 1001)]
    assert percentile(values, 50) == 500.0
    assert percentile(values, 99) == 990.0
    assert percentile(values, 99.9) == 999.0
    assert percentile(values, 100) == 1000.0


def test_summary_counts_errors_and_fails_on_them() -> None:
    recorder = Recorder(latencies_ms=[1.0] * 99, sent=100, last_send=1.0, last_done=1.0, connections_opened=4)
    recorder.statuses[200] = 99
    recorder.errors["not answered"] = 1
    summary = summarize(recorder, start=0.0, rate=100, seconds=1, connections=4)
    assert summary["errors"] == 1 and summary["pass"] is False
    assert summary["keep_alive"] is True


async def _serve_slowly(delay: float) -> tuple[asyncio.Server, int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
                await reader.readexactly(length)
                await asyncio.sleep(delay)
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def test_latency_counts_from_the_intended_send_time() -> None:
    """One connection, 20 ms per answer (50/s at most), 100/s offered for 0.5 s: an open-loop
    client keeps sending on schedule, so the later requests wait behind the earlier ones and their
    latency grows far past 20 ms. A closed-loop client would report about 20 ms for every one."""

    async def scenario() -> Recorder:
        server, port = await _serve_slowly(0.02)
        async with server:
            recorder, _ = await drive("127.0.0.1", port, rate=100, seconds=0.5, connections=1)
        return recorder

    # A thread of its own: a fresh event loop whatever state earlier tests left in this one.
    results: list[Recorder] = []
    runner = threading.Thread(target=lambda: results.append(asyncio.run(scenario())))
    runner.start()
    runner.join(timeout=120)
    (recorder,) = results
    assert recorder.sent == 50
    assert recorder.statuses[200] == 50 and not recorder.errors
    assert recorder.connections_opened == 1  # one keep-alive connection for all 50 requests
    # The 50th request is due at 0.49 s and cannot finish before 50 x 20 ms = 1 s: >= ~0.5 s late.
    assert max(recorder.latencies_ms) > 400
    assert min(recorder.latencies_ms) >= 20
