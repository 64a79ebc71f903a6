"""template.yaml as the local tools need it: API routes, handlers, environment, tables.

The local server, `make invoke`, the benchmarks and the end-to-end tests read the template
instead of repeating it, so a route or variable added there works locally at once. Short
CloudFormation tags (!Ref, !Sub, !GetAtt, ...) load as plain dicts; references resolve to
parameter defaults, and tables to their local names (the logical id).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from scripts.apigw import Route, RouteTable

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


class _Loader(yaml.SafeLoader):
    pass


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_Loader.add_multi_constructor("!", _tag)


@cache
def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    return loaded


def _resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template.get("Resources", {}).items() if v.get("Type") == kind}


def table_names(template: dict[str, Any] | None = None) -> dict[str, str]:
    """Logical id -> local table name (the logical id itself)."""
    template = template or load_template()
    return {logical: logical for logical in _resources(template, "AWS::DynamoDB::Table")}


def table_definitions(template: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """CreateTable arguments (plus the TTL attribute, if any) per local table name."""
    template = template or load_template()
    tables = {}
    for logical, resource in _resources(template, "AWS::DynamoDB::Table").items():
        props = resource["Properties"]
        tables[logical] = {
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "ttl": (props.get("TimeToLiveSpecification") or {}).get("AttributeName"),
        }
    return tables


def resolve(value: Any, template: dict[str, Any]) -> Any:
    """A property value with references made local: parameters to their defaults, tables to
    their local names, pseudo parameters to fixed local values; anything else to a string."""
    parameters = {k: v.get("Default", "") for k, v in template.get("Parameters", {}).items()}
    tables = table_names(template)
    pseudo = {
        "AWS::Region": "us-east-1",
        "AWS::AccountId": "123456789012",
        "AWS::StackName": "local",
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
    }

    def ref(name: str) -> str:
        if name in parameters:
            return str(parameters[name])
        if name in tables:
            return tables[name]
        if name in pseudo:
            return pseudo[name]
        return f"local-{name}"

    if isinstance(value, dict) and len(value) == 1:
        ((key, inner),) = value.items()
        if key == "Ref":
            return ref(inner)
        if key == "Fn::Sub":
            text, extra = (inner, {}) if isinstance(inner, str) else (inner[0], inner[1])
            return re.sub(
                r"\$\{([^}!]+)\}",
                lambda m: (
                    str(resolve(extra[m.group(1)], template))
                    if m.group(1) in extra
                    else ref(m.group(1).split(".")[0])
                ),
                text,
            )
        if key == "Fn::GetAtt":
            return f"local-{'.'.join(inner)}"
        if key == "Fn::If":
            return resolve(inner[2], template)  # conditions are false locally (dev defaults)
        return str(value)
    if isinstance(value, (str, int, float, bool)):
        return str(value) if not isinstance(value, str) else value
    return str(value)


def function_environment(logical_id: str, template: dict[str, Any] | None = None) -> dict[str, str]:
    template = template or load_template()
    globals_env = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    function = template["Resources"][logical_id]["Properties"]
    own_env = (function.get("Environment") or {}).get("Variables", {})
    return {name: str(resolve(value, template)) for name, value in {**globals_env, **own_env}.items()}


def function_handler(logical_id: str, template: dict[str, Any] | None = None) -> str:
    template = template or load_template()
    handler: str = template["Resources"][logical_id]["Properties"]["Handler"]
    return handler


def function_settings(logical_id: str, template: dict[str, Any] | None = None) -> dict[str, Any]:
    template = template or load_template()
    defaults = template.get("Globals", {}).get("Function", {})
    props = template["Resources"][logical_id]["Properties"]
    return {
        "memory": int(props.get("MemorySize", defaults.get("MemorySize", 128))),
        "timeout": float(props.get("Timeout", defaults.get("Timeout", 3))),
    }


def api_routes(template: dict[str, Any] | None = None) -> RouteTable:
    template = template or load_template()
    routes = []
    for logical, resource in _resources(template, "AWS::Serverless::Function").items():
        for event in (resource["Properties"].get("Events") or {}).values():
            if event.get("Type") == "Api":
                props = event["Properties"]
                method = str(props["Method"]).upper()
                routes.append(Route("ANY" if method == "ANY" else method, props["Path"], logical))
    # An API defined by an OpenAPI DefinitionBody (the public API): each method's Lambda
    # integration names its function as ${<Function>.Arn} in the URI.
    functions = set(_resources(template, "AWS::Serverless::Function"))
    for api in _resources(template, "AWS::Serverless::Api").values():
        paths = (api["Properties"].get("DefinitionBody") or {}).get("paths") or {}
        for path, item in paths.items():
            for method, spec in item.items():
                uri = (spec.get("x-amazon-apigateway-integration") or {}).get("uri")
                text = json.dumps(uri)
                targets = [name for name in functions if f"${{{name}.Arn}}" in text]
                if len(targets) == 1:
                    verb = "ANY" if method == "x-amazon-apigateway-any-method" else method.upper()
                    routes.append(Route(verb, path, targets[0]))
    return RouteTable(routes)
