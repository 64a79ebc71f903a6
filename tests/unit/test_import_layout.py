"""The direction of imports in src/ (docs/architecture.md): handlers -> core, never back; the
persona and release domains never import each other; boto3 only in adapters and the shared
client factory; routers never import each other; no import cycles; one name per module; no
environment reads outside the settings model. Read from the source with ast, nothing imported."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
AWS_SDK = ("boto3", "botocore")
# Where boto3 may be imported: the adapters, and the one place AWS clients are configured.
SDK_ALLOWED = ("core.persona.adapters.", "core.release.adapters.", "core.shared.aws_clients")


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int
    lazy: bool  # inside a function: runs on first use, not at import
    typing_only: bool  # under `if TYPE_CHECKING:`


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def source_modules() -> dict[str, Path]:
    return {
        module_name(p): p
        for p in sorted(SRC.rglob("*.py"))
        if p.relative_to(SRC).parts[0] in ("core", "handlers")
    }


MODULES = source_modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(
    node: ast.AST, lazy: bool = False, typing_only: bool = False
) -> Iterator[tuple[str, int, bool, bool]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import):
            for alias in child.names:
                yield alias.name, child.lineno, lazy, typing_only
        elif isinstance(child, ast.ImportFrom) and child.module and not child.level:
            for alias in child.names:
                # `from a.b import c` names module a.b.c when that is a module, else a.b.
                yield f"{child.module}.{alias.name}", child.lineno, lazy, typing_only
                yield child.module, child.lineno, lazy, typing_only
        elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield from _imports(child, True, typing_only)
        elif isinstance(child, ast.If) and _is_type_checking(child):
            yield from _imports(child, lazy, True)
        else:
            yield from _imports(child, lazy, typing_only)


def imported_names(module: str) -> list[tuple[str, int, bool, bool]]:
    return list(_imports(ast.parse(MODULES[module].read_text(encoding="utf-8"))))


def edges() -> list[Edge]:
    found = []
    for module in MODULES:
        seen: set[tuple[str, bool, bool]] = set()
        for name, line, lazy, typing_only in imported_names(module):
            if name in MODULES and name != module and (name, lazy, typing_only) not in seen:
                # A package's __init__ is imported on the way to its modules: not an edge.
                if any(m.startswith(name + ".") for m in MODULES) and MODULES[name].stat().st_size < 400:
                    continue
                seen.add((name, lazy, typing_only))
                found.append(Edge(module, name, line, lazy, typing_only))
    return found


EDGES = edges()


def _violations(source_prefix: str, target_prefix: str) -> list[str]:
    return [
        f"{e.source}:{e.line} imports {e.target}"
        for e in EDGES
        if e.source.startswith(source_prefix) and e.target.startswith(target_prefix)
    ]


def test_the_layout_is_found() -> None:
    # Guards the other tests against passing on an empty or misread tree.
    assert {"core.persona.routing", "core.release.rollout_controller", "handlers.api"} <= set(MODULES)
    assert any(e.source == "handlers.api" and e.target == "handlers.routes.public" for e in EDGES)


def test_core_never_imports_handlers() -> None:
    assert _violations("core", "handlers") == []


@pytest.mark.parametrize(
    ("source", "target"), [("core.persona", "core.release"), ("core.release", "core.persona")]
)
def test_persona_and_release_never_import_each_other(source: str, target: str) -> None:
    assert _violations(source, target) == []


def test_shared_imports_neither_domain() -> None:
    assert _violations("core.shared", "core.persona") + _violations("core.shared", "core.release") == []


def test_routers_never_import_each_other() -> None:
    assert [
        f"{e.source}:{e.line} imports {e.target}"
        for e in EDGES
        if e.source.startswith("handlers.routes.") and e.target.startswith("handlers.routes.")
    ] == []


def test_the_aws_sdk_is_imported_only_by_adapters_and_the_client_factory() -> None:
    offenders = []
    for module in MODULES:
        if module.startswith(SDK_ALLOWED):
            continue
        for name, line, _lazy, _typing in imported_names(module):
            if name.split(".")[0] in AWS_SDK:
                offenders.append(f"{module}:{line} imports {name}")
    assert offenders == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles_even_counting_imports_inside_functions() -> None:
    graph: dict[str, set[str]] = {}
    for e in EDGES:
        if not e.typing_only:
            graph.setdefault(e.source, set()).add(e.target)
    assert _cycles(graph) == []


def test_no_two_modules_share_a_name() -> None:
    names: dict[str, list[str]] = {}
    for module, path in MODULES.items():
        if path.name != "__init__.py":
            names.setdefault(path.stem, []).append(module)
    assert {name: mods for name, mods in names.items() if len(mods) > 1} == {}


def test_only_the_settings_model_reads_the_environment() -> None:
    readers = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            reads = (isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv")) or (
                isinstance(node, ast.alias) and node.name in ("environ", "getenv")
            )
            if reads and module != "core.shared.settings":
                readers.append(f"{module}:{getattr(node, 'lineno', '?')}")
    assert readers == []
