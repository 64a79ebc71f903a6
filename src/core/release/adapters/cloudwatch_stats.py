"""Per-version statistics from CloudWatch, for one window, the same for both versions:

- Lambda's Invocations and Errors for the alias's executed version (crashes and timeouts);
- the service's own EMF metrics per FunctionVersion (handlers/common/app.py): Requests,
  ServerErrors (the 5XX answers it gives, which Lambda does not count as errors), RoutingFailures,
  and Latency p50/p95 (measured inside the handler, so Lambda init is excluded).

requests = max(Invocations, Requests) (a crash emits no EMF; an EMF line may lag Lambda's count),
errors and server errors are reported apart and the gates add them (VersionStats.failed).

One query period covers the whole window, so each metric comes back as one datapoint and p95 is
the percentile of the whole window. CloudWatch keeps 1-minute data for 15 days, 5-minute data for
63 days and hourly data for 455 days, and returns nothing for a start older than 15 (63) days
unless the period is a multiple of 300 (3600) seconds. The window is therefore widened to that
resolution: its start is rounded down (as CloudWatch itself would) and its length up, so a long
window may take in up to an hour before the stage began. Should several datapoints come back,
counts are summed and the largest p95 is kept (the conservative side for a gate).
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable
from typing import Any

from core.release.rollout_plan import VersionStats
from core.shared.errors import ValidationFailed

DAY = 86_400


def resolution(start_age: float) -> int:
    """The finest period CloudWatch answers for a window starting `start_age` seconds ago."""
    if start_age >= 63 * DAY:
        return 3600
    if start_age >= 15 * DAY:
        return 300
    return 60


def query_window(start: float, end: float, now: float) -> tuple[float, float, int]:
    """(start, end, period) of the one-period query that covers [start, end)."""
    unit = resolution(now - start)
    first = math.floor(start / unit) * unit
    period = max(unit, math.ceil((end - first) / unit) * unit)
    return first, first + period, period


class CloudWatchVersionStats:
    def __init__(
        self,
        namespace: str | None,
        service: str,
        client: Any | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._namespace = namespace
        self._service = service
        self._clock = clock
        if client is None:
            from core.shared.aws_clients import client as make_client

            client = make_client("cloudwatch", attempts=4, read_timeout=10)
        self._client = client

    def stats(self, function_name: str, alias: str, version: str, start: float, end: float) -> VersionStats:
        if not self._namespace:
            raise ValidationFailed(
                "no metrics namespace: the service's metrics live in PersonaRouter/<stage> (samconfig.toml)"
            )
        first, last, period = query_window(start, end, self._clock())
        lambda_dims = [
            {"Name": "FunctionName", "Value": function_name},
            {"Name": "Resource", "Value": f"{function_name}:{alias}"},
            {"Name": "ExecutedVersion", "Value": version},
        ]

        own_dims = [
            {"Name": "service", "Value": self._service},
            {"Name": "FunctionVersion", "Value": version},
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
            query("requests", self._namespace, "Requests", own_dims, "Sum"),
            query("server_errors", self._namespace, "ServerErrors", own_dims, "Sum"),
            query("routing", self._namespace, "RoutingFailures", own_dims, "Sum"),
            query("p50", self._namespace, "Latency", own_dims, "p50"),
            query("p95", self._namespace, "Latency", own_dims, "p95"),
        ]
        values: dict[str, list[float]] = {q["Id"]: [] for q in queries}
        kwargs: dict[str, Any] = {
            "MetricDataQueries": queries,
            "StartTime": dt.datetime.fromtimestamp(first, dt.UTC),
            "EndTime": dt.datetime.fromtimestamp(last, dt.UTC),
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
            requests=int(max(sum(values["invocations"]), sum(values["requests"]))),
            errors=int(sum(values["errors"])),
            server_errors=int(sum(values["server_errors"])),
            routing_failures=int(sum(values["routing"])),
            p50_ms=max(values["p50"]) if values["p50"] else None,
            p95_ms=max(values["p95"]) if values["p95"] else None,
        )
