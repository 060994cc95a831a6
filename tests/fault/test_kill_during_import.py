"""`segments serve` killed (SIGKILL) during a 5,000-row REPLACE import
(50,000 rows with `SEGMENTS_FAULT_PROFILE=deep`, `make test-fault-deep`):
before the import is committed to its journal nothing of it is applied;
after, the restart completes it (rules/manual/import_journal.py). Either way the
members are exactly one of the two sets, memberCount counts them, and each
person's history alternates ENTERED/EXITED with no duplicate.

To keep the suite quick on the embedded SQLite store, 2,000 of the file's
rows name people (1,000 members before; 500 removed, 1,000 added, in two
chunks) and the others name nobody: planning still reads and resolves every
row. The deep profile runs the kill after the first chunk on 50,000 rows
(140-200 s here, nearly all of it resolving the ids that name nobody); the
kill before the commit comes after planning, so its size matters less."""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter, defaultdict

import httpx
import pytest

from api.settings import Settings
from api.store import open_store
from rules.membership.changefeed import ChangeKind, MembershipChange
from rules.clock import SystemClock
from rules.people.identifiers import person_identity_documents
from rules.store.collections import IDENTITIES, IMPORT_JOURNAL, MEMBERSHIP_CHANGES, MEMBERSHIPS, PEOPLE, SEGMENTS
from rules.membership.engine import MembershipEngine
from rules.membership.journal import write_changes
from rules.segments.records import SegmentType
from rules.segments.service import SegmentDraft, SegmentService
from tests.api.manual_helpers import import_csv
from tests.fault.service import Service, create_workspace_in

PEOPLE_COUNT = 2_000
MEMBERS_BEFORE = range(0, 1_000)
FILE_PEOPLE = range(500, 2_000)
KILLED = -9
DEEP = os.environ.get("SEGMENTS_FAULT_PROFILE") == "deep"
DEEP_ROWS = 50_000


def _person_id(i: int) -> str:
    return f"{i:020x}"


async def _seed(db, workspace_id: str) -> None:
    now = time.time()
    people = [
        {"_id": _person_id(i), "ws": workspace_id, "id": f"u{i}", "email": None, "emailLower": None,
         "attributes": {}, "createdAt": now, "updatedAt": now, "suppressed": False}
        for i in range(PEOPLE_COUNT)
    ]
    await db[PEOPLE].insert_many(people)
    await db[IDENTITIES].insert_many([doc for person in people for doc in person_identity_documents(workspace_id, person)])
    engine = MembershipEngine(db, SystemClock())
    segment = await SegmentService(db, engine.clock, engine).create(
        workspace_id, SegmentDraft(name="Customers", type=SegmentType.MANUAL)
    )
    await write_changes(db, [
        MembershipChange(workspace_id=workspace_id, segment_id=segment.id, person_id=_person_id(i),
                         kind=ChangeKind.ENTERED, at=now)
        for i in MEMBERS_BEFORE
    ])


async def _stored(data_dir, segment_id: str) -> tuple[set[str], int, dict[str, list[str]], int]:
    store = await open_store(Settings(embedded_engine="sqlite", data_dir=data_dir))
    try:
        rows = {doc["personId"] async for doc in store.db[MEMBERSHIPS].find({"segmentId": segment_id}, {"personId": 1})}
        count = (await store.db[SEGMENTS].find_one({"_id": segment_id}))["memberCount"]
        history: dict[str, list[str]] = defaultdict(list)
        async for change in store.db[MEMBERSHIP_CHANGES].find({"segmentId": segment_id}).sort([("at", 1), ("_id", 1)]):
            history[change["personId"]].append(change["kind"])
        return rows, count, history, await store.db[IMPORT_JOURNAL].count_documents({})
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("crash_point", "members_after", "file_rows"),
    [("import.before_commit", MEMBERS_BEFORE, 5_000), ("import.after_chunk", FILE_PEOPLE, DEEP_ROWS if DEEP else 5_000)],
)
def test_killed_during_a_replace_import_it_is_all_or_nothing(tmp_path, crash_point, members_after, file_rows):
    workspace = create_workspace_in(tmp_path, _seed)
    segment_id = asyncio.run(_segment_id(tmp_path))
    unknown_rows = file_rows - len(FILE_PEOPLE)
    csv_file = ("id\n" + "".join(f"u{i}\n" for i in FILE_PEOPLE) + "".join(f"nobody{i}\n" for i in range(unknown_rows))).encode()

    crashing = Service(tmp_path, workspace, fault_point=crash_point)
    try:
        with pytest.raises(httpx.RemoteProtocolError):  # the service died before answering
            import_csv(crashing, workspace, segment_id, csv_file, mode="REPLACE", timeout=600)
        assert crashing.wait_until_dead() == KILLED
    finally:
        crashing.stop()

    # finishes a committed import before it serves
    restarted = Service(tmp_path, workspace, start_timeout=300)
    try:
        assert restarted.segment(segment_id)["memberCount"] == len(members_after)
        members = 'query($id: ID!) { segment(id: $id) { members(first: 0) { totalCount } } }'
        assert restarted.graphql(members, {"id": segment_id})["segment"]["members"]["totalCount"] == len(members_after)
    finally:
        restarted.stop()

    rows, count, history, journal_left = asyncio.run(_stored(tmp_path, segment_id))
    assert rows == {_person_id(i) for i in members_after}
    assert count == len(rows)
    assert journal_left == 0
    kinds = Counter(",".join(person_history) for person_history in history.values())
    if members_after is FILE_PEOPLE:  # kept and added: ENTERED once; removed: ENTERED, EXITED
        assert kinds == {"ENTERED": len(FILE_PEOPLE), "ENTERED,EXITED": 500}
    else:
        assert kinds == {"ENTERED": len(MEMBERS_BEFORE)}


async def _segment_id(data_dir) -> str:
    store = await open_store(Settings(embedded_engine="sqlite", data_dir=data_dir))
    try:
        return (await store.db[SEGMENTS].find_one({"name": "Customers"}))["_id"]
    finally:
        await store.close()
