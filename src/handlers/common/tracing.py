"""X-Ray annotations (persona, resonance key), opt-in.

Lambda's own tracing (`Tracing: Active`) records every invocation without any SDK. Annotations
need the X-Ray SDK, whose import costs about a quarter to half a second at cold start on this
code's hardware (docs/performance.md) — more than the whole cold-start budget. So the SDK is
imported only when TRACE_ANNOTATIONS=true, on the first request that annotates.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from core.shared.settings import settings

ENABLED = settings().trace_annotations


class _State:
    subsegment: Any = None


_STATE = _State()


@cache
def tracer() -> Any:
    from aws_lambda_powertools import Tracer

    return Tracer(service=settings().powertools_service_name)


@contextmanager
def traced_request(name: str) -> Iterator[None]:
    """Wrap one invocation in a subsegment (annotations cannot go on Lambda's facade segment)."""
    if not ENABLED:
        yield
        return
    with tracer().provider.in_subsegment(f"## {name}") as subsegment:
        _STATE.subsegment = subsegment
        try:
            yield
        finally:
            _STATE.subsegment = None


def annotate(**annotations: str) -> None:
    subsegment = _STATE.subsegment
    if subsegment is None:
        return
    for key, value in annotations.items():
        subsegment.put_annotation(key, value)
