"""CloudFormation custom resource (CatalogSeed): writes the default catalog into an empty
catalog table at deploy time. Never overwrites: the seed is one conditional transaction that
fails as a whole if the table already holds a catalog (see DynamoDBCatalogStore.seed).

It answers CloudFormation itself (a PUT to the pre-signed ResponseURL) and always answers, so a
stack never waits an hour on a crashed seed. Delete and failures to seed report SUCCESS for
delete (nothing to undo: operator data is kept) and FAILED with a reason otherwise.
"""

from __future__ import annotations

import json
import os
import urllib.request
from typing import Any

from handlers.common.observability import logger


def _respond(
    event: dict[str, Any], context: Any, status: str, data: dict[str, Any], reason: str = ""
) -> None:
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason or f"See CloudWatch log stream {getattr(context, 'log_stream_name', '-')}",
            "PhysicalResourceId": event.get("PhysicalResourceId")
            or f"catalog-seed-{os.environ.get('CATALOG_TABLE', '')}",
            "StackId": event.get("StackId"),
            "RequestId": event.get("RequestId"),
            "LogicalResourceId": event.get("LogicalResourceId"),
            "NoEcho": False,
            "Data": data,
        }
    ).encode()
    url = event["ResponseURL"]
    if not url.startswith("https://"):
        raise ValueError("CloudFormation ResponseURL must be https")
    request = urllib.request.Request(  # noqa: S310 - https-only, checked above
        url, data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310
        resp.read()


def seed_catalog() -> bool:
    from core.adapters.dynamodb_catalog import DynamoDBCatalogStore
    from core.default_catalog import default_catalog

    return DynamoDBCatalogStore(os.environ["CATALOG_TABLE"]).seed(default_catalog())


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: Any) -> None:
    request_type = event.get("RequestType")
    try:
        if request_type in ("Create", "Update"):
            seeded = seed_catalog()
            logger.info("catalog seed", extra={"seeded": seeded})
            _respond(event, context, "SUCCESS", {"Seeded": str(seeded).lower()})
        else:
            _respond(event, context, "SUCCESS", {"Seeded": "false"})
    except Exception as exc:
        logger.exception("catalog seed failed")
        _respond(event, context, "FAILED", {}, reason=f"catalog seed failed: {type(exc).__name__}")
