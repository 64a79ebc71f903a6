"""The README and docs a newcomer reads: the first screen names the prerequisites and the two
commands, and every file or folder they point to is in the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FIRST_SCREEN_LINES = 50
# Backticked tokens read as repository paths when they start with one of these folders;
# `core/...` and `handlers/...` are module paths under src/, as the docs write them.
PATH_ROOTS = ("docs/", "scripts/", "bench/", "events/", "tests/", "src/", ".ci/", "core/", "handlers/")
TOP_FILES = ("template.yaml", "samconfig.toml", "Makefile", "pyproject.toml", "package.json", ".checkov.yaml")
GENERATED = (".results/", ".local/", ".venv", ".aws-sam", "node_modules/")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CODE = re.compile(r"`([^`\s]+)`")


def first_screen() -> str:
    return "\n".join((ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:FIRST_SCREEN_LINES])


@pytest.mark.parametrize(
    "needle",
    ["Python 3.13", "Node", "npm", "Java 17", "make", "GB", "make run", "make test", "make doctor"],
)
def test_readme_first_screen_names_prerequisites_and_commands(needle: str) -> None:
    assert needle in first_screen(), (
        f"the README's first {FIRST_SCREEN_LINES} lines do not mention {needle!r}"
    )


def test_readme_first_screen_lists_the_whole_vocabulary() -> None:
    from core.persona.vocabulary import INTENTS, PACES, TONES

    screen = first_screen()
    missing = [value for value in (*TONES, *PACES, *INTENTS) if value not in screen]
    assert not missing, f"the README's first {FIRST_SCREEN_LINES} lines do not list {missing}"


def referenced_paths(text: str) -> set[str]:
    found = set()
    for target in LINK.findall(text):
        if not re.match(r"^[a-z]+:|^#|^mailto:", target):
            found.add(target.split("#", 1)[0])
    for token in CODE.findall(text):
        token = token.rstrip(".,:;)")
        if token.startswith(PATH_ROOTS) or token in TOP_FILES:
            found.add(token)
    return {p for p in found if p and "<" not in p and "{" not in p and not p.startswith(GENERATED)}


def resolves(path: str, document: Path) -> bool:
    candidates = [document.parent / path, ROOT / path]
    if path.startswith(("core/", "handlers/")):
        candidates.append(ROOT / "src" / path)
    for candidate in candidates:
        if any(ch in path for ch in "*?["):
            if list(candidate.parent.glob(candidate.name)):
                return True
        elif candidate.exists():
            return True
    return False


@pytest.mark.parametrize("document", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_path_a_document_names_exists(document: Path) -> None:
    missing = sorted(
        p for p in referenced_paths(document.read_text(encoding="utf-8")) if not resolves(p, document)
    )
    assert not missing, f"{document.relative_to(ROOT)} names files that are not in the repository: {missing}"


@pytest.mark.parametrize("document", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_document_cites_the_spec_file(document: Path) -> None:
    # SPEC.md lives outside the repository: a reader of the repo cannot follow "SPEC §5".
    text = document.read_text(encoding="utf-8")
    assert not re.search(r"\bSPEC\b", text), (
        f"{document.relative_to(ROOT)} cites SPEC, which is not in the repo"
    )


def test_path_finder_sees_links_and_code_paths() -> None:
    text = (
        "see [ops](docs/operations.md#x), `scripts/invoke.py`, `core/x.py`, `ApiFunction`, [w](https://a.b)"
    )
    assert referenced_paths(text) == {"docs/operations.md", "scripts/invoke.py", "core/x.py"}
    assert not resolves("docs/no-such-file.md", ROOT / "README.md")
    assert resolves("events/*.json", ROOT / "README.md")
