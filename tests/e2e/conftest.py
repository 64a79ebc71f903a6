"""End-to-end harness: DynamoDB Local (Amazon's engine) and the local server in subprocesses,
real HTTP from the tests. Everything started here is stopped here, failures included."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from scripts.dynamodb_local import (
    DynamoDBLocal,
    create_tables,
    free_port,
    local_aws_environment,
    seed_catalog,
    stop_process,
)
from tests.e2e.chromium import browser  # noqa: F401  (one headless Chromium per session)

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Stack:
    """A running local server and the DynamoDB Local behind it."""

    url: str
    dynamodb: DynamoDBLocal
    server: subprocess.Popen[bytes]
    session: requests.Session = field(default_factory=requests.Session)

    def restart_dynamodb(self) -> None:
        """Start DynamoDB Local again on the same port, with fresh tables and the seed."""
        self.dynamodb = DynamoDBLocal(self.dynamodb.port).start()
        create_tables(self.dynamodb.endpoint)
        seed_catalog(self.dynamodb.endpoint)


def start_local_server(
    dynamodb_endpoint: str, session: requests.Session, extra_env: dict[str, str] | None = None
) -> tuple[str, subprocess.Popen[bytes]]:
    """Start scripts/local_server.py against a DynamoDB endpoint and wait until /health answers;
    returns its base URL and process (stopped again if it never comes up)."""
    port = free_port()
    env = {
        **os.environ,
        **local_aws_environment(dynamodb_endpoint),
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "scripts" / "local_server.py"),
            "--port",
            str(port),
            "--no-dynamodb",
            "--quiet",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if session.get(url + "/health", timeout=2).status_code == 200:
                return url, server
        except requests.ConnectionError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            stop_process(server, timeout=15)
            raise RuntimeError("the local server did not start")
        time.sleep(0.2)


def start_stack(extra_env: dict[str, str] | None = None) -> Stack:
    dynamodb = DynamoDBLocal().start()
    try:
        create_tables(dynamodb.endpoint)
        seed_catalog(dynamodb.endpoint)
        session = requests.Session()
        url, server = start_local_server(dynamodb.endpoint, session, extra_env)
    except Exception:
        dynamodb.stop()
        raise
    return Stack(url, dynamodb, server, session)


def stop_stack(stack: Stack) -> None:
    stack.session.close()
    stop_process(stack.server, timeout=15)
    stack.dynamodb.stop()


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    started = start_stack()
    try:
        yield started
    finally:
        stop_stack(started)


@pytest.fixture(scope="session")
def base_url(stack: Stack) -> str:
    return stack.url


@pytest.fixture
def http(stack: Stack) -> requests.Session:
    return stack.session


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
