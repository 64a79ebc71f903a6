"""`make invoke FN=<logical id> EVENT=events/<file>.json`: what `sam local invoke` does, without
Docker. Handler, memory, timeout and environment come from template.yaml, overrides from
events/env.json (the file `sam local invoke --env-vars` reads). Unless --no-dynamodb or
AWS_ENDPOINT_URL_DYNAMODB is set, a throwaway DynamoDB Local with the template's tables and
the seeded catalog backs the call. Prints the handler's result as JSON.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for entry in (str(ROOT / "src"), str(ROOT)):
    if entry not in sys.path:
        sys.path.insert(0, entry)

from scripts.apigw import LambdaContext  # noqa: E402
from scripts.local_env import (  # noqa: E402
    function_environment,
    function_handler,
    function_settings,
    load_template,
)

EVENTS_DIR = ROOT / "events"
ENV_FILE = EVENTS_DIR / "env.json"
DOCKER_ONLY = {"AWS_ENDPOINT_URL_DYNAMODB"}  # env.json points these at host.docker.internal


def environment(function: str, env_file: Path = ENV_FILE) -> dict[str, str]:
    env = function_environment(function)
    if env_file.exists():
        overrides = json.loads(env_file.read_text(encoding="utf-8"))
        for scope in ("Parameters", function):
            env.update({k: str(v) for k, v in (overrides.get(scope) or {}).items() if k not in DOCKER_ONLY})
    return env


def invoke(function: str, event: Any) -> Any:
    module_name, attribute = function_handler(function).rsplit(".", 1)
    handler = getattr(importlib.import_module(module_name), attribute)
    settings = function_settings(function)
    return handler(event, LambdaContext(function, settings["memory"], settings["timeout"]))


def functions() -> dict[str, str]:
    """Logical id -> handler of every AWS::Serverless::Function in template.yaml."""
    resources = load_template().get("Resources", {})
    return {
        name: str(resource.get("Properties", {}).get("Handler", "?"))
        for name, resource in resources.items()
        if resource.get("Type") == "AWS::Serverless::Function"
    }


def event_files(directory: Path = EVENTS_DIR) -> list[str]:
    """The event files make invoke can send (env.json holds variables, not an event)."""
    return sorted(
        str(path.relative_to(ROOT)) for path in directory.glob("*.json") if path.name != ENV_FILE.name
    )


def usage_problem(function: str, event_path: str) -> str | None:
    """What is wrong with FN / EVENT, with the valid choices listed; None when both are fine."""
    known = functions()
    problems: list[str] = []
    if function not in known:
        listing = "\n".join(f"  {name:<28} {handler}" for name, handler in known.items())
        problems.append(f"unknown function {function!r}. FN is one of (template.yaml):\n{listing}")
    path = Path(event_path)
    if not (path if path.is_absolute() else Path.cwd() / path).is_file():
        listing = "\n".join(f"  {name}" for name in event_files())
        problems.append(f"no event file {event_path!r}. EVENT is a file such as (events/):\n{listing}")
    if not problems:
        return None
    example = "make invoke FN=ApiFunction EVENT=events/route_valid.json"
    return "\n\n".join(problems) + f"\n\nfor example: {example}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("function", help="logical id in template.yaml, e.g. ApiFunction")
    parser.add_argument("event", help="path of an event file, e.g. events/route_valid.json")
    parser.add_argument("--no-dynamodb", action="store_true")
    options = parser.parse_args(argv)

    problem = usage_problem(options.function, options.event)
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    try:
        event = json.loads(Path(options.event).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        print(f"{options.event} is not a readable JSON event: {error}", file=sys.stderr)
        return 2
    os.environ.update(environment(options.function))
    local = None
    if not options.no_dynamodb and "AWS_ENDPOINT_URL_DYNAMODB" not in os.environ:
        from scripts.dynamodb_local import DynamoDBLocal, create_tables, local_aws_environment, seed_catalog

        # Announced: starting Java and seeding takes several seconds on a busy machine.
        print(
            "==> starting a throwaway DynamoDB Local with the template's tables and the seeded "
            "catalog (about 5-15 s; --no-dynamodb or AWS_ENDPOINT_URL_DYNAMODB skips it)",
            file=sys.stderr,
            flush=True,
        )
        local = DynamoDBLocal().start()
        os.environ.update(local_aws_environment(local.endpoint))
        create_tables(local.endpoint)
        seed_catalog(local.endpoint)
        print(f"==> DynamoDB Local ready on {local.endpoint}; invoking {options.function}", file=sys.stderr)
    try:
        result = invoke(options.function, event)
    finally:
        if local is not None:
            local.stop()
    sys.stdout.flush()
    print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
