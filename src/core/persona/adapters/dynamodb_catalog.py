"""The persona catalog in one DynamoDB table.

Layout: every item shares the partition key pk="CATALOG", so one Query (paginated past 1 MB)
reads the whole catalog. sk="META" holds the catalog version and the routing config;
sk="PERSONA#<name>" holds one persona as JSON plus its own version for optimistic locking.
Every write is a transaction that also bumps META's catalog_version, so a reader can tell
whether its cached catalog is still current with a single GetItem.
"""

from __future__ import annotations

import json
from typing import Any

from core.persona.adapters.dependency_errors import dynamodb_call
from core.persona.personas import Catalog, CatalogConfig, Persona
from core.shared.errors import Conflict, NotFound, PreconditionRequired

PK = "CATALOG"
META_SK = "META"
PERSONA_PREFIX = "PERSONA#"


def _persona_sk(name: str) -> str:
    return PERSONA_PREFIX + name


def make_client() -> Any:
    from core.shared.aws_clients import client

    return client("dynamodb")


class DynamoDBCatalogStore:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table_name = table_name
        self._client = client if client is not None else make_client()

    # -- reads -------------------------------------------------------------------------------

    def load(self) -> Catalog | None:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": PK}},
            "ConsistentRead": True,
        }
        while True:
            with dynamodb_call("catalog store"):
                page = self._client.query(**kwargs)
            items.extend(page.get("Items", []))
            last = page.get("LastEvaluatedKey")
            if not last:
                break
            kwargs["ExclusiveStartKey"] = last

        meta: dict[str, Any] | None = None
        personas: list[Persona] = []
        for item in items:
            sk = item["sk"]["S"]
            if sk == META_SK:
                meta = item
            elif sk.startswith(PERSONA_PREFIX):
                personas.append(_persona_from_item(item))
        if meta is None and not personas:
            return None
        version = int(meta["catalog_version"]["N"]) if meta else 0
        config = (
            CatalogConfig.model_validate_json(meta["config"]["S"])
            if meta and "config" in meta
            else CatalogConfig()
        )
        personas.sort(key=lambda p: p.name)
        return Catalog(version=version, config=config, personas=tuple(personas))

    def version(self) -> int | None:
        with dynamodb_call("catalog store"):
            resp = self._client.get_item(
                TableName=self.table_name,
                Key={"pk": {"S": PK}, "sk": {"S": META_SK}},
                ProjectionExpression="catalog_version",
                ConsistentRead=True,
            )
        item = resp.get("Item")
        return int(item["catalog_version"]["N"]) if item else None

    def ping(self) -> None:
        """Raise if the table cannot be read (readiness)."""
        self.version()

    # -- writes ------------------------------------------------------------------------------

    def put_persona(self, persona: Persona, expected_version: int | None) -> Persona:
        new_version = 1 if expected_version is None else expected_version + 1
        stored = persona.model_copy(update={"version": new_version})
        put: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": _persona_to_item(stored),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if expected_version is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "attribute_exists(pk) AND #v = :expected"
            put["ExpressionAttributeNames"] = {"#v": "version"}
            put["ExpressionAttributeValues"] = {":expected": {"N": str(expected_version)}}
        self._transact({"Put": put}, persona.name, expected_version)
        return stored

    def delete_persona(self, name: str, expected_version: int) -> None:
        delete = {
            "TableName": self.table_name,
            "Key": {"pk": {"S": PK}, "sk": {"S": _persona_sk(name)}},
            "ConditionExpression": "attribute_exists(pk) AND #v = :expected",
            "ExpressionAttributeNames": {"#v": "version"},
            "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        self._transact({"Delete": delete}, name, expected_version)

    def seed(self, catalog: Catalog) -> bool:
        """All-or-nothing: META and every persona are written only if META does not exist yet.
        A concurrent or repeated seed, or any operator write (which creates META), wins."""
        from botocore.exceptions import ClientError

        ops: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": self._meta_item(catalog.version, catalog.config),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        ]
        ops += [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": _persona_to_item(p),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
            for p in catalog.personas
        ]
        try:
            self._client.transact_write_items(TransactItems=ops)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                return False
            raise
        return True

    def put_config(self, config: CatalogConfig) -> int:
        """Replace the routing config; returns the new catalog version."""
        resp = self._client.update_item(
            TableName=self.table_name,
            Key={"pk": {"S": PK}, "sk": {"S": META_SK}},
            UpdateExpression="SET #c = :c, catalog_version = if_not_exists(catalog_version, :zero) + :one",
            ExpressionAttributeNames={"#c": "config"},
            ExpressionAttributeValues={
                ":c": {"S": config.model_dump_json()},
                ":zero": {"N": "0"},
                ":one": {"N": "1"},
            },
            ReturnValues="UPDATED_NEW",
        )
        return int(resp["Attributes"]["catalog_version"]["N"])

    # -- internals ---------------------------------------------------------------------------

    def _meta_item(self, version: int, config: CatalogConfig) -> dict[str, Any]:
        return {
            "pk": {"S": PK},
            "sk": {"S": META_SK},
            "catalog_version": {"N": str(version)},
            "config": {"S": config.model_dump_json()},
        }

    def _bump_catalog_version(self) -> dict[str, Any]:
        # if_not_exists: a persona written into an empty table creates META, which also marks the
        # table as operator-owned so the seed never runs over it.
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": {"pk": {"S": PK}, "sk": {"S": META_SK}},
                "UpdateExpression": (
                    "SET catalog_version = if_not_exists(catalog_version, :zero) + :one, "
                    "#c = if_not_exists(#c, :config)"
                ),
                "ExpressionAttributeNames": {"#c": "config"},
                "ExpressionAttributeValues": {
                    ":zero": {"N": "0"},
                    ":one": {"N": "1"},
                    ":config": {"S": CatalogConfig().model_dump_json()},
                },
            }
        }

    def _transact(self, op: dict[str, Any], name: str, expected_version: int | None) -> None:
        from botocore.exceptions import ClientError

        try:
            with dynamodb_call("catalog store"):
                self._client.transact_write_items(TransactItems=[op, self._bump_catalog_version()])
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") != "TransactionCanceledException":
                raise
            reasons = exc.response.get("CancellationReasons") or []
            first = reasons[0] if reasons else {}
            if first.get("Code") != "ConditionalCheckFailed":
                # TransactionConflict and friends: another writer was mid-flight on the same items.
                raise Conflict(
                    f"persona {name!r} is being changed by another request; retry",
                    [{"name": name, "reason": first.get("Code", "TransactionCanceled")}],
                ) from None
            old = first.get("Item")
            current = int(old["version"]["N"]) if old and "version" in old else None
            if expected_version is None:
                raise PreconditionRequired(
                    f"persona {name!r} already exists; replace it with If-Match: <version>",
                    [{"name": name, "current_version": current}],
                ) from None
            if current is None:
                raise NotFound(f"persona {name!r} does not exist", [{"name": name}]) from None
            raise Conflict(
                f"persona {name!r} is at version {current}, not {expected_version}",
                [{"name": name, "expected_version": expected_version, "current_version": current}],
            ) from None


def _persona_to_item(persona: Persona) -> dict[str, Any]:
    return {
        "pk": {"S": PK},
        "sk": {"S": _persona_sk(persona.name)},
        "name": {"S": persona.name},
        "version": {"N": str(persona.version)},
        "data": {"S": persona.model_dump_json()},
    }


def _persona_from_item(item: dict[str, Any]) -> Persona:
    data = json.loads(item["data"]["S"])
    data["version"] = int(item["version"]["N"])
    return Persona.model_validate(data)
