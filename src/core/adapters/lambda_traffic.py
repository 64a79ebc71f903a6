"""Traffic split of a weighted Lambda alias: the primary version plus at most one additional
version with a weight (Lambda's RoutingConfig)."""

from __future__ import annotations

from typing import Any


class LambdaAliasTraffic:
    def __init__(self, client: Any | None = None) -> None:
        if client is None:
            from core.adapters.clients import client as make_client

            client = make_client("lambda", attempts=4, read_timeout=10)
        self._client = client

    def current(self, function_name: str, alias: str) -> tuple[str, dict[str, float]]:
        found = self._client.get_alias(FunctionName=function_name, Name=alias)
        weights = (found.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        return str(found["FunctionVersion"]), {str(k): float(v) for k, v in weights.items()}

    def shift(self, function_name: str, alias: str, stable: str, candidate: str, weight: float) -> None:
        routing: dict[str, float]
        if weight >= 1.0:
            primary, routing = candidate, {}
        elif weight <= 0.0:
            primary, routing = stable, {}
        else:
            primary, routing = stable, {candidate: round(weight, 4)}
        self._client.update_alias(
            FunctionName=function_name,
            Name=alias,
            FunctionVersion=primary,
            RoutingConfig={"AdditionalVersionWeights": routing},
        )
