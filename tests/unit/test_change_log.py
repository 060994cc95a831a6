"""The stable horizon: a writer that took its sequence numbers but has not
recorded its changes yet holds readers back, so a change committed out of
sequence order is never skipped."""

from __future__ import annotations

import asyncio

import rules.membership.journal as membership_store
from rules.membership.change_log import changes_after, stable_horizon
from rules.membership.changefeed import ChangeKind, MembershipChange


def _change(person: str) -> MembershipChange:
    return MembershipChange(workspace_id="ws_1", segment_id="seg_1", person_id=person, kind=ChangeKind.ENTERED, at=1.0)


async def test_a_slow_writer_holds_readers_below_its_numbers(db, monkeypatch):
    allocated = asyncio.Event()
    release = asyncio.Event()
    allocate = membership_store.allocate_sequence

    async def slow_for_ann(database, count):
        first = await allocate(database, count)
        if slow_writer_running:
            allocated.set()
            await release.wait()
        return first

    monkeypatch.setattr(membership_store, "allocate_sequence", slow_for_ann)
    slow_writer_running = True
    slow = asyncio.create_task(membership_store.write_changes(db, [_change("ann")]))
    await allocated.wait()
    slow_writer_running = False
    await membership_store.write_changes(db, [_change("bob")])  # takes number 2, lands first

    horizon = await stable_horizon(db)
    assert horizon == 0
    assert await changes_after(db, "ws_1", 0, up_to=horizon, limit=10) == []
    # a build's recovery running meanwhile leaves the write under way alone
    await membership_store.apply_pending_changes(db, ws="ws_1", segment_id="seg_1")
    assert await stable_horizon(db) == 0

    release.set()
    await slow
    horizon = await stable_horizon(db)
    assert horizon == 2
    read = await changes_after(db, "ws_1", 0, up_to=horizon, limit=10)
    assert [(c["personId"], c["seq"]) for c in read] == [("ann", 1), ("bob", 2)]
    assert await changes_after(db, "ws_1", 1, up_to=horizon, limit=10) == read[1:]
    assert await changes_after(db, "ws_2", 0, up_to=horizon, limit=10) == []


async def test_an_interrupted_write_holds_readers_until_recovery(db):
    await membership_store.write_changes(db, [_change("ann")])
    # a write that crashed after its marker: recovery (start-up) finishes it and frees the horizon
    await db["membership_writes"].insert_many([{"_id": "crashed", "ws": ["ws_1"], "segmentIds": ["seg_1"], "floor": 1}])
    await db["counters"].update_one({"_id": "membership_changes"}, {"$inc": {"seq": 1}})
    assert await stable_horizon(db) == 1
    await membership_store.apply_pending_changes(db)
    assert await stable_horizon(db) == 2
