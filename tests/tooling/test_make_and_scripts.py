"""Developer tooling: `make help`, `make doctor`, `make invoke`'s errors, where bench results go."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench import machine as bench_machine
from bench.run import report_failures
from scripts import doctor, invoke

ROOT = Path(__file__).resolve().parents[2]
needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def makefile_targets() -> set[str]:
    """Every target named in the Makefile's .PHONY list."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ")
    phony = re.search(r"^\.PHONY:(.*)$", text, re.MULTILINE)
    assert phony is not None
    return set(phony.group(1).split())


@needs_make
def test_make_alone_lists_every_target_with_one_line() -> None:
    done = subprocess.run(
        ["make", "--no-print-directory", "-s"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    listed = {
        m.group(1): m.group(2) for m in re.finditer(r"^\s+make (\S+)\s+(.+)$", done.stdout, re.MULTILINE)
    }
    assert makefile_targets() - set(listed) == set(), done.stdout
    assert all(description.strip() for description in listed.values())
    assert {"run", "test", "doctor", "reset-local"} <= set(listed)


@needs_make
def test_run_and_test_check_prerequisites_first() -> None:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("run", "test"):
        line = re.search(rf"^{target}:([^#\n]*)", text, re.MULTILINE)
        assert line is not None and line.group(1).split()[0] == "doctor", target


def run_invoke(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "invoke.py"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_invoke_unknown_function_lists_the_functions_without_a_traceback() -> None:
    done = run_invoke("NoSuchFunction", "events/route_valid.json")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr + done.stdout
    assert "unknown function 'NoSuchFunction'" in done.stderr
    for name in ("ApiFunction", "AdminFunction", "SeedFunction"):
        assert name in done.stderr
    assert "no event file" not in done.stderr  # the event is fine


def test_invoke_missing_event_lists_the_event_files() -> None:
    done = run_invoke("ApiFunction", "events/no_such_event.json")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr + done.stdout
    assert "no event file 'events/no_such_event.json'" in done.stderr
    assert "events/route_valid.json" in done.stderr
    assert "events/env.json" not in done.stderr  # variables, not an event


def test_invoke_accepts_a_known_function_and_event() -> None:
    assert invoke.usage_problem("ApiFunction", "events/route_valid.json") is None
    assert "ApiFunction" in invoke.functions()
    assert "events/health.json" in invoke.event_files()


def test_doctor_names_a_missing_python_and_how_to_get_it(tmp_path: Path) -> None:
    check = doctor.check_python(str(tmp_path / "python3.13"))
    assert not check.ok and check.required
    assert "pyenv install 3.13" in check.fix


def test_doctor_accepts_this_python_only_when_it_is_3_13() -> None:
    check = doctor.check_python(sys.executable)
    assert check.ok == (sys.version_info[:2] == (3, 13))


def test_doctor_exits_non_zero_when_something_required_is_missing(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "doctor.py"), "--python", str(tmp_path / "none")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "MISSING" in done.stdout and "Python 3.13" in done.stdout


def test_doctor_disk_check_asks_for_space_only_before_install(tmp_path: Path) -> None:
    plenty = doctor.check_disk(tmp_path, needed_gb=0.0)
    assert plenty.ok
    impossible = doctor.check_disk(tmp_path, needed_gb=10**9)
    assert not impossible.ok and impossible.required  # nothing installed in tmp_path


def test_bench_results_go_to_an_ignored_folder(tmp_path: Path) -> None:
    assert bench_machine.RESULTS_DIR == ROOT / ".results"
    ignored = subprocess.run(
        ["git", "check-ignore", ".results/bench.json", ".results/load.json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert ignored.stdout.split() == [".results/bench.json", ".results/load.json"], "must be ignored by git"
    written = bench_machine.write_results("bench.json", {"rows": []}, directory=tmp_path / "out")
    assert written == tmp_path / "out" / "bench.json" and written.read_text(encoding="utf-8").strip()


def test_no_result_file_is_tracked() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "bench", ".results"], cwd=ROOT, capture_output=True, text=True, timeout=30
    ).stdout.split()
    assert not [p for p in tracked if p.endswith(".json")], tracked


def test_machine_description_names_cpu_cores_and_python() -> None:
    info = bench_machine.machine()
    assert info["cpu_model"] and info["cores"] and info["python"].startswith("3.")
    assert str(info["cores"]) in bench_machine.describe(info)


def test_bench_fails_when_a_row_misses_its_target(capsys: pytest.CaptureFixture[str]) -> None:
    rows = [{"name": "fast", "pass": True}, {"name": "  slow", "pass": False}]
    assert report_failures(rows) == 1
    assert "slow" in capsys.readouterr().err
    assert report_failures(rows[:1]) == 0
