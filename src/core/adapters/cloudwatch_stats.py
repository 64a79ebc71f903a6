"""Per-version statistics from CloudWatch: Lambda's own Invocations / Errors / Duration p95 for
the alias's executed version, and the service's RoutingFailures EMF metric for that version."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from core.rollout import VersionStats


class CloudWatchVersionStats:
    def __init__(self, namespace: str, service: str, client: Any | None = None) -> None:
        self._namespace = namespace
        self._service = service
        if client is None:
            from core.adapters.clients import client as make_client

            client = make_client("cloudwatch", attempts=4, read_timeout=10)
        self._client = client

    def stats(self, function_name: str, alias: str, version: str, start: float, end: float) -> VersionStats:
        # One period covering the whole window gives one datapoint per metric; periods are whole
        # minutes. Windows past 15 days still work: CloudWatch answers from hourly rollups.
        period = max(60, math.ceil((end - start) / 60) * 60)
        lambda_dims = [
            {"Name": "FunctionName", "Value": function_name},
            {"Name": "Resource", "Value": f"{function_name}:{alias}"},
            {"Name": "ExecutedVersion", "Value": version},
        ]

        def query(
            qid: str, namespace: str, name: str, dims: list[dict[str, str]], stat: str
        ) -> dict[str, Any]:
            return {
                "Id": qid,
                "MetricStat": {
                    "Metric": {"Namespace": namespace, "MetricName": name, "Dimensions": dims},
                    "Period": period,
                    "Stat": stat,
                },
                "ReturnData": True,
            }

        queries = [
            query("invocations", "AWS/Lambda", "Invocations", lambda_dims, "Sum"),
            query("errors", "AWS/Lambda", "Errors", lambda_dims, "Sum"),
            query("p95", "AWS/Lambda", "Duration", lambda_dims, "p95"),
            query(
                "routing",
                self._namespace,
                "RoutingFailures",
                [{"Name": "service", "Value": self._service}, {"Name": "FunctionVersion", "Value": version}],
                "Sum",
            ),
        ]
        values: dict[str, list[float]] = {q["Id"]: [] for q in queries}
        kwargs: dict[str, Any] = {
            "MetricDataQueries": queries,
            "StartTime": dt.datetime.fromtimestamp(start, dt.UTC),
            "EndTime": dt.datetime.fromtimestamp(max(end, start + 60), dt.UTC),
        }
        while True:
            page = self._client.get_metric_data(**kwargs)
            for result in page.get("MetricDataResults", []):
                values[result["Id"]].extend(float(v) for v in result.get("Values", []))
            token = page.get("NextToken")
            if not token:
                break
            kwargs["NextToken"] = token
        return VersionStats(
            version=version,
            requests=int(sum(values["invocations"])),
            errors=int(sum(values["errors"])),
            routing_failures=int(sum(values["routing"])),
            p95_ms=max(values["p95"]) if values["p95"] else None,
        )
