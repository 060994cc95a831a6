"""The layers stay one-way and no module takes part in an import circle.

api (transport) -> resolvers (GraphQL) -> rules (domain): `rules` imports
neither `api`, `resolvers`, Starlette nor Strawberry; `resolvers` never
imports `api`. The import graph is read from the source with `ast`, and
every import counts: top level, inside a function, and under
`TYPE_CHECKING`, because a circle that only type checkers see is still a
circle a reader has to untangle. `strawberry.lazy("...")` references are
strings, not imports: they are Strawberry's way to name a type in another
module without importing it.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("api", "resolvers", "rules")
# What each layer must never import (its own callers, and the web frameworks for the domain).
FORBIDDEN = {
    "rules": {"api", "resolvers", "starlette", "strawberry", "uvicorn"},
    "resolvers": {"api", "starlette", "uvicorn"},
}


def module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_modules(root: Path) -> dict[str, Path]:
    return {
        module_name(root, path): path
        for layer in LAYERS
        if (root / layer).is_dir()
        for path in sorted((root / layer).rglob("*.py"))
    }


def imported_names(module: str, path: Path) -> set[str]:
    """Every module name an import statement in `path` names, resolved to
    the most specific dotted name (`from a.b import c` names `a.b.c`, which
    is a module or a name inside `a.b`)."""
    names = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def import_graph(root: Path) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(internal edges between source modules, every imported name per module)."""
    modules = source_modules(root)
    edges: dict[str, set[str]] = {}
    imports: dict[str, set[str]] = {}
    for module, path in modules.items():
        imports[module] = imported_names(module, path)
        targets = set()
        for name in imports[module]:
            # `from rules.x import thing` reaches module rules.x; walk up to the nearest source module.
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        edges[module] = targets
    return edges, imports


def layer_violations(imports: dict[str, set[str]]) -> list[str]:
    found = []
    for module, names in sorted(imports.items()):
        banned = FORBIDDEN.get(module.split(".")[0], set())
        for name in sorted(names):
            if name.split(".")[0] in banned:
                found.append(f"{module} imports {name}")
    return found


def import_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One concrete circle per strongly connected component (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return [_circle_in(component, edges) for component in components]


def _circle_in(component: set[str], edges: dict[str, set[str]]) -> list[str]:
    """A path start -> ... -> start inside one strongly connected component."""
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        node = frontier.pop(0)
        for target in sorted(edges[node] & component):
            if target == start:
                return [*paths[node], start]
            if target not in paths:
                paths[target] = [*paths[node], target]
                frontier.append(target)
    raise AssertionError(f"{sorted(component)} is not strongly connected")


def test_layers_are_one_way():
    _, imports = import_graph(ROOT)
    assert layer_violations(imports) == []


def test_no_import_circles():
    edges, _ = import_graph(ROOT)
    cycles = import_cycles(edges)
    assert cycles == [], "import circles: " + "; ".join(" -> ".join(cycle) for cycle in cycles)


def domain_package(module: str) -> str:
    """`rules.ingest.apply` -> `rules.ingest`; a module directly in rules/ is its own unit."""
    return ".".join(module.split(".")[:2])


def test_domain_packages_depend_one_way():
    """The packages of rules/ (conditions, ingest, membership, ...) form no circle
    either, so the folder tree reads as the architecture diagram."""
    edges, _ = import_graph(ROOT)
    packages: dict[str, set[str]] = {}
    for module, targets in edges.items():
        if module.startswith("rules."):
            source = domain_package(module)
            packages.setdefault(source, set()).update(domain_package(t) for t in targets if domain_package(t) != source)
    cycles = import_cycles(packages)
    assert cycles == [], "circles between rules/ packages: " + "; ".join(" -> ".join(cycle) for cycle in cycles)


def test_the_checks_catch_a_planted_violation_and_circle(tmp_path):
    """The two checks above can fail: a small planted tree trips both."""
    files = {
        "api/__init__.py": "",
        "api/app.py": "from resolvers.schema import schema\n",
        "resolvers/__init__.py": "",
        "resolvers/schema.py": "from api.app import app\nimport strawberry\n",
        "rules/__init__.py": "",
        "rules/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from rules.b import B\n",
        "rules/b.py": "def f():\n    from rules import a\n",
        "rules/c.py": "from .a import thing\nimport starlette.routing\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    edges, imports = import_graph(tmp_path)
    assert layer_violations(imports) == [
        "resolvers.schema imports api.app.app",
        "rules.c imports starlette.routing",
    ]
    assert sorted(import_cycles(edges)) == [
        ["api.app", "resolvers.schema", "api.app"],
        ["rules.a", "rules.b", "rules.a"],
    ]
    assert edges["rules.c"] == {"rules.a"}
