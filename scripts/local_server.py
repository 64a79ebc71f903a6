"""`make run`: the API on http://127.0.0.1:3000, served the way `sam local start-api` would.

Routes and handlers come from template.yaml. Each HTTP request becomes the REST API proxy event
API Gateway would send (scripts/apigw.py) and goes to the same handler function, in-process,
with a Lambda-like context. Like one Lambda execution environment per function, a function
handles one event at a time (a lock per function); the HTTP side is threaded with keep-alive.

    python scripts/local_server.py [--port 3000] [--dynamodb-port 8000] [--no-dynamodb] [--quiet]
"""

from __future__ import annotations

import argparse
import base64
import importlib
import json
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

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


def gateway_error(status: int, code: str, message: str, request_id: str) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps({"error": {"code": code, "message": message, "details": []}, "request_id": request_id})
    return (
        status,
        {**SECURITY_HEADERS, "Content-Type": "application/json", "X-Request-Id": request_id},
        body.encode(),
    )


class App:
    def __init__(self, routes: RouteTable, functions: dict[str, Function], stage: str = "local") -> None:
        self.routes = routes
        self.functions = functions
        self.stage = stage

    def handle(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        path, _, query = target.partition("?")
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
            # API Gateway's own answer for a method the resource lacks (Missing Authentication Token).
            status, single, payload = gateway_error(
                403, "FORBIDDEN", "this method needs IAM (SigV4) credentials or does not exist", request_id
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


def make_handler(app: App, quiet: bool) -> type[BaseHTTPRequestHandler]:
    class RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive
        server_version = "persona-router-local"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                status, single, payload = gateway_error(
                    413, "PAYLOAD_TOO_LARGE", "the request is too large", "-"
                )
                self.close_connection = True
                self._write(status, list(single.items()), payload)
                return
            body = self.rfile.read(length) if length else b""
            status, headers, payload = app.handle(self.command, self.path, list(self.headers.items()), body)
            self._write(status, headers, payload)

        def _write(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
            self.send_response(status)
            for name, value in headers:
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def __getattr__(self, name: str) -> Any:
            # Every method, standard or not, goes to the handler, which answers 405 for the ones
            # a route lacks (http.server would answer an HTML 501 instead).
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:
            if not quiet:
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
    parser.add_argument("--quiet", action="store_true", help="no access log, no examples")
    options = parser.parse_args(argv)

    from scripts.dynamodb_local import DynamoDBLocal, create_tables, local_aws_environment, seed_catalog

    local: DynamoDBLocal | None = None
    if not options.no_dynamodb:
        local = DynamoDBLocal(options.dynamodb_port).start()
        os.environ.update(local_aws_environment(local.endpoint))
        create_tables(local.endpoint)
        seed_catalog(local.endpoint)

    def stop(*_: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    server: ThreadingHTTPServer | None = None
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
