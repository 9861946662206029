"""The folder tree is the architecture: checked from the source, so it stays true.

Each check reads `src/qa` with `ast` (nothing is imported): the import graph between qa modules
(imports inside functions count too) has no cycle, a package imports only from the packages below
it in the pipeline, and modules and functions stay small enough to read.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
# The pipeline, bottom to top: a package may import from itself and the packages before it.
LAYERS = (
    "core",
    "corpus",
    "embed",
    "index",
    "answer",
    "engine",
    "service",
    "evaluation",
    "training",
    "bench",
    "cli",
)
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted((SRC / "qa").rglob("*.py"))}


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The qa modules `name` imports, resolved to modules (a name imported from a package counts
    as its submodule when there is one)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            found |= {f"{target}.{alias.name}" for alias in node.names}
    return {m for m in found if m in known and m != name}


def import_graph() -> nx.DiGraph:
    mods = modules()
    graph = nx.DiGraph()
    graph.add_nodes_from(mods)
    for name, path in mods.items():
        graph.add_edges_from((name, dep) for dep in imports(name, path, set(mods)))
    return graph


def layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def test_the_import_graph_has_no_cycles() -> None:
    cycles = [sorted(c) for c in nx.strongly_connected_components(import_graph()) if len(c) > 1]
    assert cycles == []


def test_a_package_imports_only_from_itself_and_the_packages_below_it() -> None:
    upward = []
    for source, target in import_graph().edges:
        low, high = layer(source), layer(target)
        if low is not None and high is not None and high > low:
            upward.append(f"{source} -> {target}")
    assert upward == []


def test_every_module_belongs_to_a_pipeline_package() -> None:
    loose = [m for m in modules() if m != "qa" and layer(m) is None]
    assert loose == []


@pytest.mark.parametrize("path", sorted((SRC / "qa").rglob("*.py")), ids=lambda p: p.name)
def test_no_module_over_400_lines(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_MODULE_LINES


def test_no_function_over_80_lines() -> None:
    long = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                if size > MAX_FUNCTION_LINES:
                    long.append(f"{name}.{node.name}: {size} lines")
    assert long == []
