"""The membership engine on a store and a fake clock, data written directly:
builds, incremental updates, time, segment references, manual changes."""

from __future__ import annotations

import secrets
from collections import Counter

import pytest

from rules.clock import FakeClock
from rules.store.collections import EVENTS, MEMBERSHIP_CHANGES, MEMBERSHIP_WRITES, MEMBERSHIPS, PEOPLE
from rules.conditions.compile import matching_person_ids
from rules.membership.engine import MembershipEngine
from rules.conditions.parse import parse_condition
from rules.segments.records import SegmentInUse, SegmentInvalid, SegmentState, SegmentType, get_segment
from rules.segments.service import SegmentDraft, SegmentPatch, SegmentService

WS = "ws_engine"
DAY = 86_400.0
OFFER_VIEWERS = {
    "all": [
        {"pageView": {"url": {"op": "startsWith", "value": "/offers/"}, "count": {"op": "atLeast", "value": 5},
                      "window": {"within": {"days": 7}}, "sameUrl": True}},
        {"not": {"event": {"name": "purchase"}}},
    ]
}


@pytest.fixture
async def engine(db):
    clock = FakeClock()
    engine = MembershipEngine(db, clock)
    yield engine
    await engine.stop()


def service(db, engine) -> SegmentService:
    return SegmentService(db, engine.clock, engine)


async def add_person(db, now, person_id, **attributes):
    await db[PEOPLE].insert_many([{"_id": person_id, "ws": WS, "id": person_id, "email": None, "emailLower": None,
                                   "attributes": attributes, "createdAt": now, "updatedAt": now, "suppressed": False}])


async def add_events(db, person_id, kind, name, times):
    await db[EVENTS].insert_many([
        {"_id": secrets.token_hex(8), "ws": WS, "personId": person_id, "anonymousId": None, "type": kind,
         "name": name, "data": {}, "ts": t, "receivedAt": t} for t in times
    ])


async def history(db, segment_id):
    cursor = db[MEMBERSHIP_CHANGES].find({"ws": WS, "segmentId": segment_id}).sort([("at", 1), ("kind", 1), ("personId", 1)])
    return [(doc["personId"], doc["kind"], doc["at"]) async for doc in cursor]


async def members(db, segment_id):
    return {doc["personId"] async for doc in db[MEMBERSHIPS].find({"ws": WS, "segmentId": segment_id})}


async def test_offer_viewers_enter_on_build_leave_on_purchase_and_after_a_week(db, engine):
    clock = engine.clock
    t0 = clock.now()
    for person in ("ann", "bob", "cat"):
        await add_person(db, t0, person)
    await add_events(db, "ann", "page", "/offers/gold", [t0 - 3 * DAY + i for i in range(5)])
    await add_events(db, "bob", "page", "/offers/gold", [t0 - 1 * DAY + i for i in range(5)])
    # cat: five offer views, but spread over two URLs
    await add_events(db, "cat", "page", "/offers/gold", [t0 - DAY + i for i in range(3)])
    await add_events(db, "cat", "page", "/offers/silver", [t0 - DAY + i for i in range(2)])

    segment = await service(db, engine).create(WS, SegmentDraft(name="Offer viewers", condition=OFFER_VIEWERS))
    await engine.wait_for_builds()
    assert (await get_segment(db, WS, segment.id)).state is SegmentState.READY
    assert await members(db, segment.id) == {"ann", "bob"}

    clock.advance(60)
    await add_events(db, "bob", "event", "purchase", [clock.now()])
    await engine.people_changed(WS, ["bob"], {"event:purchase"})
    assert await members(db, segment.id) == {"ann"}

    # ann's first view leaves the 7-day window 4 days after t0
    clock.set(t0 + 4 * DAY - 10)
    assert await engine.run_due() == 0
    clock.set(t0 + 4 * DAY + 1)
    assert await engine.run_due() >= 1
    assert await members(db, segment.id) == set()
    assert await history(db, segment.id) == [
        ("ann", "ENTERED", t0), ("bob", "ENTERED", t0), ("bob", "EXITED", t0 + 60),
        # dated when the window let go of her first view, not when run_due noticed
        ("ann", "EXITED", t0 + 4 * DAY),
    ]
    assert (await get_segment(db, WS, segment.id)).member_count == 0


async def test_waiting_out_an_at_most_window_enters(db, engine):
    clock = engine.clock
    t0 = clock.now()
    await add_person(db, t0, "dan")
    await add_events(db, "dan", "event", "login", [t0 - 2 * DAY])
    quiet = {"event": {"name": "login", "count": {"op": "atMost", "value": 0}, "window": {"within": {"days": 3}}}}
    segment = await service(db, engine).create(WS, SegmentDraft(name="Quiet", condition=quiet))
    await engine.wait_for_builds()
    assert await members(db, segment.id) == set()
    clock.set(t0 + DAY + 1)
    await engine.run_due()
    assert await members(db, segment.id) == {"dan"}


async def test_referring_segments_follow_in_order_and_block_changes(db, engine):
    clock = engine.clock
    t0 = clock.now()
    await add_person(db, t0, "eve", lifetime_value=30000)
    await add_person(db, t0, "fay", lifetime_value=100)
    segments = service(db, engine)
    vip = await segments.create(WS, SegmentDraft(name="VIP", condition={"attribute": {"path": "lifetime_value", "op": "gt", "value": 25000}}))
    non_vip = await segments.create(WS, SegmentDraft(name="Not VIP", condition={"segment": {"id": vip.id, "member": False}}))
    await engine.wait_for_builds()
    assert await members(db, vip.id) == {"eve"} and await members(db, non_vip.id) == {"fay"}

    await db[PEOPLE].update_one({"_id": "fay"}, {"$set": {"attributes.lifetime_value": 50000}})
    await engine.people_changed(WS, ["fay"], {"attributes", "attribute:lifetime_value"})
    assert await members(db, vip.id) == {"eve", "fay"} and await members(db, non_vip.id) == set()

    with pytest.raises(SegmentInUse, match="Not VIP"):
        await segments.delete(WS, vip.id)
    renamed = await segments.update(WS, vip.id, SegmentPatch(name="Big spenders"))
    assert renamed.name == "Big spenders"


async def test_manual_changes_are_recorded_and_propagate(db, engine):
    t0 = engine.clock.now()
    await add_person(db, t0, "gus")
    segments = service(db, engine)
    manual = await segments.create(WS, SegmentDraft(name="Beta", type=SegmentType.MANUAL))
    follower = await segments.create(WS, SegmentDraft(name="Beta follower", condition={"segment": {"id": manual.id}}))
    await engine.wait_for_builds()
    result = await engine.apply_manual_changes(WS, manual.id, add=["gus", "nobody"])
    assert result.added == ("gus",) and result.not_found == ("nobody",)
    assert (await engine.apply_manual_changes(WS, manual.id, add=["gus"])).already_members == ("gus",)
    assert await members(db, follower.id) == {"gus"}
    await engine.apply_manual_changes(WS, manual.id, remove=["gus"])
    assert await members(db, manual.id) == set() and await members(db, follower.id) == set()
    assert [kind for _, kind, _ in await history(db, manual.id)] == ["ENTERED", "EXITED"]


async def crash_before_rows(db, segment_id, person_ids):
    """What a crash between recording changes and writing their rows leaves:
    the write's marker, its change records, and no rows."""
    await db[MEMBERSHIPS].delete_many({"segmentId": segment_id, "personId": {"$in": person_ids}})
    token = f"interrupted-{len(person_ids)}-{person_ids[0]}"
    await db[MEMBERSHIP_WRITES].insert_many([{"_id": token, "ws": [WS], "segmentIds": [segment_id]}])
    await db[MEMBERSHIP_CHANGES].update_many(
        {"segmentId": segment_id, "personId": {"$in": person_ids}}, {"$set": {"write": token}}
    )


async def test_writes_interrupted_by_a_crash_are_finished_on_start(db, engine):
    t0 = engine.clock.now()
    for index in range(30):
        await add_person(db, t0, f"p{index}", lifetime_value=index * 1000)
    condition = {"attribute": {"path": "lifetime_value", "op": "gte", "value": 10000}}
    segment = await service(db, engine).create(WS, SegmentDraft(name="Half built", condition=condition))
    await engine.wait_for_builds()
    await crash_before_rows(db, segment.id, ["p10", "p11"])
    from rules.store.collections import SEGMENTS

    await db[SEGMENTS].update_one({"_id": segment.id}, {"$set": {"state": "BUILDING"}})
    # An incremental change interrupted the same way.
    engine.clock.advance(60)
    await db[PEOPLE].update_one({"_id": "p29"}, {"$set": {"attributes.lifetime_value": 0}})
    await engine.people_changed(WS, ["p29"], {"attributes"})
    await crash_before_rows(db, segment.id, ["p29"])
    await db[MEMBERSHIPS].insert_many([{"_id": f"{segment.id}|p29", "ws": WS, "segmentId": segment.id, "personId": "p29", "enteredAt": t0}])

    await engine.start()
    await engine.wait_for_builds()
    expected = await matching_person_ids(db, parse_condition(condition), workspace_id=WS, now=engine.clock.now())
    assert await members(db, segment.id) == expected and "p29" not in expected
    kinds = Counter((person, kind) for person, kind, _ in await history(db, segment.id))
    assert {person for (person, kind), n in kinds.items() if kind == "ENTERED" and n == 1} == expected | {"p29"}
    assert set(kinds.values()) == {1}
    assert (await get_segment(db, WS, segment.id)).member_count == len(expected)
    assert await db[MEMBERSHIP_WRITES].count_documents({}) == 0


async def test_a_condition_changed_during_its_build_is_built_next(db, engine):
    t0 = engine.clock.now()
    for index in range(10):
        await add_person(db, t0, f"q{index}", n=index)
    segments = service(db, engine)
    segment = await segments.create(WS, SegmentDraft(name="Low", condition={"attribute": {"path": "n", "op": "lt", "value": 5}}))
    # The first build has not run yet: the change queues a second one behind it.
    await segments.update(WS, segment.id, SegmentPatch(condition={"attribute": {"path": "n", "op": "gte", "value": 8}}))
    await engine.wait_for_builds()
    assert await members(db, segment.id) == {"q8", "q9"}
    assert (await get_segment(db, WS, segment.id)).state is SegmentState.READY
    kinds = [kind for _, kind, _ in await history(db, segment.id)]
    assert kinds.count("ENTERED") - kinds.count("EXITED") == 2


async def test_a_segment_cannot_refer_to_itself(db, engine):
    segments = service(db, engine)
    segment = await segments.create(WS, SegmentDraft(name="A", condition={"attribute": {"path": "x", "op": "exists"}}))
    with pytest.raises(SegmentInvalid) as invalid:
        await segments.update(WS, segment.id, SegmentPatch(condition={"not": {"segment": {"id": segment.id}}}))
    assert [(p.code, p.path) for p in invalid.value.problems] == [("SEGMENT_CYCLE", "/condition/not/segment/id")]


async def test_interrupted_builds_resume_referenced_segments_first(db, engine):
    t0 = engine.clock.now()
    for index in range(6):
        await add_person(db, t0, f"r{index}", n=index)
    segments = service(db, engine)
    base = await segments.create(WS, SegmentDraft(name="Base", condition={"attribute": {"path": "n", "op": "gte", "value": 3}}))
    follower = await segments.create(WS, SegmentDraft(name="Follower", condition={"segment": {"id": base.id}}))
    await engine.wait_for_builds()
    # Both interrupted, the base with its members lost: the follower must wait for it.
    from rules.store.collections import SEGMENTS

    await db[MEMBERSHIPS].delete_many({"segmentId": base.id})
    await db[SEGMENTS].update_many({"ws": WS}, {"$set": {"state": "BUILDING"}})
    for segment in (follower, base):  # the follower's build is asked for first
        engine.segment_saved(await get_segment(db, WS, segment.id))
    await engine.wait_for_builds()
    assert await members(db, base.id) == await members(db, follower.id) == {"r3", "r4", "r5"}
    # Built after its base, the follower never saw the lost members go.
    assert [kind for _, kind, _ in await history(db, follower.id)] == ["ENTERED"] * 3
