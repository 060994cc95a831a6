"""The GraphQL examples in README.md stay valid against the schema."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import parse, validate

from api.settings import Settings
from resolvers.schema import build_schema

README = Path(__file__).resolve().parents[2] / "README.md"


def _blocks() -> list[str]:
    return re.findall(r"```graphql\n(.*?)```", README.read_text(), re.S)


def _operations() -> list[str]:
    operations = []
    for block in _blocks():
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


@pytest.mark.parametrize("block", _blocks(), ids=lambda block: block.strip()[:40])
def test_readme_block_pasted_whole_is_one_valid_document(block):
    """A reader pastes a block as it is: several operations in it need names."""
    schema = build_schema(Settings())._schema
    assert validate(schema, parse(block)) == []
