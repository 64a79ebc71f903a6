"""API Gateway REST (v1) proxy events, as API Gateway builds them, and a Lambda context.

One builder for everything that fakes API Gateway: the local server, `make invoke`, and the
files in events/ (scripts/make_events.py), so a request means the same in all three.
"""

from __future__ import annotations

import base64
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

ACCOUNT = "123456789012"
REGION = "us-east-1"


@dataclass(frozen=True)
class Route:
    """One API event of template.yaml: method (or ANY), the resource path, the function."""

    method: str
    resource: str
    function: str

    @property
    def pattern(self) -> re.Pattern[str]:
        parts = []
        for segment in self.resource.strip("/").split("/"):
            if segment.endswith("+}"):
                parts.append(f"(?P<{segment[1:-2]}>.+)")
            elif segment.startswith("{"):
                parts.append(f"(?P<{segment[1:-1]}>[^/]+)")
            else:
                parts.append(re.escape(segment))
        return re.compile("^/" + "/".join(parts) + "$")

    @property
    def greedy(self) -> bool:
        return "+}" in self.resource


class RouteTable:
    """API Gateway's matching: the most specific resource wins (literal segments beat a path
    parameter, which beats a greedy `{proxy+}`), then the method is looked up on that resource
    only (its own method, else ANY). A resource without the method is API Gateway's own 403
    "Missing Authentication Token", never a fall-through to another resource."""

    def __init__(self, routes: Iterable[Route]) -> None:
        by_resource: dict[str, dict[str, Route]] = {}
        for route in routes:
            by_resource.setdefault(route.resource, {})[route.method.upper()] = route

        def rank(resource: str) -> tuple[bool, int, int]:
            return ("+}" in resource, resource.count("{"), -len(resource))

        self.resources = [
            (resource, Route("ANY", resource, "").pattern, methods)
            for resource, methods in sorted(by_resource.items(), key=lambda item: rank(item[0]))
        ]

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str]] | None:
        """(route, path parameters); route None when the resource exists without the method;
        None when no resource matches at all."""
        for _, pattern, methods in self.resources:
            found = pattern.match(path)
            if found:
                route = methods.get(method.upper()) or methods.get("ANY")
                return route, found.groupdict()
        return None


def proxy_event(
    method: str,
    path: str,
    resource: str | None = None,
    path_parameters: dict[str, str] | None = None,
    headers: list[tuple[str, str]] | dict[str, str] | None = None,
    query: str = "",
    body: bytes | str | None = None,
    stage: str = "local",
    request_id: str | None = None,
    source_ip: str = "127.0.0.1",
    stage_in_url: bool = True,
) -> dict[str, Any]:
    """A REST proxy event. `stage_in_url` False: the request URL had no stage prefix (the local
    server), so requestContext.path is the path as requested, as API Gateway reports it."""
    pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value  # API Gateway keeps the last value in `headers`
        multi.setdefault(name, []).append(value)
    query_pairs = parse_qsl(query, keep_blank_values=True)
    query_single = {k: v for k, v in query_pairs} or None
    query_multi: dict[str, list[str]] = {}
    for k, v in query_pairs:
        query_multi.setdefault(k, []).append(v)

    encoded = False
    text: str | None
    if body is None or body == b"" or body == "":
        text = None
    elif isinstance(body, bytes):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            # Binary-safe like API Gateway: bytes that are not UTF-8 travel base64-encoded.
            text, encoded = base64.b64encode(body).decode("ascii"), True
    else:
        text = body
    rid = request_id or str(uuid.uuid4())
    now = time.time()
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method.upper(),
        "headers": single or None,
        "multiValueHeaders": multi or None,
        "queryStringParameters": query_single,
        "multiValueQueryStringParameters": query_multi or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "local",
            "resourceId": "local",
            "resourcePath": resource or path,
            "httpMethod": method.upper(),
            "path": f"/{stage}{path}" if stage_in_url else path,
            "stage": stage,
            "protocol": "HTTP/1.1",
            "requestId": rid,
            "extendedRequestId": rid,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "identity": {"sourceIp": source_ip, "userAgent": single.get("User-Agent")},
        },
        "body": text,
        "isBase64Encoded": encoded,
    }


class LambdaContext:
    """What the Lambda runtime hands a handler, as far as Powertools and our code read it."""

    def __init__(
        self, function_name: str, memory_mb: int = 512, timeout_s: float = 30.0, version: str = "$LATEST"
    ) -> None:
        self.function_name = function_name
        self.function_version = version
        self.memory_limit_in_mb = memory_mb
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name}"
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))
