"""Header-variation fuzzing over HTTP (issue 12): every documented path (plus unknown ones) with
every method, media types in any case, with parameters and odd spacing, Accept variants and
duplicated headers. Whatever arrives, the answer is never a 5XX and always carries the full
header set; a JSON media type in any spelling is served like the lower-case one."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.common.http import SECURITY_HEADERS
from handlers.openapi_document import openapi_json
from tests.e2e.conftest import Stack

REQUIRED = (*SECURITY_HEADERS, "X-Request-Id", "X-Function-Version")
PATHS = sorted(
    {p.replace("{name}", "Lua") for p in json.loads(openapi_json())["paths"]}
    | {"/nope", "/v1", "/v1/admin", "/v1/admin/personas", "/v1/personas/NoSuchOne", "/health/"}
)
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
BODY = json.dumps(
    {"resonance_key": "frustrated-burst-seek_advice", "message": "hi", "scenario": "x", "items": []}
).encode()


JSON_BODIES = {
    "/v1/route": json.dumps({"resonance_key": "frustrated-burst-seek_advice"}).encode(),
    "/v1/chat": json.dumps({"message": "hi", "resonance_key": "calm-medium-learning"}).encode(),
}


def _case_variants(text: str) -> st.SearchStrategy[str]:
    return st.lists(st.booleans(), min_size=len(text), max_size=len(text)).map(
        lambda flags: "".join(c.upper() if up else c.lower() for c, up in zip(text, flags, strict=True))
    )


MEDIA_TYPE = st.one_of(
    _case_variants("application/json"),
    st.tuples(
        _case_variants("application/json"),
        st.sampled_from([";", " ;", "; ", " ; "]),
        st.sampled_from(["charset=UTF-8", "charset=utf-8", "CHARSET=utf-8", 'charset="utf-8"']),
    ).map("".join),
    st.sampled_from(["text/plain", "application/xml", "", "application/json-patch+json", "*/*", "json"]),
)
ACCEPT = st.sampled_from(
    [
        "*/*",
        "application/json",
        "APPLICATION/JSON",
        "text/html",
        "application/xml",
        "",
        "application/json;q=0.1, */*",
    ]
)


def send(
    stack: Stack, method: str, path: str, headers: list[tuple[str, str]], body: bytes | None
) -> tuple[int, set[str], bytes]:
    parts = urlsplit(stack.url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers:  # putheader twice = a duplicated header on the wire
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body or b"")))
        conn.endheaders(body)
        response = conn.getresponse()
        payload = response.read()
        return response.status, {name.lower() for name in response.headers}, payload
    finally:
        conn.close()


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    method=st.sampled_from(METHODS),
    path=st.sampled_from(PATHS),
    media_type=MEDIA_TYPE,
    accept=ACCEPT,
    duplicate=st.sampled_from([None, "Content-Type", "Accept", "X-Request-Id", "If-Match"]),
    with_body=st.booleans(),
)
def test_no_header_variation_is_a_server_error(
    stack: Stack, method: str, path: str, media_type: str, accept: str, duplicate: str | None, with_body: bool
) -> None:
    headers = [("Host", "fuzz"), ("Content-Type", media_type), ("Accept", accept)]
    if duplicate is not None:
        headers.append((duplicate, media_type if duplicate == "Content-Type" else "1"))
        headers.append((duplicate, "application/json" if duplicate == "Content-Type" else "2"))
    status, present, body = send(stack, method, path, headers, BODY if with_body else None)
    assert status < 500, (method, path, headers, body[:300])
    missing = [h for h in REQUIRED if h.lower() not in present]
    assert not missing, (method, path, status, missing)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    media_type=st.tuples(
        _case_variants("application/json"), st.sampled_from(["", "; charset=UTF-8", " ;charset=utf-8"])
    ).map("".join),
    path=st.sampled_from(["/v1/route", "/v1/chat"]),
)
def test_a_json_media_type_in_any_spelling_is_served(stack: Stack, media_type: str, path: str) -> None:
    body = JSON_BODIES[path]
    status, _, answer = send(stack, "POST", path, [("Host", "fuzz"), ("Content-Type", media_type)], body)
    assert status == 200, (media_type, answer[:300])
    assert json.loads(answer)["persona"]
