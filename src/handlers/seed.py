"""CloudFormation custom resource (CatalogSeed): writes the default catalog into an empty
catalog table at deploy time. Never overwrites: the seed is one conditional transaction that
fails as a whole if the table already holds a catalog (see DynamoDBCatalogStore.seed).

It answers CloudFormation itself (a PUT to the pre-signed ResponseURL) and always answers in
time, so a stack never waits an hour on a crashed or slow seed: the DynamoDB call gets bounded
timeouts, the seed is skipped (FAILED) when too little time is left to attempt it and still
answer, and the answer's own timeout is cut to the time remaining. Delete answers SUCCESS
(nothing to undo: operator data is kept); a failure to seed answers FAILED with a reason. If the
answer itself cannot be delivered, the invocation fails, and Lambda's retry of the asynchronous
custom-resource call runs the (idempotent) seed and answers again.
"""

from __future__ import annotations

import json
from typing import Any

from core.shared.settings import settings
from handlers.common.cfn_response import remaining_ms as _remaining_ms
from handlers.common.cfn_response import send as _send
from handlers.common.observability import logger

# Kept for answering CloudFormation after the seed attempt.
ANSWER_RESERVE_MS = 15_000
# The seed's own worst case: DynamoDB client with 2 s connect, 3 s read, 3 attempts + backoff.
SEED_BUDGET_MS = 20_000
MAX_ANSWER_TIMEOUT_S = 10.0


def _respond(
    event: dict[str, Any], context: Any, status: str, data: dict[str, Any], reason: str = ""
) -> None:
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason or f"See CloudWatch log stream {getattr(context, 'log_stream_name', '-')}",
            "PhysicalResourceId": event.get("PhysicalResourceId")
            or f"catalog-seed-{settings().catalog_table or ''}",
            "StackId": event.get("StackId"),
            "RequestId": event.get("RequestId"),
            "LogicalResourceId": event.get("LogicalResourceId"),
            "NoEcho": False,
            "Data": data,
        }
    ).encode()
    # Leave a second for the invocation to end after the answer.
    timeout = max(1.0, min(MAX_ANSWER_TIMEOUT_S, (_remaining_ms(context) - 1_000) / 1000))
    _send(str(event.get("ResponseURL", "")), body, timeout)


def seed_catalog() -> bool:
    from core.persona.adapters.dynamodb_catalog import DynamoDBCatalogStore
    from core.persona.default_catalog import default_catalog
    from core.shared.aws_clients import client

    table = settings().catalog_table
    if not table:
        raise KeyError("CATALOG_TABLE")
    store = DynamoDBCatalogStore(table, client=client("dynamodb"))
    return store.seed(default_catalog())


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: Any) -> None:
    request_type = event.get("RequestType")
    try:
        if request_type in ("Create", "Update"):
            if _remaining_ms(context) < SEED_BUDGET_MS + ANSWER_RESERVE_MS:
                raise TimeoutError("too little time left to seed and still answer")
            seeded = seed_catalog()
            logger.info("catalog seed", extra={"seeded": seeded})
            outcome: tuple[str, dict[str, Any], str] = ("SUCCESS", {"Seeded": str(seeded).lower()}, "")
        else:
            outcome = ("SUCCESS", {"Seeded": "false"}, "")
    except Exception as exc:
        logger.exception("catalog seed failed")
        outcome = ("FAILED", {}, f"catalog seed failed: {type(exc).__name__}")
    status, data, reason = outcome
    try:
        _respond(event, context, status, data, reason)
    except Exception:
        logger.exception("could not answer CloudFormation", extra={"status": status})
        raise
