"""Where benchmark results go and what machine produced them.

Results are written under `.results/` (ignored by git): a run never rewrites a tracked file.
Reference copies live in docs/performance.md, next to the machine description stored here.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / ".results"


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    try:
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def git_commit() -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
        )
    except OSError:
        return "unknown"
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return (
        done.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
        if done.returncode == 0
        else "unknown"
    )


def machine() -> dict[str, Any]:
    """What a published number needs next to it to be compared with another run."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "os": f"{platform.system()} {platform.release()}",
        "load_average_1m_at_start": round(load[0], 2),
        "commit": git_commit(),
        "date_utc": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def describe(info: dict[str, Any]) -> str:
    return (
        f"{info['cpu_model']}, {info['cores']} cores, {info['implementation']} {info['python']}, "
        f"{info['os']}, load {info['load_average_1m_at_start']} at start, commit {info['commit']}, "
        f"{info['date_utc']}"
    )


def results_path(name: str, directory: Path | None = None) -> Path:
    """`.results/<name>` (created on demand)."""
    folder = directory or RESULTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def write_results(name: str, payload: dict[str, Any], directory: Path | None = None) -> Path:
    path = results_path(name, directory)
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
