"""The add-on package's modules import in one direction (no cycles).

`AddonContext` lives in `context`, which imports none of the modules that take a
context (app, ingress, assistant_entry, diagnostics_job, assistant), so none of
them needs another just to type or build one. Read from each module's top-level
imports (imports under `if TYPE_CHECKING:` or inside functions do not count:
they do not run when the module loads).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "mcp_addon" / "energy_coordinator_mcp"
ROOT = "energy_coordinator_mcp"
USERS_OF_CONTEXT = ("app", "ingress", "assistant_entry", "diagnostics_job", "assistant")


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = (ROOT, *path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(max(node.level - 1, 0)):
                base = base.rpartition(".")[0]
            if node.level:
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found |= {module} & known
            found |= {f"{module}.{alias.name}" for alias in node.names} & known
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names} & known
    return found - {name}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        path.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                cycles.append([*path[path.index(dep) :], dep])
            elif dep not in state:
                visit(dep, path)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    return cycles


def test_no_import_cycles() -> None:
    graph = _graph()
    assert f"{ROOT}.context" in graph and f"{ROOT}.charger_index" in graph
    assert _cycles(graph) == []


def test_the_context_module_imports_none_of_its_users() -> None:
    graph = _graph()
    context = graph[f"{ROOT}.context"]
    assert not context & {f"{ROOT}.{name}" for name in USERS_OF_CONTEXT}


def test_a_cycle_would_be_seen() -> None:
    """The check itself: a two-module loop is reported."""
    assert _cycles({"a": {"b"}, "b": {"a"}}) == [["a", "b", "a"]]
