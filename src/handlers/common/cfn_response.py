"""Answering CloudFormation from a custom-resource function: a PUT of the result to the
pre-signed ResponseURL, in bounded time (the seed and the live-alias resources use it)."""

from __future__ import annotations

import urllib.request
from typing import Any


def remaining_ms(context: Any) -> int:
    """Milliseconds left in the invocation (60 s when the context cannot say, e.g. in tests)."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return int(remaining()) if callable(remaining) else 60_000


def send(url: str, body: bytes, timeout: float) -> None:
    """PUT the answer to CloudFormation's pre-signed S3 URL."""
    if not url.startswith("https://"):
        raise ValueError("CloudFormation ResponseURL must be https")
    request = urllib.request.Request(  # noqa: S310 - https-only, checked above
        url, data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310
        resp.read()
