"""Two membership engines on one store, as two service processes have:
a segment edited through one is what the other evaluates with, and a change
the other already made is not recorded twice. The same with real processes:
tests/fault/test_two_processes_share_rules.py."""

from __future__ import annotations

import pytest

from rules.clock import FakeClock
from rules.membership.changefeed import ChangeKind, MembershipChange
from rules.membership.engine import MembershipEngine
from rules.membership.journal import write_changes
from rules.segments.records import SegmentType, get_segment
from rules.segments.service import SegmentDraft, SegmentPatch, SegmentService
from rules.store.collections import MEMBERSHIP_CHANGES, MEMBERSHIPS, PEOPLE, WORKSPACES
from tests.scenario.test_engine import add_person, members

WS = "ws_engine"  # add_person writes into this workspace


@pytest.fixture
async def engines(db):
    await db[WORKSPACES].insert_many([{"_id": WS, "name": "two engines", "siteId": "site", "createdAt": 0.0}])
    clock = FakeClock()
    pair = (MembershipEngine(db, clock), MembershipEngine(db, clock))
    yield pair
    for engine in pair:
        await engine.stop()


async def _set_n(db, person_id: str, n: int) -> None:
    await db[PEOPLE].update_one({"_id": person_id, "ws": WS}, {"$set": {"attributes.n": n}})


async def test_an_edit_through_one_engine_is_what_the_other_evaluates_with(db, engines):
    editor, ingester = engines
    segments = SegmentService(db, editor.clock, editor)
    await add_person(db, editor.clock.now(), "ann", n=1)
    await add_person(db, editor.clock.now(), "bob", n=1)
    high = await segments.create(WS, SegmentDraft(name="High", condition={"attribute": {"path": "n", "op": "gte", "value": 50}}))
    doomed = await segments.create(WS, SegmentDraft(name="High too", condition={"attribute": {"path": "n", "op": "gte", "value": 50}}))
    await editor.wait_for_builds()
    await ingester.people_changed(WS, ["ann"], {"attributes"})  # the ingester's rules are cached now

    await segments.update(WS, high.id, SegmentPatch(condition={"attribute": {"path": "n", "op": "lt", "value": 50}}))
    await editor.wait_for_builds()
    await segments.delete(WS, doomed.id)
    assert await members(db, high.id) == {"ann", "bob"}

    await _set_n(db, "ann", 100)
    await ingester.people_changed(WS, ["ann"], {"attributes"})
    assert await members(db, high.id) == {"bob"}  # the old condition would have kept her
    assert await db[MEMBERSHIPS].count_documents({"ws": WS, "segmentId": doomed.id}) == 0
    assert await db[MEMBERSHIP_CHANGES].count_documents({"ws": WS, "segmentId": doomed.id}) == 0


async def test_a_change_another_writer_made_first_is_dropped_with_its_record(db, engines):
    editor, _ = engines
    await add_person(db, editor.clock.now(), "ann", n=1)
    manual = await SegmentService(db, editor.clock, editor).create(WS, SegmentDraft(name="By hand", type=SegmentType.MANUAL))

    def change(kind: ChangeKind, at: float) -> MembershipChange:
        return MembershipChange(workspace_id=WS, segment_id=manual.id, person_id="ann", kind=kind, at=at)

    # Two writers read "not a member", both enter her; then both (and a build) read "member" and remove her.
    assert await write_changes(db, [change(ChangeKind.ENTERED, 1.0)]) == [change(ChangeKind.ENTERED, 1.0)]
    assert await write_changes(db, [change(ChangeKind.ENTERED, 2.0)]) == []
    assert (await get_segment(db, WS, manual.id)).member_count == 1
    assert await write_changes(db, [change(ChangeKind.EXITED, 3.0)]) == [change(ChangeKind.EXITED, 3.0)]
    assert await write_changes(db, [change(ChangeKind.EXITED, 4.0)]) == []
    assert await write_changes(db, [change(ChangeKind.EXITED, 5.0)], build=7) == []  # a build's exit as well

    recorded = await db[MEMBERSHIP_CHANGES].find({"ws": WS, "segmentId": manual.id}).sort([("seq", 1)]).to_list()
    assert [(c["kind"], c["at"]) for c in recorded] == [("ENTERED", 1.0), ("EXITED", 3.0)]
    assert (await get_segment(db, WS, manual.id)).member_count == 0
    assert await members(db, manual.id) == set()
