"""The local server's answers to broken HTTP (issue 12, items 7-9), over raw sockets: every
answer is in the error model with every required header and a real request id, a client that
stops sending is answered within the read timeout, and a keep-alive answer is one write."""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlsplit

import pytest

from handlers.common.http import SECURITY_HEADERS
from scripts.local_server import READ_TIMEOUT_SECONDS
from tests.e2e.conftest import Stack

REQUIRED = (*SECURITY_HEADERS, "X-Request-Id", "X-Function-Version")
POST_JSON = b"POST /v1/route HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"


def exchange(stack: Stack, raw: bytes, timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes on a new connection; read one response."""
    parts = urlsplit(stack.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(raw)
        return read_response(sock)


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed without an answer: {data!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk
        rest += chunk
    return status, headers, rest[:length]


def assert_error_model(
    status: int, headers: dict[str, str], body: bytes, expected_status: int, code: str
) -> None:
    assert status == expected_status, body
    missing = [name for name in REQUIRED if name.lower() not in headers]
    assert not missing, missing
    payload = json.loads(body)
    assert payload["error"]["code"] == code
    assert payload["request_id"] == headers["x-request-id"] != "-"


@pytest.mark.parametrize(
    "raw",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /health HTTP/1.1 extra\r\n\r\n",
        b"GET /health HTTP/9.9\r\nHost: x\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",  # a TLS hello on the plain port
    ],
    ids=["garbage", "four-words", "bad-version", "tls"],
)
def test_a_garbage_request_line_is_400_in_the_error_model(stack: Stack, raw: bytes) -> None:
    assert_error_model(*exchange(stack, raw), 400, "BAD_REQUEST")


def test_an_over_long_request_line_is_413(stack: Stack) -> None:
    raw = b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    assert_error_model(*exchange(stack, raw), 413, "PAYLOAD_TOO_LARGE")


def test_an_over_long_header_line_is_in_the_error_model(stack: Stack) -> None:
    raw = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n"
    status, headers, body = exchange(stack, raw)
    assert_error_model(status, headers, body, 413, "PAYLOAD_TOO_LARGE")


def test_too_many_headers_are_in_the_error_model(stack: Stack) -> None:
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(150))
    status, headers, body = exchange(stack, b"GET /health HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    assert status in (400, 413)
    assert_error_model(status, headers, body, status, "BAD_REQUEST" if status == 400 else "PAYLOAD_TOO_LARGE")


@pytest.mark.parametrize("value", [b"abc", b"-1", b"1e3", b"12 34"])
def test_a_bad_content_length_is_400(stack: Stack, value: bytes) -> None:
    raw = (
        b"POST /v1/route HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
        + value
        + b"\r\n\r\n{}"
    )
    assert_error_model(*exchange(stack, raw), 400, "BAD_REQUEST")


def test_conflicting_content_lengths_are_400(stack: Stack) -> None:
    raw = b"POST /v1/route HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}"
    assert_error_model(*exchange(stack, raw), 400, "BAD_REQUEST")


def test_a_body_shorter_than_its_content_length_is_answered_within_the_read_timeout(stack: Stack) -> None:
    raw = POST_JSON + b"Content-Length: 100\r\n\r\n{}"
    started = time.monotonic()
    status, headers, body = exchange(stack, raw, timeout=READ_TIMEOUT_SECONDS * 3)
    assert_error_model(status, headers, body, 400, "BAD_REQUEST")
    assert time.monotonic() - started < READ_TIMEOUT_SECONDS * 2


def test_an_oversize_body_is_413_with_a_real_request_id(stack: Stack) -> None:
    raw = POST_JSON + b"Content-Length: 20000000\r\n\r\n"
    assert_error_model(*exchange(stack, raw), 413, "PAYLOAD_TOO_LARGE")


def test_an_absolute_uri_target_is_served(stack: Stack) -> None:
    raw = f"GET {stack.url}/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    status, headers, body = exchange(stack, raw)
    assert status == 200, body
    assert all(name.lower() in headers for name in REQUIRED)


@pytest.mark.parametrize("method", ["GET", "POST", "PATCH", "OPTIONS"])
def test_a_method_the_admin_resource_lacks_is_404_in_the_error_model(stack: Stack, method: str) -> None:
    raw = f"{method} /v1/admin/personas/Lua HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".encode()
    assert_error_model(*exchange(stack, raw), 404, "NOT_FOUND")


def test_keep_alive_answers_are_one_write_each(stack: Stack) -> None:
    """Nagle's ~40 ms per keep-alive answer came from headers and body in separate sends: with
    one send, each answer arrives whole in the client's first read on a quiet connection."""
    parts = urlsplit(stack.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        for _ in range(5):
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            status, _, body = read_response(sock)
            assert status == 200 and json.loads(body)["status"] == "ok"
