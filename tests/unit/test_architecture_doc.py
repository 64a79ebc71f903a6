"""docs/architecture.md and the README keep in step with the code: the package diagram, the
paths they name, and the table of environment variables."""

from __future__ import annotations

import re
from pathlib import Path

from core.shared.settings import Settings, markdown_table
from tests.unit.architecture_diagram import mermaid, packages

ROOT = Path(__file__).resolve().parents[2]
ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _between(text: str, start: str, end: str) -> str:
    return text[text.index(start) + len(start) : text.index(end)].strip()


def test_the_package_diagram_is_the_one_the_code_gives() -> None:
    shown = _between(ARCHITECTURE, "<!-- diagram: generated, do not edit by hand -->", "<!-- /diagram -->")
    assert shown == mermaid(), "regenerate it: python -m tests.unit.architecture_diagram"


def test_the_diagram_shows_every_package() -> None:
    shown = set(re.findall(r'\["([a-z_/]+)/"\]', ARCHITECTURE))
    assert shown == set(packages())
    assert {"core/persona", "core/release", "core/shared", "handlers/routes"} <= shown


def test_every_source_path_the_docs_name_exists() -> None:
    named = set(re.findall(r"`((?:core|handlers)/[\w/]+\.(?:py|json))`", ARCHITECTURE + README))
    assert named, "the docs name no paths: the pattern is wrong"
    missing = sorted(p for p in named if not (ROOT / "src" / p).exists())
    assert missing == []


def test_the_readme_lists_every_environment_variable_of_the_settings_model() -> None:
    assert markdown_table() in README, "paste core.shared.settings.markdown_table() into README.md"
    listed = re.findall(r"^\| `([A-Z0-9_]+)` \|", README, flags=re.MULTILINE)
    assert sorted(listed) == sorted(name.upper() for name in Settings.model_fields)
