"""`make run`: the API on http://127.0.0.1:3000, served the way `sam local start-api` would.

Routes and handlers come from template.yaml. Each HTTP request becomes the REST API proxy event
API Gateway would send (scripts/apigw.py) and goes to the same handler function, in-process,
with a Lambda-like context. Like one Lambda execution environment per function, a function
handles one event at a time (a lock per function); the HTTP side is threaded with keep-alive.

    python scripts/local_server.py [--port 3000] [--dynamodb-port 8000] [--persist DIR]
                                   [--no-dynamodb] [--quiet]

Output: one readable line per request (time, method, path, status, persona when the answer
names one, milliseconds). The handlers' JSON logs and EMF metric documents are what Lambda
would send to CloudWatch; they are shown only with LOG_FORMAT=json (warnings and errors are
always shown, one line each).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import importlib
import io
import json
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
for entry in (str(ROOT / "src"), str(ROOT)):
    if entry not in sys.path:
        sys.path.insert(0, entry)

from scripts.apigw import LambdaContext, RouteTable, proxy_event  # noqa: E402
from scripts.local_env import api_routes, function_environment, function_handler, function_settings  # noqa: E402

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
# What the template's Gateway Responses add to API Gateway's own answers: the same set the
# handlers send (SPEC section 5).
from handlers.common.http import SECURITY_HEADERS  # noqa: E402

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class Function:
    def __init__(self, logical_id: str) -> None:
        module_name, attribute = function_handler(logical_id).rsplit(".", 1)
        self.logical_id = logical_id
        self.handler: Handler = getattr(importlib.import_module(module_name), attribute)
        self.settings = function_settings(logical_id)
        self.lock = threading.Lock()

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        context = LambdaContext(self.logical_id, self.settings["memory"], self.settings["timeout"])
        with self.lock:
            return self.handler(event, context)


# API Gateway's own answers carry this version (template.yaml's Gateway Responses): no function ran.
GATEWAY_VERSION = "none"
# How long a connection may take to send a request (line, headers and body) before it is answered
# 400 and closed; also how long an idle keep-alive connection stays open.
READ_TIMEOUT_SECONDS = 10


def gateway_error(
    status: int, code: str, message: str, request_id: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    request_id = request_id or str(uuid.uuid4())
    body = json.dumps({"error": {"code": code, "message": message, "details": []}, "request_id": request_id})
    return (
        status,
        {
            **SECURITY_HEADERS,
            "Content-Type": "application/json",
            "X-Request-Id": request_id,
            "X-Function-Version": GATEWAY_VERSION,
        },
        body.encode(),
    )


def request_path(target: str) -> str:
    """The path of a request target in origin form (/v1/route?x) or absolute form
    (http://host/v1/route?x, which HTTP/1.1 servers must accept)."""
    if target.startswith(("http://", "https://")):
        parts = urlsplit(target)
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return target


class App:
    def __init__(self, routes: RouteTable, functions: dict[str, Function], stage: str = "local") -> None:
        self.routes = routes
        self.functions = functions
        self.stage = stage

    def handle(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        path, _, query = request_path(target).partition("?")
        request_id = str(uuid.uuid4())
        if len(body) > MAX_BODY_BYTES:
            status, single, payload = gateway_error(
                413, "PAYLOAD_TOO_LARGE", "the request is too large", request_id
            )
            return status, list(single.items()), payload
        found = self.routes.match(method, path)
        if found is None:
            status, single, payload = gateway_error(404, "NOT_FOUND", "no such route", request_id)
            return status, list(single.items()), payload
        route, parameters = found
        if route is None:
            # API Gateway's own answer for a method the resource lacks (MISSING_AUTHENTICATION_TOKEN,
            # mapped to 404 NOT_FOUND by the template's Gateway Responses).
            status, single, payload = gateway_error(
                404,
                "NOT_FOUND",
                "no route for this method and path (admin routes also need IAM (SigV4) credentials)",
                request_id,
            )
            return status, list(single.items()), payload
        event = proxy_event(
            method,
            path,
            route.resource,
            parameters,
            headers,
            query,
            body,
            self.stage,
            request_id,
            stage_in_url=False,  # http://127.0.0.1:3000/v1/... has no stage segment
        )
        response = self.functions[route.function].invoke(event)
        return to_http(response)


def to_http(response: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    for name, values in (response.get("multiValueHeaders") or {}).items():
        seen.add(name.lower())
        pairs.extend((name, str(v)) for v in values)
    for name, value in (response.get("headers") or {}).items():
        if name.lower() not in seen:
            pairs.append((name, str(value)))
    raw = response.get("body") or ""
    payload = base64.b64decode(raw) if response.get("isBase64Encoded") else str(raw).encode("utf-8")
    return int(response.get("statusCode", 502)), pairs, payload


class HandlerOutput(io.TextIOBase):
    """Stands in for sys.stdout while the handlers run locally, so a terminal shows one line per
    request instead of Lambda's log stream: EMF metric documents and INFO/DEBUG JSON log lines are
    dropped, warnings and errors are kept as one short line, anything else passes unchanged.

    Powertools' switch for this (POWERTOOLS_METRICS_DISABLED) is not usable here: with it, the
    metric set is never cleared, so values pile up and are printed anyway every 100 requests."""

    KEPT_LEVELS = ("WARNING", "ERROR", "CRITICAL")

    def __init__(self, target: Any) -> None:
        super().__init__()
        self.target = target
        self.lock = threading.Lock()
        self.partial = threading.local()  # print() writes a line and its newline separately

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        buffered = getattr(self.partial, "text", "") + text
        *lines, self.partial.text = buffered.split("\n")
        for line in lines:
            shown = self.shown(line)
            if shown is not None:
                with self.lock:
                    self.target.write(shown + "\n")
                    self.target.flush()
        return len(text)

    def flush(self) -> None:
        with self.lock:
            self.target.flush()

    def shown(self, line: str) -> str | None:
        """What a terminal shows for one output line, None to drop it."""
        if not line.startswith("{"):
            return line
        try:
            record = json.loads(line)
        except ValueError:
            return line
        if not isinstance(record, dict):
            return line
        if "_aws" in record:  # an EMF metrics document
            return None
        level = str(record.get("level", ""))
        if not level:
            return line
        if level not in self.KEPT_LEVELS:
            return None
        text = f"  {level} {record.get('message', '')}"
        extra = {k: v for k, v in record.items() if k in ("code", "reason", "error", "variable")}
        if extra:
            text += " " + json.dumps(extra, ensure_ascii=False, default=str)
        if record.get("exception"):
            text += "\n" + str(record["exception"])
        return text


def persona_of(headers: list[tuple[str, str]], payload: bytes) -> str | None:
    """The persona a JSON answer names (route, chat), for the access line."""
    is_json = any(n.lower() == "content-type" and "json" in v for n, v in headers)
    if not is_json or len(payload) > 65536 or b'"persona"' not in payload:
        return None
    try:
        body = json.loads(payload)
    except ValueError:
        return None
    persona = body.get("persona") if isinstance(body, dict) else None
    return persona if isinstance(persona, str) else None


def access_line(
    method: str, path: str, status: int, persona: str | None, milliseconds: float, json_format: bool
) -> str:
    if json_format:
        record = {"access": True, "method": method, "path": path, "status": status}
        record.update({"persona": persona} if persona else {})
        record["ms"] = round(milliseconds, 1)
        return json.dumps(record, ensure_ascii=False)
    clock = time.strftime("%H:%M:%S")
    persona_part = f"  {persona}" if persona else ""
    return f"{clock} {method} {path} {status}{persona_part}  {milliseconds:.1f} ms"


def emit(line: str) -> None:
    """One access line on the real stdout (sys.stdout may be the HandlerOutput filter)."""
    stream = sys.__stdout__ or sys.stdout
    stream.write(line + "\n")
    stream.flush()


def json_logs() -> bool:
    return os.environ.get("LOG_FORMAT", "").strip().lower() == "json"


def make_handler(app: App, quiet: bool) -> type[BaseHTTPRequestHandler]:
    class RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive
        # http.server writes the headers and the body in two sends: with Nagle's algorithm on, the
        # body waits for the client's delayed ACK of the headers, ~40 ms per keep-alive request
        # (measured with make load: 21 req/s on one connection instead of hundreds).
        disable_nagle_algorithm = True
        server_version = "persona-router-local"
        # A socket timeout for every read: a client that stops sending (a Content-Length larger
        # than the body, a half-sent header block) is answered and closed, not held forever.
        timeout = READ_TIMEOUT_SECONDS

        def _error(self, status: int, code: str, message: str) -> None:
            self.close_connection = True
            status, single, payload = gateway_error(status, code, message)
            self._write(status, list(single.items()), payload)

        def _content_length(self) -> int | None:
            """The declared body length, or None after answering 400/413 for a bad one."""
            values = self.headers.get_all("Content-Length") or []
            if len(set(values)) > 1:
                self._error(400, "BAD_REQUEST", "conflicting Content-Length headers")
                return None
            raw = values[0].strip() if values else "0"
            if not raw.isdigit() or not raw.isascii():
                self._error(400, "BAD_REQUEST", "Content-Length must be a non-negative integer")
                return None
            length = int(raw)
            if length > MAX_BODY_BYTES:
                self._error(413, "PAYLOAD_TOO_LARGE", "the request is too large")
                return None
            return length

        def _serve(self) -> None:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                self._error(400, "BAD_REQUEST", "send the body with a Content-Length, not chunked")
                return
            length = self._content_length()
            if length is None:
                return
            try:
                body = self._read_body(length)
            except TimeoutError:
                self._error(400, "BAD_REQUEST", "the request body did not arrive in time")
                return
            if len(body) < length:
                self._error(400, "BAD_REQUEST", "the request body is shorter than its Content-Length")
                return
            started = time.perf_counter()
            status, headers, payload = app.handle(self.command, self.path, list(self.headers.items()), body)
            self._write(status, headers, payload)
            if not quiet:
                milliseconds = (time.perf_counter() - started) * 1000
                line = access_line(
                    self.command,
                    self.path,
                    status,
                    persona_of(headers, payload),
                    milliseconds,
                    json_logs(),
                )
                emit(line)

        def _read_body(self, length: int) -> bytes:
            chunks: list[bytes] = []
            remaining = length
            while remaining > 0:
                chunk = self.rfile.read(min(remaining, 65536))
                if not chunk:
                    break
                chunks.append(chunk)
                remaining -= len(chunk)
            return b"".join(chunks)

        def _write(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
            # Status line, headers and body in one send: with separate sends the body of a
            # keep-alive answer can wait for the client's delayed ACK (Nagle, ~40 ms).
            try:
                reason = HTTPStatus(status).phrase
            except ValueError:
                reason = ""
            lines = [f"HTTP/1.1 {status} {reason}"]
            for name, value in headers:
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    lines.append(f"{name}: {value}")
            lines.append(f"Content-Length: {len(payload)}")
            lines.append(f"Date: {self.date_time_string()}")
            if self.close_connection:
                lines.append("Connection: close")
            head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
            self.wfile.write(head if self.command == "HEAD" else head + payload)
            self.wfile.flush()

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            # http.server's own answers (garbage or over-long request line, over-long or too many
            # header lines, a read timeout): the error model and every header, like API Gateway's.
            self.close_connection = True
            if not hasattr(self, "command") or not self.command:
                self.command = ""  # the request line never parsed
            too_long = code in (HTTPStatus.REQUEST_URI_TOO_LONG, HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)
            status, code_name = (413, "PAYLOAD_TOO_LARGE") if too_long else (400, "BAD_REQUEST")
            with contextlib.suppress(OSError):
                self._error(status, code_name, f"malformed request: {message or 'bad request'}")

        def __getattr__(self, name: str) -> Any:
            # Every method, standard or not, goes to the handler, which answers 405 for the ones
            # a route lacks (http.server would answer an HTML 501 instead).
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            pass  # _serve prints its own access line, with the persona and the time taken

        def log_message(self, format: str, *args: Any) -> None:
            if not quiet:  # errors http.server reports itself (bad request line, timeouts)
                sys.stderr.write(f"{self.address_string()} {format % args}\n")

    return RequestHandler


def build_app(stage: str = "local") -> App:
    routes = api_routes()
    names = sorted({route.function for _, _, methods in routes.resources for route in methods.values()})
    for name in names:  # one process plays every function: the union of their environments
        for key, value in function_environment(name).items():
            os.environ.setdefault(key, value)
    return App(routes, {name: Function(name) for name in names}, stage)


EXAMPLES = """\
Persona Router is listening on {url}  (Ctrl-C stops it)

  curl -s -X POST {url}/v1/route -H 'Content-Type: application/json' \\
    -d '{{"resonance_key": "Frustrated_Burst_Seeking-Advice"}}'
  curl -s -X POST {url}/v1/resonance/detect -H 'Content-Type: application/json' \\
    -d '{{"message": "이거 왜 또 안 돼?? 급해요!!"}}'
  curl -s {url}/v1/personas
  curl -s -X POST {url}/v1/chat -H 'Content-Type: application/json' \\
    -d '{{"message": "How do I plan my week?", "session_id": "demo-1", "locale": "en"}}'
  open {url}/v1/docs for Swagger UI, {url}/v1/openapi.json for the OpenAPI document
"""


class LocalServer(ThreadingHTTPServer):
    # socketserver's default listen backlog is 5: a client opening 50 keep-alive connections at
    # once would see dropped SYNs and second-long connect retries. API Gateway has no such limit.
    request_queue_size = 1024
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-connection (wrk at the end of a run, a cancelled curl) is
        # not a server error; anything else is still printed.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--dynamodb-port", type=int, default=8000)
    parser.add_argument("--no-dynamodb", action="store_true", help="use AWS_ENDPOINT_URL_DYNAMODB as it is")
    parser.add_argument(
        "--persist",
        metavar="DIR",
        help="keep DynamoDB Local's data in DIR between runs (default: in memory, gone at exit)",
    )
    parser.add_argument("--quiet", action="store_true", help="no access log, no examples")
    options = parser.parse_args(argv)

    from scripts.dynamodb_local import DynamoDBLocal, create_tables, local_aws_environment, seed_catalog

    local: DynamoDBLocal | None = None
    if not options.no_dynamodb:
        if not options.quiet:
            where = f"data kept in {options.persist}" if options.persist else "in memory"
            print(f"==> starting DynamoDB Local on port {options.dynamodb_port} ({where})", flush=True)
        persist = Path(options.persist) if options.persist else None
        local = DynamoDBLocal(options.dynamodb_port, db_path=persist).start()
        os.environ.update(local_aws_environment(local.endpoint))
        create_tables(local.endpoint)
        seeded = seed_catalog(local.endpoint)
        if not options.quiet:
            print(f"==> catalog {'seeded' if seeded else 'kept as stored'}", flush=True)

    def stop(*_: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    server: ThreadingHTTPServer | None = None
    if not options.quiet and not json_logs():
        # Before the handlers are imported: Powertools' Logger keeps the stream it sees at creation.
        sys.stdout = HandlerOutput(sys.stdout)
    try:
        app = build_app()
        server = LocalServer((options.host, options.port), make_handler(app, options.quiet))
        if not options.quiet:
            print(EXAMPLES.format(url=f"http://{options.host}:{options.port}"), flush=True)
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        print("\nstopping", file=sys.stderr)
    finally:
        if server is not None:
            server.server_close()
        if local is not None:
            local.stop()
    return 0


if __name__ == "__main__":
    started = time.monotonic()
    raise SystemExit(main())
