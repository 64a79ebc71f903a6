"""Rollout state in the RolloutStateTable: one item per function (pk="ROLLOUT",
sk=<function name>) holding the latest rollout as JSON and a revision for optimistic locking.
Every finished or drifted rollout is also kept under sk="<function>#<started_at>" as an audit
record. A lost optimistic-locking race and a transaction conflict are both a Conflict: reload and
retry."""

from __future__ import annotations

from typing import Any

from core.release.rollout_plan import Rollout
from core.shared.errors import Conflict

PK = "ROLLOUT"


class DynamoDBRolloutStore:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        if client is None:
            from core.shared.aws_clients import client as make_client

            client = make_client("dynamodb")
        self.table_name = table_name
        self._client = client

    def get(self, function_name: str) -> Rollout | None:
        item = self._client.get_item(
            TableName=self.table_name, Key={"pk": {"S": PK}, "sk": {"S": function_name}}, ConsistentRead=True
        ).get("Item")
        return Rollout.model_validate_json(item["data"]["S"]) if item else None

    def save(self, rollout: Rollout, expected_revision: int | None) -> Rollout:
        stored = rollout.model_copy(update={"revision": (expected_revision or 0) + 1})
        item = {
            "pk": {"S": PK},
            "sk": {"S": rollout.function_name},
            "revision": {"N": str(stored.revision)},
            "status": {"S": stored.status},
            "data": {"S": stored.model_dump_json()},
        }
        if expected_revision is None:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(sk)"}
        else:
            condition = {
                "ConditionExpression": "revision = :expected",
                "ExpressionAttributeValues": {":expected": {"N": str(expected_revision)}},
            }
        writes: list[dict[str, Any]] = [{"Put": {"TableName": self.table_name, "Item": item, **condition}}]
        if not stored.active:
            archive = {**item, "sk": {"S": f"{rollout.function_name}#{int(rollout.started_at)}"}}
            writes.append({"Put": {"TableName": self.table_name, "Item": archive}})
        try:
            self._client.transact_write_items(TransactItems=writes)
        except self._client.exceptions.TransactionCanceledException as exc:
            codes = {reason.get("Code") for reason in exc.response.get("CancellationReasons", [])}
            if "ConditionalCheckFailed" in codes:
                raise Conflict(
                    f"the rollout of {rollout.function_name} was changed by someone else; reload and retry"
                ) from None
            if "TransactionConflict" in codes:
                raise Conflict(
                    f"the rollout of {rollout.function_name} was being written concurrently; reload and retry"
                ) from None
            raise
        return stored

    def all(self) -> list[Rollout]:
        rollouts: list[Rollout] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": PK}},
        }
        while True:
            page = self._client.query(**kwargs)
            for item in page.get("Items", []):
                if "#" not in item["sk"]["S"]:  # skip the audit records
                    rollouts.append(Rollout.model_validate_json(item["data"]["S"]))
            if not page.get("LastEvaluatedKey"):
                return rollouts
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
