"""Writing people and their activity: apply Track API operations to the store.

`apply_requests` takes the operations of one or more requests of a
workspace (a v2 batch, or single v1 calls grouped by the writer in
rules/ingest/group_commit.py), loads what they touch by `_id` up front, applies
them in memory and in order, and writes the result with grouped writes:
`insert_many` for new documents, `bulk_write` updates for changed ones,
`update_many`/`delete_many` for a person's activity on merge and delete.
A request whose operation fails (a `cio_` id nobody has, an email that
belongs to someone else, ...) is rolled back in memory and rejected whole;
the other requests of the group are written. Nothing is written for a
rejected request.

Why grouped: MongoDB is fastest with batches (docs/track-api.md).

The pieces: rules/ingest/working_set.py (the documents and journal of a
group, one checkpoint and rollback per request), prefetch.py (the grouped
reads up front), identities.py (identifiers to people), handlers.py (one
handler per operation, failing closed on an unknown one) and write.py.

Order of the writes (so that a crash in between leaves nothing visible that
points nowhere): identities claimed first (their `_id` is the uniqueness
check), then people, devices, deliveries, events, then the set operations in
the order they were planned, then deletions.
"""

from __future__ import annotations

from dataclasses import dataclass

from rules.ingest.handlers import apply_operation
from rules.ingest.identities import IdentityResolver
from rules.ingest.operations import IngestError, Operation
from rules.ingest.prefetch import prefetch
from rules.ingest.working_set import WorkingSet
from rules.ingest.write import IdentityTaken, write_changes
from rules.store.types import Database
from rules.topics import Topic

# A concurrent writer (another process on a real MongoDB) may claim an identity
# between our read and our write; the group is then planned again from the store.
MAX_ATTEMPTS = 3


@dataclass(frozen=True, kw_only=True)
class Accepted:
    # person id -> topics for Services.people_changed
    topics: dict[str, frozenset[Topic]]


@dataclass(frozen=True, kw_only=True)
class Rejected:
    error: IngestError


Outcome = Accepted | Rejected


async def apply_request(working: WorkingSet, people: IdentityResolver, operations: list[Operation]) -> Outcome:
    """All of one request's operations, or none of them."""
    working.checkpoint()
    try:
        for op in operations:
            await apply_operation(op, working, people)
    except IngestError as error:
        working.rollback()
        return Rejected(error=error)
    return Accepted(topics={person_id: frozenset(topics) for person_id, topics in working.topics.items()})


async def apply_requests(db: Database, workspace_id: str, requests: list[list[Operation]], *, now: float) -> list[Outcome]:
    """Apply each request's operations all-or-nothing, in order; write the accepted ones together."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        working = WorkingSet(db, workspace_id, now)
        people = IdentityResolver(working)
        await prefetch(working, [op for request in requests for op in request])
        outcomes = [await apply_request(working, people, request) for request in requests]
        try:
            await write_changes(db, workspace_id, working.tables, working.journal)
        except IdentityTaken:
            if attempt == MAX_ATTEMPTS:
                raise
            continue
        return outcomes
    raise AssertionError("unreachable")
