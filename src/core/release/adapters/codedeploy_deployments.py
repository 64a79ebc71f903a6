"""Which CodeDeploy deployments of the API function's deployment group are still running, and how
one ended. A deployment in any state before its end (created, queued, in progress, baking, ready)
may still move traffic, so it counts as running."""

from __future__ import annotations

from typing import Any

RUNNING = ["Created", "Queued", "InProgress", "Baking", "Ready"]


class CodeDeployDeployments:
    def __init__(self, application: str, group: str, client: Any | None = None) -> None:
        if client is None:
            from core.shared.aws_clients import client as make_client

            client = make_client("codedeploy")
        self.application = application
        self.group = group
        self._client = client

    def status(self, deployment_id: str) -> str:
        info = self._client.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        return str(info["status"])

    def in_progress(self) -> list[str]:
        ids: list[str] = []
        kwargs: dict[str, Any] = {
            "applicationName": self.application,
            "deploymentGroupName": self.group,
            "includeOnlyStatuses": RUNNING,
        }
        while True:
            page = self._client.list_deployments(**kwargs)
            ids.extend(page.get("deployments", []))
            if not page.get("nextToken"):
                return ids
            kwargs["nextToken"] = page["nextToken"]
