"""The GraphQL examples in README.md stay valid against the schema."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import parse, validate

from api.settings import Settings
from resolvers.schema import build_schema

README = Path(__file__).resolve().parents[2] / "README.md"


def _operations() -> list[str]:
    blocks = re.findall(r"```graphql\n(.*?)```", README.read_text(), re.S)
    operations = []
    for block in blocks:
        for chunk in re.split(r"\n\s*\n", block):
            body = "\n".join(line for line in chunk.splitlines() if not line.strip().startswith("#"))
            if body.strip():
                operations.append(body)
    return operations


def test_readme_has_graphql_examples():
    assert len(_operations()) >= 5


@pytest.mark.parametrize("operation", _operations(), ids=lambda op: op.strip()[:40])
def test_readme_example_validates(operation):
    schema = build_schema(Settings())._schema
    assert validate(schema, parse(operation)) == []
