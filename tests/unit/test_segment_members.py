"""A segment's people are read a batch of members at a time: a page reads a
page's worth of people (rules/people/segment_members.py), on the real store."""

from __future__ import annotations

from typing import Any

import pytest

from rules.people.segment_members import LOOKUP_BATCH, segment_people
from rules.store.collections import MEMBERSHIPS, PEOPLE

WS = "ws_a"
SEGMENT = "seg_a"
MEMBERS = 60


class PeopleReadsRecorded:
    """The store as it is; the `_id`s of each read of people are noted."""

    def __init__(self, db: Any) -> None:
        self._db = db
        self.people_reads: list[int] = []

    def __getitem__(self, name: str) -> Any:
        collection = self._db[name]
        if name != PEOPLE:
            return collection
        reads = self.people_reads

        class Recorded:
            def find(self, query: dict[str, Any], *args: Any) -> Any:
                reads.append(len(query["_id"]["$in"]))
                return collection.find(query, *args)

        return Recorded()


@pytest.fixture
async def members(db):
    await db[PEOPLE].insert_many([{"_id": f"p{i:03}", "ws": WS, "email": f"p{i}@example.com", "attributes": {"n": i}} for i in range(MEMBERS)])
    await db[MEMBERSHIPS].insert_many(
        [{"_id": f"{SEGMENT}|p{i:03}", "ws": WS, "segmentId": SEGMENT, "personId": f"p{i:03}", "enteredAt": float(i)} for i in range(MEMBERS)]
    )
    # Another workspace's member of a segment with the same id: never read.
    await db[MEMBERSHIPS].insert_one({"_id": f"{SEGMENT}|q1", "ws": "ws_b", "segmentId": SEGMENT, "personId": "q1", "enteredAt": 1.0})
    return db


async def _ids(db: Any, **options: Any) -> list[str]:
    return [member.person["_id"] async for member in segment_people(db, WS, SEGMENT, **options)]


async def test_a_page_reads_a_pages_worth_of_people(members):
    recorded = PeopleReadsRecorded(members)
    page = []
    async for member in segment_people(recorded, WS, SEGMENT, match={"ws": WS}, first_batch=21):
        page.append(member.person["_id"])
        if len(page) == 21:
            break
    assert page == [f"p{i:03}" for i in range(21)]
    assert recorded.people_reads == [21]


@pytest.mark.parametrize("first_batch", [1, 7, LOOKUP_BATCH])
async def test_every_batch_size_gives_the_same_people_in_order(members, first_batch):
    odd = {"ws": WS, "attributes.n": {"$mod": [2, 1]}}  # a search that keeps half of the members
    recorded = PeopleReadsRecorded(members)
    found = await _ids(recorded, match=odd, first_batch=first_batch, after="p010")
    assert found == [f"p{i:03}" for i in range(11, MEMBERS) if i % 2]
    assert sum(recorded.people_reads) == MEMBERS - 11
    # the batches grow by doubling, up to LOOKUP_BATCH
    assert all(later == min(2 * earlier, LOOKUP_BATCH) for earlier, later in zip(recorded.people_reads, recorded.people_reads[1:-1]))
    assert await _ids(members, match=odd, after="p010") == found
