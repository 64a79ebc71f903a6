"""Every environment variable the functions read, in one model: name, type, default and which
functions use it. Read from os.environ and validated once per execution environment (at cold
start, when the first handler module imports it); nothing else in src/ reads os.environ.

A bad value stops the cold start with a SettingsError naming the variable, instead of a 500 on
some later request. Variables a function needs but another does not (the table names) are
optional here and checked where they are used.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date
from functools import cache
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError

API, ADMIN, SEED, HOOKS, ROLLOUTS = (
    "ApiFunction",
    "AdminFunction",
    "CatalogSeedFunction",
    "PreTrafficHook, PostTrafficHook",
    "RolloutControllerFunction",
)
ALL = "all"


def _var(default: Any, meaning: str, *functions: str, **constraints: Any) -> Any:
    return Field(
        default, description=meaning, json_schema_extra={"functions": list(functions)}, **constraints
    )


class SettingsError(ValueError):
    """An environment variable holds a value the service cannot use."""


class Settings(BaseModel):
    # Field names are the variables' names in lower case.
    model_config = ConfigDict(frozen=True, extra="ignore", alias_generator=str.upper, populate_by_name=True)

    stage: Literal["dev", "staging", "prod"] = _var("dev", "dev, staging or prod", ALL)
    service_version: str = _var("0.1.0", "version reported by GET /health", API)
    powertools_service_name: str = _var("persona-router", "service name in logs, metrics and traces", ALL)
    powertools_metrics_namespace: str | None = _var(
        None,
        "CloudWatch namespace of the EMF metrics (PersonaRouter when unset; the rollout controller "
        "needs it set)",
        ALL,
    )
    powertools_log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = _var(
        "INFO", "Powertools Logger level (read by Powertools)", ALL
    )
    catalog_table: str | None = _var(None, "DynamoDB table of the persona catalog", API, ADMIN, SEED)
    sessions_table: str | None = _var(None, "DynamoDB table of chat sessions (none: no history)", API)
    idempotency_table: str | None = _var(None, "DynamoDB table of chat Idempotency-Key records", API)
    rollout_table: str | None = _var(None, "DynamoDB table of long-bake rollouts", ROLLOUTS, HOOKS)
    catalog_cache_ttl_seconds: float = _var(
        10.0, "how long a warm function trusts its cached catalog", API, ADMIN, ge=0
    )
    llm_backend: Literal["none", "bedrock"] = _var("none", "`none` (return the prompt) or `bedrock`", API)
    bedrock_model_id: str | None = _var(None, "the Bedrock model (needed with LLM_BACKEND=bedrock)", API)
    llm_max_tokens: int = _var(1024, "reply length limit", API, ge=1)
    session_ttl_days: float = _var(30.0, "when stored turns expire", API, gt=0)
    trace_annotations: bool = _var(False, "X-Ray annotations through the X-Ray SDK", API)
    legacy_sunset_date: date | None = _var(
        None, "YYYY-MM-DD the old v1/v2 API stops answering: sent as its Sunset header", API
    )
    target_function_version_arn: str | None = _var(
        None, "the ApiFunction version the traffic hooks smoke-test", HOOKS
    )
    release_mode: Literal["canary", "bake"] = _var(
        "canary",
        "`bake`: a deploy shifts the `deployed` alias and the pre-traffic hook starts a long bake on "
        "`live`; `canary`: the deploy shifts `live` itself",
        HOOKS,
    )
    release_plan: str = _var(
        "5:168,50:336:ab,100:0", "the plan a deploy's bake follows (PERCENT:HOURS[:ab],...)", HOOKS
    )
    release_override: str = _var(
        "none",
        "`rollback:<version>` or `promote:<version>`: end that active bake before this deploy starts its own",
        HOOKS,
        pattern=r"^(none|(rollback|promote):[0-9]+)$",
    )
    api_function_name: str | None = _var(None, "the function whose `live` alias bakes", HOOKS)
    release_topic_arn: str | None = _var(
        None, "SNS topic of release notifications (none: not sent)", HOOKS, ROLLOUTS
    )
    deployment_application: str | None = _var(
        None, "CodeDeploy application of the API function's deploys", HOOKS, ROLLOUTS
    )
    deployment_group: str | None = _var(
        None, "CodeDeploy deployment group of the API function", HOOKS, ROLLOUTS
    )
    aws_lambda_function_version: str = _var(
        "$LATEST", "set by Lambda: the running version (metrics dimension)", API, ADMIN
    )

    @property
    def metrics_namespace(self) -> str:
        return self.powertools_metrics_namespace or "PersonaRouter"


def load(environ: Mapping[str, str]) -> Settings:
    """Settings from a mapping of variables; raises SettingsError naming every bad variable."""
    names = {field.alias or name.upper() for name, field in Settings.model_fields.items()}
    # Empty values count as unset, as they do for the template's optional parameters.
    values = {name: environ[name] for name in names if environ.get(name, "").strip()}
    if "POWERTOOLS_LOG_LEVEL" in values:
        values["POWERTOOLS_LOG_LEVEL"] = values["POWERTOOLS_LOG_LEVEL"].strip().upper()
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "?"
            problems.append(f"{name}={str(values.get(name, ''))[:64]!r}: {error['msg']}")
        raise SettingsError("invalid environment variable(s): " + "; ".join(problems)) from None


@cache
def settings() -> Settings:
    """The settings of this execution environment, read once."""
    return load(os.environ)


def reload() -> Settings:
    """Read the environment again (tests, and the local server after it changed the environment)."""
    settings.cache_clear()
    return settings()


def _type_name(annotation: Any) -> str:
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) is Literal:
        return "one of " + ", ".join(str(a) for a in args)
    if args:  # X | None
        return _type_name(args[0])
    return {str: "text", int: "integer", float: "number", bool: "true / false", date: "YYYY-MM-DD"}.get(
        annotation, str(annotation)
    )


def _shown(value: Any) -> str:
    # As it is written in the environment: true/false, 10 rather than 10.0.
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def markdown_table() -> str:
    """The README's table of environment variables, generated from the model."""
    rows = ["| variable | type | default | functions | meaning |", "|---|---|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = "—" if field.default is None else f"`{_shown(field.default)}`"
        extra = field.json_schema_extra
        functions = ", ".join(extra["functions"]) if isinstance(extra, dict) else ""  # type: ignore[arg-type]
        meaning = field.description
        rows.append(
            f"| `{name.upper()}` | {_type_name(field.annotation)} | {default} | {functions} | {meaning} |"
        )
    return "\n".join(rows)
