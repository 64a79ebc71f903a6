"""A Lambda function with published versions under moto (inside `mock_aws()`): what the release
simulation and the release tests build their alias on. moto cannot run the code, so it is a
one-line stub."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import boto3


def stub_code() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return 1\n")
    return buffer.getvalue()


def function_with_versions(
    name: str, descriptions: tuple[str, ...], live: int | None = 1, region: str | None = None
) -> tuple[Any, str, list[str]]:
    """Create `name`, publish one version per description (each description makes the
    configuration differ, so each publish is a new version) and, unless `live` is None, point a
    `live` alias at version number `live`. Returns (lambda client, function ARN, versions)."""
    iam = boto3.client("iam", region_name=region)
    role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    client = boto3.client("lambda", region_name=region)
    arn = client.create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": stub_code()},
    )["FunctionArn"]
    versions = []
    for text in descriptions:
        client.update_function_configuration(FunctionName=name, Description=text)
        versions.append(client.publish_version(FunctionName=name)["Version"])
    if live is not None:
        client.create_alias(FunctionName=name, Name="live", FunctionVersion=versions[live - 1])
    return client, str(arn), versions
