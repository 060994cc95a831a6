"""Schedules are written only where time can move a membership: an identify
that re-evaluates a segment time alone cannot move, without changing its
membership, neither writes nor removes a schedule for it (on the embedded
sqlite engine removing an entry that is not there is a pass over the
schedules, docs/scaling.md), while the windowed segment's entry is kept."""

from __future__ import annotations

from typing import Any

from rules.clock import FakeClock
from rules.membership.engine import MembershipEngine
from rules.segments.service import SegmentDraft, SegmentService
from rules.store.collections import SCHEDULES
from rules.topics import attribute
from tests.scenario.test_engine import DAY, WS, add_events, add_person


class RecordedCollection:
    """The real collection; the `_id`s of the schedule entries each write names are recorded."""

    def __init__(self, collection: Any, named: list[str]) -> None:
        self._collection, self._named = collection, named

    def __getattr__(self, name: str) -> Any:
        return getattr(self._collection, name)

    async def delete_many(self, filter: dict, *args: Any, **kwargs: Any) -> Any:
        ids = filter.get("_id", {})
        self._named.extend(ids.get("$in", []) if isinstance(ids, dict) else [ids])
        return await self._collection.delete_many(filter, *args, **kwargs)

    async def bulk_write(self, requests: list, *args: Any, **kwargs: Any) -> Any:
        self._named.extend(request._filter["_id"] for request in requests)
        return await self._collection.bulk_write(requests, *args, **kwargs)


class RecordedDatabase:
    def __init__(self, db: Any) -> None:
        self._db, self.schedule_ids = db, []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)

    def __getitem__(self, name: str) -> Any:
        collection = self._db[name]
        return RecordedCollection(collection, self.schedule_ids) if name == SCHEDULES else collection


async def test_an_identify_writes_schedules_only_for_segments_time_can_move(db):
    clock = FakeClock()
    recorded = RecordedDatabase(db)
    engine = MembershipEngine(recorded, clock)
    try:
        now = clock.now()
        await add_person(db, now, "ann", plan="pro")
        await add_events(db, "ann", "event", "purchase", [now - DAY])
        segments = SegmentService(recorded, clock, engine)
        pro = await segments.create(WS, SegmentDraft(name="Pro", condition={"attribute": {"path": "plan", "op": "eq", "value": "pro"}}))
        recent = await segments.create(WS, SegmentDraft(name="Bought this week", condition={
            "event": {"name": "purchase", "window": {"within": {"days": 7}}}}))
        await engine.wait_for_builds()
        assert await db[SCHEDULES].count_documents({"ws": WS, "segmentId": recent.id, "personId": "ann"}) == 1

        recorded.schedule_ids.clear()
        await db["people"].update_one({"_id": "ann"}, {"$set": {"attributes.plan": "pro", "attributes.city": "Oslo"}})
        await engine.people_changed(WS, ["ann"], {attribute("plan"), attribute("city")})

        named = set(recorded.schedule_ids)
        assert not any(pro.id in doc_id for doc_id in named)
        # the windowed segment is re-evaluated when a purchase comes: its entry is rewritten, not lost
        await add_events(db, "ann", "event", "purchase", [clock.now()])
        await engine.people_changed(WS, ["ann"], {"event:purchase"})
        assert any(recent.id in doc_id for doc_id in recorded.schedule_ids)
        assert await db[SCHEDULES].count_documents({"ws": WS, "segmentId": recent.id, "personId": "ann"}) == 1
    finally:
        await engine.stop()
