"""A change that falls due while nobody looks (the service down, the
scheduler late) is dated when the condition stopped or started holding;
`recordedAt` says when the engine wrote it."""

from __future__ import annotations

from rules.store.collections import MEMBERSHIP_CHANGES
from rules.segments.service import SegmentDraft
from tests.scenario.test_engine import DAY, WS, add_events, add_person, engine, service  # noqa: F401 (fixture)

BOUGHT_IN_3_DAYS = {"event": {"name": "purchase", "window": {"within": {"days": 3}}}}


async def changes_of(db, segment_id):
    cursor = db[MEMBERSHIP_CHANGES].find({"segmentId": segment_id}).sort([("at", 1), ("_id", 1)])
    return [(c["personId"], c["kind"], c["at"], c["recordedAt"]) async for c in cursor]


async def test_an_exit_found_late_keeps_the_moment_the_window_closed(db, engine):
    t0 = engine.clock.now()
    await add_person(db, t0, "ann")
    await add_events(db, "ann", "event", "purchase", [t0 - DAY])
    segment = await service(db, engine).create(WS, SegmentDraft(name="Bought", condition=BOUGHT_IN_3_DAYS))
    await engine.wait_for_builds()

    engine.clock.set(t0 + 10 * DAY)  # the purchase left the window at t0 + 2 days
    assert await engine.run_due() == 1
    assert await changes_of(db, segment.id) == [
        ("ann", "ENTERED", t0, t0),
        ("ann", "EXITED", t0 + 2 * DAY, t0 + 10 * DAY),
    ]


async def test_the_search_walks_past_moments_at_which_the_condition_still_held(db, engine):
    # The first purchase leaves the window first (the scheduled moment), but
    # the second still holds her in until it leaves too.
    t0 = engine.clock.now()
    await add_person(db, t0, "bob")
    await add_events(db, "bob", "event", "purchase", [t0 - 2 * DAY, t0])
    segment = await service(db, engine).create(WS, SegmentDraft(name="Bought", condition=BOUGHT_IN_3_DAYS))
    await engine.wait_for_builds()

    engine.clock.set(t0 + 30 * DAY)
    await engine.run_due()
    assert await changes_of(db, segment.id) == [
        ("bob", "ENTERED", t0, t0),
        ("bob", "EXITED", t0 + 3 * DAY, t0 + 30 * DAY),
    ]


async def test_an_entry_by_time_is_dated_when_the_condition_began_to_hold(db, engine):
    # At most one sign-in in 3 days: with two recent sign-ins he is out, and
    # in again once the older one leaves the window.
    t0 = engine.clock.now()
    await add_person(db, t0, "cy")
    await add_events(db, "cy", "event", "signed_in", [t0 - DAY, t0])
    condition = {"event": {"name": "signed_in", "count": {"op": "atMost", "value": 1}, "window": {"within": {"days": 3}}}}
    segment = await service(db, engine).create(WS, SegmentDraft(name="Quiet", condition=condition))
    await engine.wait_for_builds()

    engine.clock.set(t0 + 2.5 * DAY)
    await engine.run_due()
    assert await changes_of(db, segment.id) == [("cy", "ENTERED", t0 + 2 * DAY, t0 + 2.5 * DAY)]


async def test_an_entry_and_an_exit_both_missed_are_both_recorded(db, engine):
    # A purchase dated a day ahead enters the window then and leaves it
    # three days later, both while the engine was not looking.
    t0 = engine.clock.now()
    await add_person(db, t0, "dee")
    await add_events(db, "dee", "event", "purchase", [t0 + DAY])
    segment = await service(db, engine).create(WS, SegmentDraft(name="Bought", condition=BOUGHT_IN_3_DAYS))
    await engine.wait_for_builds()
    assert await changes_of(db, segment.id) == []

    engine.clock.set(t0 + 10 * DAY)
    await engine.run_due()
    assert await changes_of(db, segment.id) == [
        ("dee", "ENTERED", t0 + DAY, t0 + 10 * DAY),
        ("dee", "EXITED", t0 + 4 * DAY, t0 + 10 * DAY),
    ]
    assert await db["memberships"].count_documents({"segmentId": segment.id}) == 0
    assert (await db["segments"].find_one({"_id": segment.id}))["memberCount"] == 0
