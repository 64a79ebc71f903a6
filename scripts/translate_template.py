"""Translate template.yaml with the SAM translator, offline, and print the CloudFormation JSON.

What `sam package` + CloudFormation's transform would produce: local CodeUri paths are first
replaced by s3:// locations (the translator wants those), then AWS::Serverless::* resources
become plain CloudFormation. Used by `make security` (checkov) and the template tests.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"


class _NoManagedPolicies:
    """The translator looks up managed policy names through IAM; the template only uses ARNs and
    policy templates, so an empty map keeps the translation offline."""

    def load(self) -> dict[str, str]:
        return {}


def _packaged(template: dict[str, Any]) -> dict[str, Any]:
    def s3(uri: Any) -> Any:
        return "s3://persona-router-artifacts/code.zip" if isinstance(uri, str) and "://" not in uri else uri

    function_globals = template.get("Globals", {}).get("Function", {})
    if "CodeUri" in function_globals:
        function_globals["CodeUri"] = s3(function_globals["CodeUri"])
    for resource in template.get("Resources", {}).values():
        properties = resource.get("Properties") or {}
        if resource.get("Type") == "AWS::Serverless::Function":
            properties["CodeUri"] = s3(properties.get("CodeUri", function_globals.get("CodeUri", ".")))
        if resource.get("Type") == "AWS::Serverless::LayerVersion" and "ContentUri" in properties:
            properties["ContentUri"] = s3(properties["ContentUri"])
    return template


def translate(
    path: Path = ROOT / "template.yaml", parameters: dict[str, str] | None = None
) -> dict[str, Any]:
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    template = _packaged(yaml_parse(path.read_text(encoding="utf-8")))
    result: dict[str, Any] = transform(template, parameters or {}, _NoManagedPolicies())
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", default=str(ROOT / "template.yaml"))
    parser.add_argument("--parameter", action="append", default=[], metavar="KEY=VALUE")
    options = parser.parse_args(argv)
    parameters = dict(item.split("=", 1) for item in options.parameter)
    json.dump(translate(Path(options.template), parameters), sys.stdout, indent=1, default=str)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
