"""The rollout controller's AWS adapters: state in DynamoDB and alias weights in Lambda (moto),
version statistics from CloudWatch (botocore Stubber: moto has no percentile statistics)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from core.adapters.cloudwatch_stats import CloudWatchVersionStats
from core.adapters.dynamodb_rollouts import DynamoDBRolloutStore
from core.adapters.lambda_traffic import LambdaAliasTraffic
from core.errors import Conflict
from core.rollout import HOUR, Stage, VersionStats, start
from core.rollout_controller import RolloutController
from tests.integration.conftest import REGION, create_table

T0 = 1_800_000_000.0


@pytest.fixture
def store(dynamodb: Any) -> DynamoDBRolloutStore:
    return DynamoDBRolloutStore(create_table(dynamodb, "rollouts", ["pk", "sk"]), client=dynamodb)


def test_state_round_trips_with_revisions(store: DynamoDBRolloutStore) -> None:
    assert store.get("api") is None
    saved = store.save(start("api", "3", "4", T0), None)
    assert saved.revision == 1
    assert store.get("api") == saved
    again = store.save(saved.model_copy(update={"reason": "x"}), saved.revision)
    assert again.revision == 2
    assert store.get("api").reason == "x"  # type: ignore[union-attr]


def test_stale_writer_gets_a_conflict_and_changes_nothing(store: DynamoDBRolloutStore) -> None:
    saved = store.save(start("api", "3", "4", T0), None)
    store.save(saved.model_copy(update={"reason": "first"}), saved.revision)
    with pytest.raises(Conflict):
        store.save(saved.model_copy(update={"reason": "second"}), saved.revision)
    with pytest.raises(Conflict):
        store.save(start("api", "3", "5", T0), None)
    assert store.get("api").reason == "first"  # type: ignore[union-attr]


def test_finished_rollouts_are_archived_and_not_listed_twice(
    store: DynamoDBRolloutStore, dynamodb: Any
) -> None:
    saved = store.save(start("api", "3", "4", T0), None)
    store.save(saved.model_copy(update={"status": "rolled_back"}), saved.revision)
    keys = sorted(item["sk"]["S"] for item in dynamodb.scan(TableName="rollouts")["Items"])
    assert keys == ["api", f"api#{int(T0)}"]
    assert [r.function_name for r in store.all()] == ["api"]


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return 1\n")
    return buffer.getvalue()


@pytest.fixture
def lambda_alias(aws_env: None) -> Iterator[tuple[Any, list[str]]]:
    with mock_aws():
        iam = boto3.client("iam", region_name=REGION)
        role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        client = boto3.client("lambda", region_name=REGION)
        client.create_function(
            FunctionName="api",
            Runtime="python3.11",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": _zip()},
        )
        versions = []
        for text in ("v1", "v2"):
            client.update_function_configuration(FunctionName="api", Description=text)
            versions.append(client.publish_version(FunctionName="api")["Version"])
        client.create_alias(FunctionName="api", Name="live", FunctionVersion=versions[0])
        yield client, versions


def test_alias_weights_follow_the_shifts(lambda_alias: tuple[Any, list[str]]) -> None:
    client, (stable, candidate) = lambda_alias
    traffic = LambdaAliasTraffic(client)
    assert traffic.current("api", "live") == (stable, {})
    traffic.shift("api", "live", stable, candidate, 0.05)
    assert traffic.current("api", "live") == (stable, {candidate: 0.05})
    traffic.shift("api", "live", stable, candidate, 1.0)
    assert traffic.current("api", "live") == (candidate, {})
    traffic.shift("api", "live", stable, candidate, 0.0)
    assert traffic.current("api", "live") == (stable, {})


class _Metrics:
    def stats(self, function_name: str, alias: str, version: str, start: float, end: float) -> VersionStats:
        return VersionStats(version=version, requests=5000, errors=0, p95_ms=80.0)


def test_controller_against_moto_lambda_and_dynamodb(
    lambda_alias: tuple[Any, list[str]],
) -> None:
    client, (_, candidate) = lambda_alias
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    store = DynamoDBRolloutStore(create_table(dynamodb, "rollouts", ["pk", "sk"]), client=dynamodb)
    now = [T0]
    controller = RolloutController(store, LambdaAliasTraffic(client), _Metrics(), clock=lambda: now[0])
    plan = (Stage(weight=0.1, bake_hours=1), Stage(weight=1.0, bake_hours=0))
    controller.start("api", candidate, plan=plan)
    alias = client.get_alias(FunctionName="api", Name="live")
    assert alias["RoutingConfig"]["AdditionalVersionWeights"] == {candidate: 0.1}
    now[0] = T0 + 2 * HOUR
    assert controller.tick("api").action == "advance"
    assert client.get_alias(FunctionName="api", Name="live")["FunctionVersion"] == candidate
    assert controller.status("api").stage_index == 1


def _result(qid: str, values: list[float]) -> dict[str, Any]:
    return {
        "Id": qid,
        "Label": qid,
        "Timestamps": [dt.datetime(2027, 1, 1)] * len(values),
        "Values": values,
        "StatusCode": "Complete",
    }


def test_cloudwatch_stats_reads_the_versions_metrics() -> None:
    client = boto3.client("cloudwatch", region_name=REGION)
    stubber = Stubber(client)
    expected = {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY}
    stubber.add_response(
        "get_metric_data",
        {
            "MetricDataResults": [_result("invocations", [600.0]), _result("errors", [3.0])],
            "NextToken": "more",
        },
        expected,
    )
    stubber.add_response(
        "get_metric_data",
        {"MetricDataResults": [_result("p95", [120.5]), _result("routing", [1.0])]},
        {**expected, "NextToken": "more"},
    )
    with stubber:
        stats = CloudWatchVersionStats("PersonaRouter", "persona-router", client).stats(
            "api", "live", "4", T0, T0 + 3 * HOUR
        )
    stubber.assert_no_pending_responses()
    assert stats == VersionStats(version="4", requests=600, errors=3, routing_failures=1, p95_ms=120.5)


def test_cloudwatch_queries_name_the_alias_version_and_our_metric() -> None:
    client = boto3.client("cloudwatch", region_name=REGION)
    seen: list[dict[str, Any]] = []

    def capture(params: dict[str, Any], **_: Any) -> None:
        seen.append(params)

    client.meta.events.register("provide-client-params.cloudwatch.GetMetricData", capture)
    stubber = Stubber(client)
    stubber.add_response("get_metric_data", {"MetricDataResults": []})
    with stubber:
        stats = CloudWatchVersionStats("NS", "svc", client).stats("api", "live", "4", T0, T0 + 90)
    assert stats.requests == 0 and stats.p95_ms is None
    queries = {q["Id"]: q["MetricStat"] for q in seen[0]["MetricDataQueries"]}
    lambda_dims = {d["Name"]: d["Value"] for d in queries["invocations"]["Metric"]["Dimensions"]}
    assert lambda_dims == {"FunctionName": "api", "Resource": "api:live", "ExecutedVersion": "4"}
    assert queries["p95"]["Stat"] == "p95"
    assert queries["routing"]["Metric"]["Namespace"] == "NS"
    assert {d["Name"]: d["Value"] for d in queries["routing"]["Metric"]["Dimensions"]} == {
        "service": "svc",
        "FunctionVersion": "4",
    }
    assert queries["invocations"]["Period"] == 120  # the window rounded up to whole minutes


def test_cli_starts_shows_and_rolls_back(
    lambda_alias: tuple[Any, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    from scripts.rollout import main, parse_plan

    client, (stable, candidate) = lambda_alias
    create_table(boto3.client("dynamodb", region_name=REGION), "rollouts", ["pk", "sk"])
    base = ["--table", "rollouts", "--function", "api"]
    assert main([*base, "start", "--candidate", candidate, "--plan", "10:24,100:0"]) == 0
    assert client.get_alias(FunctionName="api", Name="live")["RoutingConfig"]["AdditionalVersionWeights"] == {
        candidate: 0.1
    }
    assert main([*base, "status"]) == 0
    out = capsys.readouterr().out
    assert f"stable {stable} -> candidate {candidate}" in out and "10% on the candidate" in out
    assert main([*base, "rollback", "--reason", "drill"]) == 0
    assert client.get_alias(FunctionName="api", Name="live")["FunctionVersion"] == stable
    assert main([*base, "pause"]) == 1  # nothing active any more: a clear error, no traceback
    assert "CONFLICT" in capsys.readouterr().err
    assert [s.weight for s in parse_plan("5:168,50:336:ab,100:0")] == [0.05, 0.5, 1.0]
