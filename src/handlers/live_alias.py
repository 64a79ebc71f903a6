"""CloudFormation custom resource (LiveAlias, bake release mode only): makes sure ApiFunction's
`live` alias exists, and otherwise never touches it.

In bake mode `live` is the clients' alias and only the rollout controller writes its weights
(docs/rollouts.md, "Deploys and bakes"). CloudFormation must never write it: an alias moved
behind CloudFormation's back fails the next update of a stack that owns it, and a stack update
that set its version would undo a bake. So:

- Create: if `live` does not exist, create it on the version the stack has just published;
  if it exists (a stack re-entering bake mode, a replaced resource), leave it as it is.
- Update (every deploy: the published version is a property) and Delete: no call at all. The
  alias keeps whatever the controller gave it; a deleted stack deletes the function with it.

Every answer carries the alias ARN (`AliasArn`) and name (`Name`) for the invoke permission
and the stack outputs. Like the catalog seed, it answers CloudFormation itself and always in
time: bounded client timeouts, no attempt when too little time is left, the answer's own
timeout cut to the time remaining. An answer that cannot be delivered fails the invocation, and
Lambda's retry of the asynchronous call runs the (idempotent) handler again.
"""

from __future__ import annotations

import json
from typing import Any

from handlers.common.cfn_response import remaining_ms as _remaining_ms
from handlers.common.cfn_response import send as _send
from handlers.common.observability import logger

# Kept for answering CloudFormation after the Lambda calls.
ANSWER_RESERVE_MS = 15_000
# GetAlias then CreateAlias, each with LAMBDA_LIMITS' worst case: 2 x 2 x (2 + 3) = 20 s.
LAMBDA_CONNECT_TIMEOUT_S = 2
LAMBDA_READ_TIMEOUT_S = 3
LAMBDA_ATTEMPTS = 2
CALLS = 2
CALLS_BUDGET_MS = CALLS * LAMBDA_ATTEMPTS * (LAMBDA_CONNECT_TIMEOUT_S + LAMBDA_READ_TIMEOUT_S) * 1000 + 2_000
MAX_ANSWER_TIMEOUT_S = 10.0
DEFAULT_ALIAS = "live"


class BadRequest(ValueError):
    """The resource's properties cannot be acted on."""


def _lambda_client() -> Any:
    from core.shared.aws_clients import client

    return client(
        "lambda",
        attempts=LAMBDA_ATTEMPTS,
        connect_timeout=LAMBDA_CONNECT_TIMEOUT_S,
        read_timeout=LAMBDA_READ_TIMEOUT_S,
    )


def _target(properties: dict[str, Any]) -> tuple[str, str, str]:
    """(function ARN, alias name, version number) from the resource's properties."""
    function_arn = str(properties.get("FunctionArn") or "")
    alias = str(properties.get("AliasName") or DEFAULT_ALIAS)
    version = str(properties.get("Version") or "").rsplit(":", 1)[-1]
    if not function_arn.startswith("arn:") or ":function:" not in function_arn:
        raise BadRequest(f"FunctionArn {function_arn!r} is not a function ARN")
    if not version.isdigit():
        raise BadRequest(f"Version {properties.get('Version')!r} is not a published version")
    return function_arn, alias, version


def ensure_alias(lambda_client: Any, function_arn: str, alias: str, version: str) -> bool:
    """Create `alias` on `version` unless it exists; True when this call created it."""
    try:
        lambda_client.get_alias(FunctionName=function_arn, Name=alias)
        return False
    except lambda_client.exceptions.ResourceNotFoundException:
        pass
    try:
        lambda_client.create_alias(
            FunctionName=function_arn,
            Name=alias,
            FunctionVersion=version,
            Description="Clients' alias in bake mode; its weights belong to the rollout controller",
        )
    except lambda_client.exceptions.ResourceConflictException:
        return False  # created meanwhile (a retried invocation): it is there, leave it
    return True


def _respond(
    event: dict[str, Any], context: Any, status: str, physical_id: str, data: dict[str, Any], reason: str
) -> None:
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason or f"See CloudWatch log stream {getattr(context, 'log_stream_name', '-')}",
            "PhysicalResourceId": physical_id,
            "StackId": event.get("StackId"),
            "RequestId": event.get("RequestId"),
            "LogicalResourceId": event.get("LogicalResourceId"),
            "NoEcho": False,
            "Data": data,
        }
    ).encode()
    # Leave a second for the invocation to end after the answer.
    timeout = max(1.0, min(MAX_ANSWER_TIMEOUT_S, (_remaining_ms(context) - 1_000) / 1000))
    _send(str(event.get("ResponseURL", "")), body, timeout)


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: Any) -> None:
    request_type = event.get("RequestType")
    properties = event.get("ResourceProperties") or {}
    # Until the properties are known good, answer with what CloudFormation sent (or a fixed id on
    # a failed Create, so that its Delete finds nothing to do).
    physical_id = str(event.get("PhysicalResourceId") or f"live-alias-{event.get('LogicalResourceId', '')}")
    status, data, reason = "FAILED", {}, ""
    try:
        function_arn, alias, version = _target(properties)
        alias_arn = f"{function_arn}:{alias}"
        physical_id = alias_arn
        data = {"AliasArn": alias_arn, "Name": alias}
        if request_type == "Create":
            if _remaining_ms(context) < CALLS_BUDGET_MS + ANSWER_RESERVE_MS:
                raise TimeoutError("too little time left to create the alias and still answer")
            created = ensure_alias(_lambda_client(), function_arn, alias, version)
            logger.info(
                "live alias", extra={"alias": alias_arn, "alias_created": created, "version": version}
            )
            data["Created"] = str(created).lower()
        else:
            # Update and Delete: the alias is the rollout controller's; nothing to do.
            data["Created"] = "false"
        status = "SUCCESS"
    except Exception as exc:
        if request_type == "Delete":
            # Never block a stack deletion or a rollback on bad properties: nothing was touched.
            status, data = "SUCCESS", {}
        else:
            logger.exception("live alias failed", extra={"request_type": request_type})
            reason = f"live alias: {type(exc).__name__}: {exc}"[:1000]
    try:
        _respond(event, context, status, physical_id, data, reason)
    except Exception:
        logger.exception("could not answer CloudFormation", extra={"status": status})
        raise
