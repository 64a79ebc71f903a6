"""Every AWS client is bounded (issue 12, defect 4): explicit timeouts and retry limits that fit
in the function timeout, the Idempotency layer included, and docs/architecture.md's table says
what the code does."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from core.persona.adapters import bedrock
from core.shared import aws_clients
from core.shared.aws_clients import DEFAULT, DYNAMODB, ClientLimits

ROOT = Path(__file__).resolve().parents[2]
# The function timeouts in template.yaml (tests/template checks the template itself).
API_TIMEOUT, ADMIN_TIMEOUT = 28, 10


def _table() -> dict[str, list[str]]:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("## Client timeouts and retries", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 7 and cells[0] not in ("client", "---"):
            rows[cells[0]] = cells
    return rows


def _seconds(cell: str) -> float:
    return float(cell.removesuffix(" s"))


@pytest.mark.parametrize(
    ("row", "limits"),
    [
        ("DynamoDB", DYNAMODB),
        ("SNS, CodeDeploy", DEFAULT),
        ("CloudWatch, Lambda", ClientLimits(2, 10, 4)),
        (
            "Bedrock Runtime",
            ClientLimits(bedrock.CONNECT_TIMEOUT_SECONDS, bedrock.READ_TIMEOUT_SECONDS, bedrock.MAX_ATTEMPTS),
        ),
    ],
)
def test_the_architecture_table_matches_the_code(row: str, limits: ClientLimits) -> None:
    cells = _table()[row]
    assert _seconds(cells[2]) == limits.connect_timeout
    assert _seconds(cells[3]) == limits.read_timeout
    assert int(cells[4]) == limits.attempts
    stalled, worst = (float(n) for n in re.findall(r"(\d+(?:\.\d+)?) s", cells[5])[:2])
    assert (stalled, worst) == (limits.stalled_seconds(), limits.worst_case_seconds())


def test_the_release_clients_are_built_with_the_limits_the_table_names() -> None:
    for path in (
        "src/core/release/adapters/cloudwatch_stats.py",
        "src/core/release/adapters/lambda_traffic.py",
    ):
        assert "attempts=4, read_timeout=10" in (ROOT / path).read_text(encoding="utf-8")


def test_a_stalled_dynamodb_call_fits_every_request_path_function() -> None:
    # A request stops at its first failed DynamoDB call; the admin function makes at most one
    # before it answers 503 (canonical_name refuses on a failed fresh read).
    # Chat: a failed DynamoDB call ends the request before any model call, and a model call
    # only follows DynamoDB calls that answered; either chain fits on its own.
    assert DYNAMODB.worst_case_seconds() < ADMIN_TIMEOUT / 1.5
    assert DYNAMODB.worst_case_seconds() < API_TIMEOUT / 4


def test_clients_carry_the_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    config = aws_clients.client("dynamodb").meta.config
    assert (config.connect_timeout, config.read_timeout) == (DYNAMODB.connect_timeout, DYNAMODB.read_timeout)
    assert config.retries == {"total_max_attempts": DYNAMODB.attempts, "mode": "standard"}


def test_the_idempotency_layer_uses_the_bounded_client(monkeypatch: pytest.MonkeyPatch) -> None:
    from aws_lambda_powertools.utilities import idempotency

    from core.shared import settings
    from handlers.routes import chat

    seen: dict[str, Any] = {}

    class Capture:
        def __init__(self, **kwargs: Any) -> None:
            seen.update(kwargs)

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("IDEMPOTENCY_TABLE", "idempotency")
    monkeypatch.setattr(idempotency, "DynamoDBPersistenceLayer", Capture)
    monkeypatch.setattr(idempotency, "idempotent_function", lambda **_: lambda f: f)
    settings.reload()
    chat._idempotent_runner.cache_clear()
    try:
        chat._idempotent_runner()
    finally:
        chat._idempotent_runner.cache_clear()
    client = seen["boto3_client"]
    assert client.meta.config.read_timeout == DYNAMODB.read_timeout
    assert client.meta.config.retries["total_max_attempts"] == DYNAMODB.attempts
