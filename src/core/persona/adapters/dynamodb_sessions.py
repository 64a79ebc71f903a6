"""Chat sessions in DynamoDB: one item per turn.

Keys: session_id (partition) + turn (sort) = "<epoch us, 16 digits>#<random hex>". Every turn is
its own item with a key nobody else can produce, written with attribute_not_exists, so
concurrent requests on one session each add their turn and none can overwrite another.
Reading the last turns is one Query, newest first, limited. Old turns expire through the
table's TTL attribute `expires_at`; DynamoDB deletes expired items late (often hours, at times
days), so reading also drops turns whose `expires_at` has passed - an expired turn never feeds
a prompt.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from core.persona.adapters.dependency_errors import dynamodb_call
from core.persona.prompts import Turn

DEFAULT_TTL_DAYS = 30


class DynamoDBSessionStore:
    def __init__(
        self,
        table_name: str,
        client: Any | None = None,
        ttl_days: float = DEFAULT_TTL_DAYS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if client is None:
            from core.shared.aws_clients import client as make_client

            client = make_client("dynamodb")
        self.table_name = table_name
        self._client = client
        self._ttl_seconds = int(ttl_days * 86400)
        self._clock = clock

    def history(self, session_id: str, limit: int = 3) -> list[Turn]:
        with dynamodb_call("session store"):
            resp = self._client.query(
                TableName=self.table_name,
                KeyConditionExpression="session_id = :s",
                ExpressionAttributeValues={":s": {"S": session_id}},
                ScanIndexForward=False,
                Limit=limit,
            )
        # The page is newest first and every turn gets the same TTL length, so once a turn has
        # expired every older one has too: filtering this page (rather than a FilterExpression,
        # which DynamoDB applies after Limit and so would need a larger page) loses no live turn.
        now = self._clock()
        turns = [_turn_from_item(item) for item in resp.get("Items", []) if not _expired(item, now)]
        turns.reverse()  # oldest first, the order a prompt reads them in
        return turns

    def append(self, session_id: str, turn: Turn, user_id: str | None = None) -> str:
        now = self._clock()
        sort_key = f"{int(now * 1_000_000):016d}#{secrets.token_hex(6)}"
        item: dict[str, Any] = {
            "session_id": {"S": session_id},
            "turn": {"S": sort_key},
            "user": {"S": turn.user},
            "created_at": {"N": str(int(now))},
            "expires_at": {"N": str(int(now) + self._ttl_seconds)},
        }
        if turn.assistant is not None:
            item["assistant"] = {"S": turn.assistant}
        if turn.persona is not None:
            item["persona"] = {"S": turn.persona}
        if user_id:
            item["user_id"] = {"S": user_id}
        with dynamodb_call("session store"):
            self._client.put_item(
                TableName=self.table_name,
                Item=item,
                ConditionExpression="attribute_not_exists(session_id)",
            )
        return sort_key


def _expired(item: dict[str, Any], now: float) -> bool:
    """True once the item's TTL time has been reached; items without one never expire."""
    expires = item.get("expires_at", {}).get("N")
    return expires is not None and int(expires) <= now


def _turn_from_item(item: dict[str, Any]) -> Turn:
    return Turn(
        user=item["user"]["S"],
        assistant=item["assistant"]["S"] if "assistant" in item else None,
        persona=item["persona"]["S"] if "persona" in item else None,
    )
