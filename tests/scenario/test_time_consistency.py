"""Time alone moves people in and out: on the demo data, windowed segments
are built, then the fake clock advances step by step and `run_due` runs;
at every step the live members equal what the compiled pipelines compute
at that moment, and no change is recorded twice in a row."""

from __future__ import annotations

from itertools import groupby

from rules.clock import FakeClock
from rules.store.collections import MEMBERSHIP_CHANGES, MEMBERSHIPS
from rules.conditions.compile import matching_person_ids
from rules.demo import load_demo
from rules.membership.engine import MembershipEngine
from rules.conditions.parse import parse_condition
from rules.segments.service import SegmentDraft, SegmentService

WS = "ws_time"
HOUR = 3_600.0
WINDOWED = {
    "Added to cart in 2 days, no purchase in 4": {"all": [
        {"event": {"name": "add_to_cart", "window": {"within": {"days": 2}}}},
        {"not": {"event": {"name": "purchase", "window": {"within": {"days": 4}}}}},
    ]},
    "At most one sign-in in 3 days": {"event": {"name": "signed_in", "count": {"op": "atMost", "value": 1},
                                                "window": {"within": {"days": 3}}}},
    "Offer page twice in 5 days": {"pageView": {"url": {"op": "startsWith", "value": "/offers/"}, "sameUrl": True,
                                                "count": {"op": "atLeast", "value": 2}, "window": {"within": {"days": 5}}}},
    "App used in 2 days": {"device": {"lastUsed": {"within": {"days": 2}}}},
    "Opened in 3 days": {"message": {"metric": "opened", "window": {"within": {"days": 3}}}},
    "Signed up over 100 days ago": {"attribute": {"path": "signed_up", "op": "moreThanAgo", "value": {"days": 100}}},
}


async def test_members_follow_the_clock_exactly(db):
    clock = FakeClock()
    engine = MembershipEngine(db, clock)
    # Demo activity is spread over the last 180 days, so windows of days change often.
    await load_demo(db, WS, now=clock.now(), people=300)
    await db["people"].update_many({"ws": WS}, [{"$set": {"attributes.signed_up": "$createdAt"}}])
    segments = SegmentService(db, clock, engine)
    created = {name: await segments.create(WS, SegmentDraft(name=name, condition=c)) for name, c in WINDOWED.items()}
    await engine.wait_for_builds()
    try:
        moved = 0
        for _ in range(12):
            clock.advance(9 * HOUR)
            await engine.run_due()
            for name, segment in created.items():
                expected = await matching_person_ids(db, parse_condition(WINDOWED[name]), workspace_id=WS, now=clock.now())
                live = {doc["personId"] async for doc in db[MEMBERSHIPS].find({"segmentId": segment.id})}
                assert live == expected, f"{name} at +{clock.now():.0f}"
        for segment in created.values():
            changes = await db[MEMBERSHIP_CHANGES].find({"segmentId": segment.id}).sort([("personId", 1), ("at", 1)]).to_list()
            for _, person_changes in groupby(changes, key=lambda c: c["personId"]):
                kinds = [c["kind"] for c in person_changes]
                assert all(a != b for a, b in zip(kinds, kinds[1:])), kinds
                moved += len(kinds) - 1
        assert moved > 10  # the clock really moved people
    finally:
        await engine.stop()
