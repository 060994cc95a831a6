"""Ingestion dispatch fails closed: an operation type without a handler is an
error for its whole group, never silently ignored (as the condition
registries do with UnsupportedCondition)."""

import typing
from dataclasses import dataclass

import pytest

from rules.ingest.apply import apply_requests
from rules.ingest.handlers import HANDLERS, apply_operation
from rules.ingest.identities import IdentityResolver
from rules.ingest.operations import Operation, UnsupportedOperation
from rules.ingest.prefetch import identifiers_of
from rules.ingest.working_set import WorkingSet
from rules.store.collections import EVENTS, PEOPLE


@dataclass(frozen=True)
class Teleport:
    """An operation the Track API does not have."""

    person: str


async def test_an_operation_without_a_handler_raises_and_writes_nothing(db):
    with pytest.raises(UnsupportedOperation, match="Teleport"):
        await apply_requests(db, "ws_test", [[Teleport(person="p1")]], now=1_700_000_000.0)
    assert await db[PEOPLE].count_documents({}) == 0
    assert await db[EVENTS].count_documents({}) == 0


def test_every_operation_type_has_a_handler():
    assert set(HANDLERS) == set(typing.get_args(Operation))


async def test_apply_operation_raises_for_a_type_missing_from_the_table(db):
    working = WorkingSet(db, "ws_test", 1_700_000_000.0)
    with pytest.raises(UnsupportedOperation, match="Teleport"):
        await apply_operation(Teleport(person="p1"), working, IdentityResolver(working))
    with pytest.raises(UnsupportedOperation, match="Teleport"):
        identifiers_of(Teleport(person="p1"))

