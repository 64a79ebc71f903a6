"""The README's curl examples, run as printed (only the base URL swapped) against a fresh local
stack, in README order: each must succeed with a 2xx answer, so the README cannot drift from
the API."""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import ROOT, Stack, start_stack, stop_stack

README_URL = "http://127.0.0.1:3000"


def readme_curls() -> list[str]:
    """Every curl command in the README's bash blocks, continuation lines joined."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    commands: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        joined = block.replace("\\\n", " ")
        for line in joined.splitlines():
            line = line.strip()
            if line.startswith("curl "):
                commands.append(line)
    return commands


@pytest.fixture(scope="module")
def readme_stack() -> Iterator[Stack]:
    # Its own stack: the admin examples create and delete a persona the other tests also use.
    stack = start_stack()
    try:
        yield stack
    finally:
        stop_stack(stack)


def test_the_readme_has_examples_for_every_public_and_admin_route() -> None:
    commands = " ".join(readme_curls())
    for path in (
        "/v1/route",
        "/v1/resonance/validate",
        "/v1/resonance/detect",
        "/v1/personas",
        "/v1/personas/recommend",
        "/v1/chat",
        "/v1/admin/personas/",
        "/health",
    ):
        assert README_URL + path in commands, path


def test_readme_curl_examples_work_as_printed(readme_stack: Stack) -> None:
    commands = readme_curls()
    assert len(commands) >= 10
    for command in commands:
        argv = shlex.split(command.replace(README_URL, readme_stack.url))
        # Keep the body as printed; add only a status line at the end of the output.
        result = subprocess.run(
            [*argv, "-w", "\n%{http_code}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert result.returncode == 0, (command, result.stderr)
        status = int(result.stdout.rsplit("\n", 1)[-1])
        assert 200 <= status < 300, (command, status, result.stdout[:500])
