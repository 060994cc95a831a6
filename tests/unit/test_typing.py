"""What mypy does not enforce by itself (docs/decisions.md #19): the store
stays typed, every silenced finding says why, and the running service is
reached through its typed object, never through `app.state` directly.
Read from the source with `ast` and `tokenize`, like test_architecture.py."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

from tests.unit.test_architecture import ROOT, source_modules

# Parameter names that always hold the store or one of its collections.
STORE_PARAMETERS = {"db", "database", "collection"}
TYPED_STORE = {"Database", "Collection"}
# An ignore names the error it silences; its reason is a comment on the line or the line above.
IGNORE = re.compile(r"#\s*type:\s*ignore(\[[a-z-, ]+\])?")


def _store_parameters(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            arguments = node.args
            for argument in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
                if argument.arg in STORE_PARAMETERS:
                    yield node, argument


def _store_parameter_problems(root: Path) -> list[str]:
    problems = []
    for module, path in source_modules(root).items():
        for function, argument in _store_parameters(ast.parse(path.read_text(), str(path))):
            annotation = ast.unparse(argument.annotation) if argument.annotation else None
            if annotation in TYPED_STORE or annotation == "str":  # a collection *name* is a str
                continue
            # The embedded-engine seam wraps mongoeco's own (untyped to us) objects.
            if module == "api.embedded_store":
                continue
            problems.append(f"{module}.{function.name}({argument.arg}: {annotation})")
    return problems


def _ignore_problems(root: Path) -> list[str]:
    problems = []
    for module, path in source_modules(root).items():
        comments: dict[int, str] = {}
        whole_line_comments: dict[int, str] = {}
        for token in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
            if token.type == tokenize.COMMENT:
                comments[token.start[0]] = token.string
                if not token.line[: token.start[1]].strip():
                    whole_line_comments[token.start[0]] = token.string
        for line, comment in comments.items():
            match = IGNORE.search(comment)
            if match is None:
                continue
            reason = comment[match.end():].strip(" #") or whole_line_comments.get(line - 1, "").strip(" #")
            if match.group(1) is None or not reason:
                problems.append(f"{module}:{line}: {comment}")
    return problems


def _state_readers(root: Path) -> list[str]:
    """Modules that touch `app.state.services` other than where it is built and read."""
    allowed = {"api.app", "api.services"}
    return [
        module
        for module, path in source_modules(root).items()
        if module not in allowed and re.search(r"\bstate\.services\b", path.read_text())
    ]


def test_every_store_parameter_is_typed_by_pymongo() -> None:
    assert _store_parameter_problems(ROOT) == []


def test_every_type_ignore_names_its_error_and_reason() -> None:
    assert _ignore_problems(ROOT) == []


def test_the_services_are_read_only_through_services_of() -> None:
    assert _state_readers(ROOT) == []


# The checks can fail: each is run on a small tree that breaks it.


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_an_untyped_store_parameter_is_found(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "rules/a.py": "from typing import Any\nasync def f(db: Any, name: str) -> None: ...\n",
            "rules/b.py": "def g(collection) -> None: ...\n",
            "rules/c.py": "def h(db: Database, collection: str) -> None: ...\n",
        },
    )
    assert sorted(_store_parameter_problems(root)) == ["rules.a.f(db: Any)", "rules.b.g(collection: None)"]


def test_an_ignore_without_code_or_reason_is_found(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "api/a.py": "x = f()  # type: ignore\n"
            "y = g()  # type: ignore[arg-type]\n"
            "z = h()  # type: ignore[arg-type]  # h takes any value here\n"
            "# the stub is wrong about i\n"
            "w = i()  # type: ignore[call-arg]\n",
        },
    )
    assert _ignore_problems(root) == ["api.a:1: # type: ignore", "api.a:2: # type: ignore[arg-type]"]


def test_a_direct_read_of_app_state_is_found(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "api/services.py": "def services_of(r): return r.app.state.services\n",
            "api/track.py": "def f(request): return request.app.state.services.db\n",
        },
    )
    assert _state_readers(root) == ["api.track"]
