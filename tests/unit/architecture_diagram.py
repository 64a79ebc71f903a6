"""The package diagram of docs/architecture.md, generated from the imports in src/.

`python -m tests.unit.architecture_diagram` prints it; tests/unit/test_architecture_doc.py fails
when the document's copy differs from what the code says.
"""

from __future__ import annotations

from tests.unit.test_import_layout import EDGES, MODULES


def package_of(module: str) -> str:
    """A module's package, as a folder under src/ (a package's __init__ belongs to itself)."""
    path = MODULES[module]
    parts = module.split(".")
    return "/".join(parts if path.name == "__init__.py" else parts[:-1])


def packages() -> list[str]:
    return sorted({package_of(m) for m in MODULES})


def package_edges() -> list[tuple[str, str]]:
    found = {
        (package_of(e.source), package_of(e.target))
        for e in EDGES
        if not e.typing_only and package_of(e.source) != package_of(e.target)
    }
    return sorted(found)


def _node(package: str) -> str:
    return package.replace("/", "_")


def mermaid() -> str:
    lines = ["```mermaid", "flowchart TD"]
    lines += [f'  {_node(p)}["{p}/"]' for p in packages()]
    lines += [f"  {_node(a)} --> {_node(b)}" for a, b in package_edges()]
    lines.append("```")
    return "\n".join(lines)


if __name__ == "__main__":
    print(mermaid())
