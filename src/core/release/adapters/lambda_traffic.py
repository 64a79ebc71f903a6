"""Traffic split of a weighted Lambda alias: the primary version plus additional versions with
weights (Lambda's RoutingConfig). Every update names the alias RevisionId it was computed from,
so an alias someone else changed in between is not overwritten."""

from __future__ import annotations

from typing import Any

from core.release.rollout_plan import AliasShape
from core.shared.errors import Conflict

# PreconditionFailed: the RevisionId no longer matches. ResourceConflict: another update of the
# function is in progress. Both mean "read again and decide again".
_RACES = ("PreconditionFailedException", "ResourceConflictException")


class LambdaAliasTraffic:
    def __init__(self, client: Any | None = None) -> None:
        if client is None:
            from core.shared.aws_clients import client as make_client

            client = make_client("lambda", attempts=4, read_timeout=10)
        self._client = client

    def current(self, function_name: str, alias: str) -> tuple[AliasShape, str]:
        found = self._client.get_alias(FunctionName=function_name, Name=alias)
        weights = (found.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        shape = AliasShape(primary=str(found["FunctionVersion"]), weights=weights)
        return shape, str(found.get("RevisionId", ""))

    def route(self, function_name: str, alias: str, shape: AliasShape, revision: str) -> str:
        try:
            updated = self._client.update_alias(
                FunctionName=function_name,
                Name=alias,
                FunctionVersion=shape.primary,
                RoutingConfig={"AdditionalVersionWeights": dict(shape.weights)},
                RevisionId=revision,
            )
        except self._client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _RACES:
                raise Conflict(f"alias {function_name}:{alias} changed since it was read") from None
            raise
        return str(updated.get("RevisionId", ""))
