"""Ingestion dispatch fails closed: an operation type without a handler is an
error for its whole group, never silently ignored (as the condition
registries do with UnsupportedCondition)."""

from dataclasses import dataclass

import pytest

from rules.ingest.apply import apply_requests
from rules.ingest.operations import UnsupportedOperation
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
