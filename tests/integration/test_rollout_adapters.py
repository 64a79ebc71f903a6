"""The rollout controller's AWS adapters: state in DynamoDB and alias weights in Lambda (moto),
version statistics from CloudWatch (botocore Stubber: moto has no percentile statistics), the
alias RevisionId and DynamoDB transaction conflicts (Stubber: moto ignores RevisionId), and the
operator CLI end to end."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from core.release.adapters.cloudwatch_stats import DAY, CloudWatchVersionStats
from core.release.adapters.dynamodb_rollouts import DynamoDBRolloutStore
from core.release.adapters.lambda_traffic import LambdaAliasTraffic
from core.release.rollout_controller import RolloutController
from core.release.rollout_plan import HOUR, AliasShape, Stage, VersionStats, split, start
from core.shared import aws_clients as clients
from core.shared.errors import Conflict, ValidationFailed
from scripts.moto_lambda import function_with_versions
from scripts.rollout import main, parse_plan
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


def test_a_transaction_conflict_is_a_retryable_conflict() -> None:
    client = boto3.client("dynamodb", region_name=REGION)
    stubber = Stubber(client)
    for code in ("TransactionConflict", "ValidationError"):
        stubber.add_client_error(
            "transact_write_items",
            service_error_code="TransactionCanceledException",
            service_message="Transaction cancelled",
            modeled_fields={"CancellationReasons": [{"Code": code, "Message": code}]},
        )
    store = DynamoDBRolloutStore("rollouts", client=client)
    with stubber:
        with pytest.raises(Conflict, match="concurrently"):
            store.save(start("api", "3", "4", T0), None)
        with pytest.raises(client.exceptions.TransactionCanceledException):
            store.save(start("api", "3", "4", T0), None)  # anything else is not a conflict
    stubber.assert_no_pending_responses()


@pytest.fixture
def lambda_alias(aws_env: None) -> Iterator[tuple[Any, list[str]]]:
    """Function "api" with versions 1 (on `live`), 2 (to bake) and 3 (a later deploy)."""
    with mock_aws():
        client, _, versions = function_with_versions("api", ("v1", "v2", "v3"), region=REGION)
        yield client, versions


def _alias(client: Any) -> AliasShape:
    found = client.get_alias(FunctionName="api", Name="live")
    weights = (found.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    return AliasShape(primary=found["FunctionVersion"], weights=weights)


def _deploy(client: Any, version: str) -> None:
    """What `sam deploy` leaves behind: the new version alone on the alias."""
    client.update_alias(
        FunctionName="api",
        Name="live",
        FunctionVersion=version,
        RoutingConfig={"AdditionalVersionWeights": {}},
    )


def test_alias_weights_follow_the_routes(lambda_alias: tuple[Any, list[str]]) -> None:
    client, (stable, candidate, _) = lambda_alias
    traffic = LambdaAliasTraffic(client)
    shape, revision = traffic.current("api", "live")
    assert shape == AliasShape(primary=stable) and revision
    for weight in (0.05, 1.0, 0.0):
        _, revision = traffic.current("api", "live")
        traffic.route("api", "live", split(stable, candidate, weight), revision)
        assert traffic.current("api", "live")[0] == split(stable, candidate, weight) == _alias(client)


def test_an_alias_update_names_the_revision_it_was_computed_from() -> None:
    client = boto3.client("lambda", region_name=REGION)
    stubber = Stubber(client)
    alias = {"AliasArn": "arn:aws:lambda:us-east-1:123456789012:function:api:live", "Name": "live"}
    stubber.add_response(
        "get_alias",
        {
            **alias,
            "FunctionVersion": "1",
            "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.05}},
            "RevisionId": "rev-1",
        },
        {"FunctionName": "api", "Name": "live"},
    )
    stubber.add_response(
        "update_alias",
        {**alias, "FunctionVersion": "1", "RevisionId": "rev-2"},
        {
            "FunctionName": "api",
            "Name": "live",
            "FunctionVersion": "1",
            "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.5}},
            "RevisionId": "rev-1",
        },
    )
    for code in ("PreconditionFailedException", "ResourceConflictException"):
        stubber.add_client_error("update_alias", service_error_code=code, http_status_code=412)
    traffic = LambdaAliasTraffic(client)
    with stubber:
        shape, revision = traffic.current("api", "live")
        assert (shape, revision) == (split("1", "2", 0.05), "rev-1")
        assert traffic.route("api", "live", split("1", "2", 0.5), revision) == "rev-2"
        for _ in range(2):  # someone else changed the alias since it was read: not overwritten
            with pytest.raises(Conflict):
                traffic.route("api", "live", split("1", "2", 1.0), revision)
    stubber.assert_no_pending_responses()


class _Metrics:
    def stats(self, function_name: str, alias: str, version: str, start: float, end: float) -> VersionStats:
        return VersionStats(version=version, requests=5000, errors=0, p95_ms=80.0)


def test_controller_against_moto_lambda_and_dynamodb(lambda_alias: tuple[Any, list[str]]) -> None:
    client, (stable, candidate, deployed) = lambda_alias
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    store = DynamoDBRolloutStore(create_table(dynamodb, "rollouts", ["pk", "sk"]), client=dynamodb)
    now = [T0]
    controller = RolloutController(store, LambdaAliasTraffic(client), _Metrics(), clock=lambda: now[0])
    plan = (Stage(weight=0.1, bake_hours=1), Stage(weight=0.5, bake_hours=1), Stage(weight=1.0, bake_hours=0))
    controller.start("api", candidate, plan=plan)
    assert _alias(client) == split(stable, candidate, 0.1)
    now[0] = T0 + 2 * HOUR
    assert controller.tick("api").action == "advance"
    assert _alias(client) == split(stable, candidate, 0.5)
    assert controller.status("api").stage_index == 1
    _deploy(client, deployed)
    now[0] = T0 + 4 * HOUR
    assert controller.tick("api").action == "drift"
    assert _alias(client) == AliasShape(primary=deployed)  # the deploy's alias is left alone
    assert controller.status("api").status == "drifted"
    keys = {item["sk"]["S"] for item in dynamodb.scan(TableName="rollouts")["Items"]}
    assert keys == {"api", f"api#{int(T0)}"}  # a drifted rollout is kept as an audit record


def _result(qid: str, values: list[float]) -> dict[str, Any]:
    return {
        "Id": qid,
        "Label": qid,
        "Timestamps": [dt.datetime(2027, 1, 1)] * len(values),
        "Values": values,
        "StatusCode": "Complete",
    }


def test_cloudwatch_stats_adds_the_services_5xx_to_lambda_errors() -> None:
    client = boto3.client("cloudwatch", region_name=REGION)
    stubber = Stubber(client)
    stubber.add_response(
        "get_metric_data",
        {
            "MetricDataResults": [
                _result("invocations", [100.0]),
                _result("requests", [98.0]),  # two crashed: no EMF line for them
                _result("errors", [2.0]),
                _result("server_errors", [5.0]),
                _result("p50", [40.0]),
                _result("p95", [90.0]),
            ]
        },
    )
    with stubber:
        stats = CloudWatchVersionStats("NS", "svc", client, clock=lambda: T0 + 900).stats(
            "api", "live", "4", T0, T0 + 900
        )
    assert (stats.requests, stats.errors, stats.server_errors, stats.failed) == (100, 2, 5, 7)
    assert (stats.p50_ms, stats.p95_ms) == (40.0, 90.0)


def test_cloudwatch_stats_reads_the_versions_metrics() -> None:
    client = boto3.client("cloudwatch", region_name=REGION)
    stubber = Stubber(client)
    expected = {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY}
    stubber.add_response(
        "get_metric_data",
        {
            "MetricDataResults": [_result("invocations", [450.0, 150.0]), _result("errors", [3.0])],
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
        stats = CloudWatchVersionStats(
            "PersonaRouter", "persona-router", client, clock=lambda: T0 + 3 * HOUR
        ).stats("api", "live", "4", T0, T0 + 3 * HOUR)
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
        stats = CloudWatchVersionStats("NS", "svc", client, clock=lambda: T0 + 90).stats(
            "api", "live", "4", T0, T0 + 90
        )
    assert stats.requests == 0 and stats.p95_ms is None
    queries = {q["Id"]: q["MetricStat"] for q in seen[0]["MetricDataQueries"]}
    lambda_dims = {d["Name"]: d["Value"] for d in queries["invocations"]["Metric"]["Dimensions"]}
    assert lambda_dims == {"FunctionName": "api", "Resource": "api:live", "ExecutedVersion": "4"}
    # The service's own per-version answers: requests, 5XX and in-handler latency (no Lambda init).
    for qid, name, stat in (
        ("requests", "Requests", "Sum"),
        ("server_errors", "ServerErrors", "Sum"),
        ("p50", "Latency", "p50"),
        ("p95", "Latency", "p95"),
    ):
        metric = queries[qid]["Metric"]
        assert (metric["Namespace"], metric["MetricName"], queries[qid]["Stat"]) == ("NS", name, stat)
        assert {d["Name"]: d["Value"] for d in metric["Dimensions"]} == {
            "service": "svc",
            "FunctionVersion": "4",
        }
    assert queries["routing"]["Metric"]["Namespace"] == "NS"
    assert {d["Name"]: d["Value"] for d in queries["routing"]["Metric"]["Dimensions"]} == {
        "service": "svc",
        "FunctionVersion": "4",
    }
    assert queries["invocations"]["Period"] == 120  # the window rounded up to whole minutes


def _captured_queries(client: Any) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    client.meta.events.register(
        "provide-client-params.cloudwatch.GetMetricData", lambda params, **_: seen.append(params)
    )
    return seen


@pytest.mark.parametrize(
    ("age", "start_rounding", "period"),
    [
        # 1 h: 1-minute data; the start goes down to its minute, the length up to whole minutes.
        (HOUR, 60, HOUR + 60),
        # 16 days: only 5-minute data is answered, so the period is a multiple of 300 s.
        (16 * DAY, 300, 16 * DAY + 300),
        # 70 days (plans allow 90): hourly data, a multiple of 3600 s.
        (70 * DAY, 3600, 70 * DAY + 3600),
    ],
)
def test_the_period_follows_cloudwatch_retention_for_the_windows_age(
    age: float, start_rounding: int, period: int
) -> None:
    client = boto3.client("cloudwatch", region_name=REGION)
    seen = _captured_queries(client)
    stubber = Stubber(client)
    stubber.add_response("get_metric_data", {"MetricDataResults": [_result("invocations", [7.0, 5.0])]})
    start_at = T0 - age - 17  # a stage never starts on a round minute
    with stubber:
        stats = CloudWatchVersionStats("NS", "svc", client, clock=lambda: T0).stats(
            "api", "live", "4", start_at, T0
        )
    assert stats.requests == 12  # several datapoints would be summed
    [params] = seen
    periods = {q["MetricStat"]["Period"] for q in params["MetricDataQueries"]}
    assert periods == {period}  # one period for every metric: one datapoint, p95 over the window
    assert period % start_rounding == 0
    first = params["StartTime"].timestamp()
    assert first == T0 - age - start_rounding  # rounded down to the resolution, as CloudWatch does
    assert params["EndTime"].timestamp() - first == period >= T0 - start_at


def test_metrics_need_a_namespace() -> None:
    with pytest.raises(ValidationFailed, match="namespace"):
        CloudWatchVersionStats(None, "svc", boto3.client("cloudwatch", region_name=REGION)).stats(
            "api", "live", "4", T0, T0 + HOUR
        )


# ---- the operator CLI -----------------------------------------------------------------------

BASE = ["--table", "rollouts", "--function", "api"]
NS = "PersonaRouter/dev"


@pytest.fixture
def cli(
    lambda_alias: tuple[Any, list[str]], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Any, Stubber]]:
    """moto for DynamoDB and Lambda, a Stubber for CloudWatch (percentiles), through the CLI's own
    client factory."""
    client, _ = lambda_alias
    create_table(boto3.client("dynamodb", region_name=REGION), "rollouts", ["pk", "sk"])
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    real = clients.client

    def make(service: str, *args: Any, **kwargs: Any) -> Any:
        return cloudwatch if service == "cloudwatch" else real(service, *args, **kwargs)

    monkeypatch.setattr(clients, "client", make)
    monkeypatch.delenv("ROLLOUT_METRICS_NAMESPACE", raising=False)
    stubber = Stubber(cloudwatch)
    with stubber:
        yield client, stubber
    stubber.assert_no_pending_responses()


def _metrics(stubber: Stubber, requests: float, errors: float, p95: float) -> None:
    """One version's GetMetricData answer."""
    stubber.add_response(
        "get_metric_data",
        {
            "MetricDataResults": [
                _result("invocations", [requests]),
                _result("errors", [errors]),
                _result("p95", [p95]),
                _result("routing", [0.0]),
            ]
        },
        {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY},
    )


def test_cli_starts_shows_and_rolls_back(
    cli: tuple[Any, Stubber], lambda_alias: tuple[Any, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    client, _ = cli
    _, (stable, candidate, _) = lambda_alias
    assert main([*BASE, "start", "--candidate", candidate, "--plan", "10:24,100:0"]) == 0
    assert _alias(client) == split(stable, candidate, 0.1)
    assert main([*BASE, "status"]) == 0
    out = capsys.readouterr().out
    assert f"stable {stable} -> candidate {candidate}" in out and "10% on the candidate" in out
    assert main([*BASE, "rollback", "--reason", "drill"]) == 0
    assert _alias(client) == AliasShape(primary=stable)
    assert main([*BASE, "pause"]) == 1  # nothing active any more: a clear error, no traceback
    err = capsys.readouterr().err
    assert err.startswith("error: CONFLICT") and len(err.splitlines()) == 1
    assert [s.weight for s in parse_plan("5:168,50:336:ab,100:0")] == [0.05, 0.5, 1.0]


def test_cli_tick_needs_the_stacks_metrics_namespace(
    cli: tuple[Any, Stubber],
    lambda_alias: tuple[Any, list[str]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, stubber = cli
    _, (_, candidate, _) = lambda_alias
    seen = _captured_queries(client=stubber.client)
    assert main([*BASE, "start", "--candidate", candidate, "--plan", "10:24,100:0"]) == 0
    capsys.readouterr()
    for command in ("tick", "promote"):
        assert main([*BASE, command]) == 2
        assert "--namespace PersonaRouter/<stage>" in capsys.readouterr().err
    monkeypatch.setenv("ROLLOUT_METRICS_NAMESPACE", NS)  # the variable works as well as the flag
    assert main([*BASE, "tick"]) == 0
    assert capsys.readouterr().out.startswith("hold: baking at 10%")
    # Right after the start there is no complete window yet (metrics arrive minutes late): none read.
    assert seen == []


def test_cli_drift_resume_and_promote_with_the_ab_report(
    cli: tuple[Any, Stubber], lambda_alias: tuple[Any, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    client, stubber = cli
    _, (stable, candidate, deployed) = lambda_alias
    assert main([*BASE, "start", "--candidate", candidate, "--plan", "10:24,50:48:ab,100:0"]) == 0
    _deploy(client, deployed)
    capsys.readouterr()
    assert main([*BASE, "--namespace", NS, "tick"]) == 0  # no metrics read: nothing is stubbed
    out = capsys.readouterr().out
    assert out.startswith("drift: alias live was changed outside the controller")
    assert "status     drifted" in out
    assert main([*BASE, "resume"]) == 1
    assert "--force" in capsys.readouterr().err
    assert _alias(client) == AliasShape(primary=deployed)
    assert main([*BASE, "resume", "--force", "--reason", "deploy was a mistake"]) == 0
    assert _alias(client) == split(stable, candidate, 0.1)
    assert main([*BASE, "--namespace", NS, "promote"]) == 0  # stage 1 has no report: no metrics
    assert _alias(client) == split(stable, candidate, 0.5)
    _metrics(stubber, 500, 2, 120.0)  # candidate
    _metrics(stubber, 480, 1, 100.0)  # stable
    capsys.readouterr()
    assert main([*BASE, "--namespace", NS, "promote", "--reason", "A/B looks fine"]) == 0
    out = capsys.readouterr().out
    assert _alias(client) == AliasShape(primary=candidate)
    assert "status     baking" in out and "stage      3/3: 100% on the candidate" in out
    assert "A/B report stage 2 at 50%" in out and "ended by promote" in out
    assert (
        f"candidate v{candidate}: 500 requests, 2 errors (0.400%, 95% 0.110%..1.447%), p50 -, p95 120 ms"
        in out
    )
    assert f"stable    v{stable}: 480 requests, 1 errors" in out
    assert "verdict   no detectable difference (could detect" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["start", "--candidate", "2", "--min-requests", "-1"], "min_requests"),
        (["start", "--candidate", "2", "--alpha", "0"], "alpha"),
        (["start", "--candidate", "2", "--plan", "5:abc,100:0"], "bad stage '5:abc'"),
        (["start", "--candidate", "2", "--plan", "150:1,100:0"], "less than or equal to 1"),
        (["start", "--candidate", "2", "--plan", "5:1,50:1"], "must send 100%"),
    ],
)
def test_cli_bad_values_are_usage_errors_on_one_line(
    cli: tuple[Any, Stubber], capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main([*BASE, *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_cli_missing_table_is_an_operational_error(
    lambda_alias: tuple[Any, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*BASE, "status"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: AWS ResourceNotFoundException") and len(err.splitlines()) == 1


def test_cli_access_denied_is_an_operational_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    stubber = Stubber(dynamodb)
    stubber.add_client_error(
        "get_item", service_error_code="AccessDeniedException", service_message="not authorized: GetItem"
    )
    real = clients.client
    monkeypatch.setattr(
        clients,
        "client",
        lambda service, *a, **k: dynamodb if service == "dynamodb" else real(service, *a, **k),
    )
    with stubber:
        assert main([*BASE, "status"]) == 1
    err = capsys.readouterr().err
    assert err == "error: AWS AccessDeniedException: not authorized: GetItem\n"


def test_cli_without_credentials_is_an_operational_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # no credentials cached by an earlier test
    assert main([*BASE, "status"]) == 1
    err = capsys.readouterr().err
    assert err == "error: AWS: Unable to locate credentials\n"
