"""Scheduled entry point of the long-bake rollout controller (RolloutControllerFunction).

Every run first makes the `live` alias match each rollout's stored state (or notes that someone
else moved it), then compares each baking candidate's metrics with the stable version's over the
current stage and holds, advances, completes or rolls back (core.release.rollout_controller). A rollout
that fails does not stop the others; the run fails at the end so that the function's Errors
metric shows it. Operators drive rollouts with `scripts/rollout.py`, which uses the same wiring.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.shared.settings import settings
from handlers.common.observability import logger, metrics

if TYPE_CHECKING:
    from core.release.notifications import Notifier
    from core.release.release_ports import DeploymentWatch
    from core.release.rollout_controller import RolloutController


class RolloutRunFailed(RuntimeError):
    """Raised after every rollout was processed when at least one of them failed."""


def build_controller(namespace: str | None, table: str | None = None) -> RolloutController:
    """The controller on AWS. `namespace` is the service's metrics namespace (PersonaRouter/<stage>);
    None is allowed for commands that read no metrics."""
    from core.release.adapters.cloudwatch_stats import CloudWatchVersionStats
    from core.release.adapters.dynamodb_rollouts import DynamoDBRolloutStore
    from core.release.adapters.lambda_traffic import LambdaAliasTraffic
    from core.release.rollout_controller import RolloutController

    return RolloutController(
        DynamoDBRolloutStore(table or _rollout_table()),
        LambdaAliasTraffic(),
        CloudWatchVersionStats(namespace=namespace, service=settings().powertools_service_name),
        notifier=_notifier(),
        deployments=_deployments(),
    )


def _notifier() -> Notifier:
    """SNS when the stack names a topic (RELEASE_TOPIC_ARN), else nothing is sent (local runs)."""
    from core.release.notifications import NoNotifier

    topic = settings().release_topic_arn
    if not topic:
        return NoNotifier()
    from core.release.adapters.sns_notifier import SnsNotifier

    return SnsNotifier(topic)


def _deployments() -> DeploymentWatch | None:
    """CodeDeploy's view of the API function's deployments, when the stack names its group."""
    current = settings()
    if not (current.deployment_application and current.deployment_group):
        return None
    from core.release.adapters.codedeploy_deployments import CodeDeployDeployments

    return CodeDeployDeployments(current.deployment_application, current.deployment_group)


def _rollout_table() -> str:
    table = settings().rollout_table
    if not table:
        raise RolloutRunFailed("ROLLOUT_TABLE is not set (template.yaml sets it)")
    return table


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    namespace = settings().powertools_metrics_namespace
    if not namespace:
        raise RolloutRunFailed("POWERTOOLS_METRICS_NAMESPACE is not set (template.yaml sets it)")
    summary = build_controller(namespace).tick_all()
    result: dict[str, Any] = {}
    for name, decision in summary.decisions.items():
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
        if decision.action == "drift":
            metrics.add_metric(name="RolloutDrifts", unit="Count", value=1)
        result[name] = decision.model_dump()
    for name, error in summary.failures.items():
        logger.error("rollout failed", extra={"function": name, "error": error})
        metrics.add_metric(name="RolloutFailures", unit="Count", value=1)
    if summary.failures:
        raise RolloutRunFailed(f"{len(summary.failures)} rollout(s) failed: {summary.failures}")
    return result
