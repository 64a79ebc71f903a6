"""Scheduled entry point of the long-bake rollout controller (RolloutControllerFunction).

Every run looks at each baking rollout, compares the candidate's metrics with the stable
version's over the current stage and holds, advances, completes or rolls back (core.rollout).
Operators drive rollouts with `scripts/rollout.py`, which uses the same controller.
"""

from __future__ import annotations

import os
from typing import Any

from handlers.common.observability import logger, metrics


def build_controller() -> Any:
    from core.adapters.cloudwatch_stats import CloudWatchVersionStats
    from core.adapters.dynamodb_rollouts import DynamoDBRolloutStore
    from core.adapters.lambda_traffic import LambdaAliasTraffic
    from core.rollout_controller import RolloutController

    return RolloutController(
        DynamoDBRolloutStore(os.environ["ROLLOUT_TABLE"]),
        LambdaAliasTraffic(),
        CloudWatchVersionStats(
            namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "PersonaRouter"),
            service=os.environ.get("POWERTOOLS_SERVICE_NAME", "persona-router"),
        ),
    )


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for name, decision in build_controller().tick_all().items():
        logger.info(
            "rollout decision",
            extra={
                "function": name,
                "action": decision.action,
                "reason": decision.reason,
                "weight": decision.weight,
            },
        )
        if decision.action == "rollback":
            metrics.add_metric(name="RolloutRollbacks", unit="Count", value=1)
        summary[name] = decision.model_dump()
    return summary
