"""CodeDeploy traffic hooks for ApiFunction's `live` alias (PreTraffic and PostTraffic).

Each hook invokes the version being deployed (TARGET_FUNCTION_VERSION_ARN) directly with the
smoke events shipped in handlers/smoke/ (copies of events/, kept identical by
scripts/make_events.py), checks status codes, security headers and response shapes, and
reports Succeeded or Failed to CodeDeploy. None of the events calls the model. It calls nothing
but lambda:Invoke on that version and codedeploy:PutLifecycleEventHookExecutionStatus.

In `bake` release mode (RELEASE_MODE=bake) the pre-traffic hook, once the smoke tests pass,
also starts the long bake of the new version on `live` at the plan's first share
(core.release.deploy_release.begin_bake), and reports Failed when the deploy must be refused (a
bake is active and no ReleaseOverride names it): the deploy then rolls back, and the reason is
logged and published to the release topic (`deploy_refused`).

It always reports — a crash or a timeout counts as Failed — because an unreported hook leaves
the deployment waiting for an hour. A hook killed by its own Lambda timeout cannot report, so
the smoke tests run against a deadline taken from the invocation's remaining time, less
REPORT_RESERVE_SECONDS for the report itself: an invoke starts only when its worst case
(connect + read timeout) ends before the deadline; the events left over count as failures.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.shared.settings import settings
from handlers.common import http
from handlers.common.observability import logger

SMOKE_DIR = Path(__file__).resolve().parent / "smoke"

# One smoke invoke: no retry (a smoke test that needs one has failed). The first invoke of a
# new version includes its cold start, well under the read timeout.
INVOKE_CONNECT_TIMEOUT_SECONDS = 2
INVOKE_READ_TIMEOUT_SECONDS = 8
INVOKE_WORST_CASE_SECONDS = INVOKE_CONNECT_TIMEOUT_SECONDS + INVOKE_READ_TIMEOUT_SECONDS

# The report to CodeDeploy: a few attempts, each bounded. REPORT_RESERVE_SECONDS must cover
# their worst case (attempts x (connect + read) + botocore's back-off between them); the
# template tests check it, and that the hooks' Lambda timeout fits every invoke plus the reserve.
REPORT_CONNECT_TIMEOUT_SECONDS = 2
REPORT_READ_TIMEOUT_SECONDS = 3
REPORT_MAX_ATTEMPTS = 3
REPORT_RESERVE_SECONDS = 30

# The persona any catalog picks for this key may change (operators edit the catalog); the
# normalized key may not.
ROUTE_SMOKE_KEY = "frustrated-burst-seek_advice"

ROUTE_FIELDS = {
    "persona",
    "secondary_persona",
    "confidence",
    "scores",
    "breakdown",
    "reasoning",
    "resonance",
    "catalog_version",
}
# What every answer of the service carries (SPEC section 5).
SECURITY_HEADERS = (*http.SECURITY_HEADERS, "X-Request-Id", "X-Function-Version")


def _error_code(code: str) -> Callable[[dict[str, Any]], str | None]:
    def check(body: dict[str, Any]) -> str | None:
        found = (body.get("error") or {}).get("code")
        return None if found == code and "request_id" in body else f"expected error {code}, got {body}"

    return check


def _route_body(body: dict[str, Any]) -> str | None:
    """The shape of a routing answer, whatever persona the current catalog picks."""
    missing = ROUTE_FIELDS - set(body)
    if missing:
        return f"route answer lacks {sorted(missing)}"
    scores, persona, confidence = body["scores"], body["persona"], body["confidence"]
    if not isinstance(scores, dict) or not scores:
        return f"scores is not a non-empty object: {scores!r}"
    if not isinstance(persona, str) or persona not in scores:
        return f"persona {persona!r} is not one of the scored personas {sorted(scores)}"
    if isinstance(confidence, bool) or not isinstance(confidence, int | float) or not 0 <= confidence <= 1:
        return f"confidence {confidence!r} is not a number in [0, 1]"
    resonance = body["resonance"]
    normalized = resonance.get("normalized_key") if isinstance(resonance, dict) else None
    if normalized != ROUTE_SMOKE_KEY:
        return f"resonance.normalized_key is {normalized!r}, expected {ROUTE_SMOKE_KEY!r}"
    return None


def _validate_body(body: dict[str, Any]) -> str | None:
    return None if body.get("valid") is True and body.get("normalized_key") else f"validate answered {body}"


def _personas_body(body: dict[str, Any]) -> str | None:
    personas = body.get("personas")
    return None if isinstance(personas, list) and personas else "no personas listed"


def _health_body(body: dict[str, Any]) -> str | None:
    return None if body.get("status") == "ok" and body.get("version") else f"health answered {body}"


# event file -> (expected status, body check)
CHECKS: dict[str, tuple[int, Callable[[dict[str, Any]], str | None]]] = {
    "route_valid": (200, _route_body),
    "route_invalid_key": (422, _error_code("INVALID_RESONANCE_KEY")),
    # The chat route end to end up to the key check, which comes before any model call.
    "chat_invalid_key": (422, _error_code("INVALID_RESONANCE_KEY")),
    "validate_valid": (200, _validate_body),
    "personas_list": (200, _personas_body),
    "health": (200, _health_body),
    "unknown_route": (404, _error_code("NOT_FOUND")),
}


def _clients() -> tuple[Any, Any]:
    from core.shared.aws_clients import client

    lambda_client = client(
        "lambda",
        attempts=1,  # a smoke test that needs a retry has failed
        connect_timeout=INVOKE_CONNECT_TIMEOUT_SECONDS,
        read_timeout=INVOKE_READ_TIMEOUT_SECONDS,
    )
    codedeploy = client(
        "codedeploy",
        attempts=REPORT_MAX_ATTEMPTS,
        connect_timeout=REPORT_CONNECT_TIMEOUT_SECONDS,
        read_timeout=REPORT_READ_TIMEOUT_SECONDS,
    )
    return lambda_client, codedeploy


def _now() -> float:
    return time.monotonic()


def deadline_of(context: Any) -> float:
    """When the smoke tests must stop (on the _now() clock) so the report still fits."""
    remaining_ms = context.get_remaining_time_in_millis() if context is not None else 0
    return _now() + remaining_ms / 1000 - REPORT_RESERVE_SECONDS


def check_response(name: str, response: dict[str, Any]) -> str | None:
    """None when the version's answer to smoke event `name` is right, else why not."""
    expected_status, check_body = CHECKS[name]
    if response.get("FunctionError"):
        return f"{name}: the function raised ({response.get('FunctionError')})"
    payload = json.loads(response["Payload"].read())
    if not isinstance(payload, dict):
        return f"{name}: not an API Gateway proxy response"
    status = payload.get("statusCode")
    if status != expected_status:
        return f"{name}: status {status}, expected {expected_status}"
    headers = {k.lower() for k in (payload.get("multiValueHeaders") or {})} | {
        k.lower() for k in (payload.get("headers") or {})
    }
    missing = [h for h in SECURITY_HEADERS if h.lower() not in headers]
    if missing:
        return f"{name}: missing headers {missing}"
    try:
        body = json.loads(payload.get("body") or "null")
    except ValueError:
        return f"{name}: body is not JSON"
    if not isinstance(body, dict):
        return f"{name}: body is not a JSON object"
    problem = check_body(body)
    return f"{name}: {problem}" if problem else None


def run_smoke_tests(lambda_client: Any, target: str, deadline: float) -> list[str]:
    problems: list[str] = []
    names = list(CHECKS)
    for index, name in enumerate(names):
        if _now() + INVOKE_WORST_CASE_SECONDS > deadline:
            problems.append(f"not run before the hook's deadline: {names[index:]}")
            break
        event = (SMOKE_DIR / f"{name}.json").read_text(encoding="utf-8")
        try:
            response = lambda_client.invoke(
                FunctionName=target, InvocationType="RequestResponse", Payload=event
            )
        except Exception as exc:  # timeouts and throttles included: the version did not answer
            problems.append(f"{name}: invoke failed ({type(exc).__name__})")
            continue
        problem = check_response(name, response)
        if problem:
            problems.append(problem)
    return problems


def _hook(event: dict[str, Any], context: Any, phase: str) -> dict[str, str]:
    lambda_client, codedeploy = _clients()
    target = settings().target_function_version_arn or ""
    status = "Failed"
    try:
        deadline = deadline_of(context)
        if not target:
            raise RuntimeError("TARGET_FUNCTION_VERSION_ARN is not set")
        problems = run_smoke_tests(lambda_client, target, deadline)
        if not problems and phase == "pre-traffic" and settings().release_mode == "bake":
            problems = start_bake(event, target)
        status = "Failed" if problems else "Succeeded"
        log = logger.error if problems else logger.info
        log(f"{phase} smoke tests", extra={"target": target, "status": status, "problems": problems})
    except Exception:
        logger.exception(f"{phase} hook crashed", extra={"target": target})
    finally:
        codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId=event["DeploymentId"],
            lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
            status=status,
        )
    return {"status": status}


def start_bake(event: dict[str, Any], target: str) -> list[str]:
    """Start the bake of the version under test on `live`; the refusal reason if the deploy must
    not go on."""
    from core.release.deploy_release import DeployRefused, begin_bake, parse_override, parse_plan, version_of
    from handlers.rollout_schedule import build_controller

    current = settings()
    function_name = current.api_function_name
    if not function_name:
        return ["API_FUNCTION_NAME is not set (template.yaml sets it in bake mode)"]
    controller = build_controller(current.metrics_namespace)
    try:
        rollout = begin_bake(
            controller,
            function_name,
            version_of(target),
            str(event["DeploymentId"]),
            parse_plan(current.release_plan),
            parse_override(current.release_override),
        )
    except DeployRefused as exc:
        logger.error("deploy refused", extra={"reason": str(exc), "deployment": event.get("DeploymentId")})
        return [str(exc)]
    logger.info(
        "bake started",
        extra={
            "candidate": rollout.candidate_version,
            "stable": rollout.stable_version,
            "weight": rollout.weight(),
        },
    )
    return []


@logger.inject_lambda_context(clear_state=True)
def pre_traffic_handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    return _hook(event, context, "pre-traffic")


@logger.inject_lambda_context(clear_state=True)
def post_traffic_handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    return _hook(event, context, "post-traffic")
