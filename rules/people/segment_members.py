"""The people of one segment, in person-id order, optionally narrowed further
by a people match (the filters of the `people` search).

Memberships live in their own collection, so the segment drives: its
memberships are read in person-id order (an indexed equality on the
segment), a batch at a time (the first a page's worth, then growing), and
each batch's people are read by `_id $in` with the rest of the match. The
order is the `people` search's own (`_id` ascending), so its cursors work
unchanged. An export of a segment that holds much of its workspace reads
the workspace's people in one scan instead (`all_segment_people`).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Any

from rules.store.collections import MEMBERSHIPS, PEOPLE
from rules.store.types import Database

# Members whose people are read with one `$in`.
LOOKUP_BATCH = 200
# Reading a person by `_id` costs about as much as streaming this many
# people in a scan (measured ~0.4 ms against ~17 µs), so a segment holding
# more than this share of the workspace is exported by one scan of its people.
SCAN_COST_RATIO = 20


@dataclass(frozen=True, kw_only=True)
class SegmentPerson:
    person: dict[str, Any]  # the `people` document
    entered_at: float | None


async def segment_people(
    db: Database,
    workspace_id: str,
    segment_id: str,
    *,
    match: dict[str, Any],
    after: str | None = None,
    first_batch: int = LOOKUP_BATCH,
) -> AsyncGenerator[SegmentPerson, None]:
    """Members of the segment whose person document matches `match` (which filters on `ws`),
    with person ids greater than `after`. The first batch's people are `first_batch` (a page
    reads a page's worth, not LOOKUP_BATCH), each later batch twice the last, up to LOOKUP_BATCH."""
    query: dict[str, Any] = {"ws": workspace_id, "segmentId": segment_id}
    if after is not None:
        query["personId"] = {"$gt": after, "$type": "string"}
    cursor = db[MEMBERSHIPS].find(query, {"personId": 1, "enteredAt": 1}).sort([("personId", 1)])
    batch: list[dict[str, Any]] = []
    batch_size = max(1, min(first_batch, LOOKUP_BATCH))
    async for membership in cursor:
        batch.append(membership)
        if len(batch) == batch_size:
            async for found in _matching(db, batch, match):
                yield found
            batch = []
            batch_size = min(2 * batch_size, LOOKUP_BATCH)
    async for found in _matching(db, batch, match):
        yield found


async def _matching(db: Database, memberships: list[dict[str, Any]], match: dict[str, Any]) -> AsyncIterator[SegmentPerson]:
    if not memberships:
        return
    query = {**match, "_id": {"$in": [m["personId"] for m in memberships]}}
    people = {person["_id"]: person async for person in db[PEOPLE].find(query)}
    for membership in memberships:
        if membership["personId"] in people:
            yield SegmentPerson(person=people[membership["personId"]], entered_at=membership.get("enteredAt"))


async def all_segment_people(db: Database, workspace_id: str, segment_id: str, *, match: dict[str, Any]) -> AsyncIterator[SegmentPerson]:
    """Every member matching `match`, in person-id order, read the cheaper way (for exports)."""
    members = await db[MEMBERSHIPS].count_documents({"ws": workspace_id, "segmentId": segment_id})
    people = await db[PEOPLE].count_documents({"ws": workspace_id})
    if members * SCAN_COST_RATIO < people:
        async for member in segment_people(db, workspace_id, segment_id, match=match):
            yield member
        return
    cursor = db[MEMBERSHIPS].find({"ws": workspace_id, "segmentId": segment_id}, {"personId": 1, "enteredAt": 1})
    entered = {m["personId"]: m.get("enteredAt") async for m in cursor}
    async for person in db[PEOPLE].find(match).sort([("_id", 1)]):
        if person["_id"] in entered:
            yield SegmentPerson(person=person, entered_at=entered[person["_id"]])


async def count_segment_people(db: Database, workspace_id: str, segment_id: str, *, match: dict[str, Any]) -> int:
    if match == {"ws": workspace_id}:
        return await db[MEMBERSHIPS].count_documents({"ws": workspace_id, "segmentId": segment_id})
    return sum([1 async for _ in segment_people(db, workspace_id, segment_id, match=match)])
