"""Writes of the membership engine: change records, memberships, schedules.

Crash safety: `membership_changes` is a journal. A write first inserts a
marker into `membership_writes` (a token naming its workspace and
segments), records its changes tagged with that token, applies them to
`memberships` and the member counts, then deletes the marker. Whatever a
crash interrupts is finished by `apply_pending_changes` (at start-up, and
before a build) from the markers left behind, so a change is never recorded
twice nor left without its row. One marker per write, not a flag per change
to clear afterwards: clearing flags was an update per change, which cost
more than the rest of the write (2.6 s per 1,000). A
build's changes also get a deterministic `_id`, so a repeated build write
is a no-op. Every write is batched (`insert_many`, `bulk_write`, `$in`).

Every change record also gets a sequence number (`seq`) and every marker
the `floor` below which readers of the history wait while the write is
under way (rules/membership/change_log.py): the history is what webhooks and the
change stream read.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pymongo import UpdateOne
from pymongo.errors import BulkWriteError

from rules.membership.change_log import allocate_sequence, current_sequence
from rules.membership.changefeed import ChangeKind, MembershipChange
from rules.store.collections import (
    MEMBERSHIP_CHANGES,
    MEMBERSHIP_WRITES,
    MEMBERSHIPS,
    PEOPLE,
    SCHEDULES,
    SEGMENTS,
)
from rules.store.types import Collection, Database

DUPLICATE_KEY = 11000
# Tokens of the writes this process has under way: recovery leaves their
# markers alone (a build's recovery may run while an incremental write is in
# flight, and readers of the history rely on the marker until its records land).
_WRITES_IN_PROGRESS: set[str] = set()
# members_among reads a whole segment when it has at most this many members per person asked about
WHOLE_SEGMENT_READ_FACTOR = 10


def membership_id(segment_id: str, person_id: str) -> str:
    return f"{segment_id}|{person_id}"


@dataclass(frozen=True, kw_only=True)
class ScheduleEntry:
    """When (segment, person) may next change by time alone; `at` None clears it."""

    workspace_id: str
    segment_id: str
    person_id: str
    at: float | None


async def insert_reporting_duplicates(collection: Collection, documents: Sequence[dict[str, Any]]) -> list[int]:
    """Batch insert that skips documents whose `_id` exists already and
    returns their positions in `documents`."""
    if not documents:
        return []
    try:
        await collection.insert_many(list(documents), ordered=False)
    except BulkWriteError as error:
        write_errors = error.details.get("writeErrors", [])
        if any(e.get("code") != DUPLICATE_KEY for e in write_errors):
            raise
        return sorted(e["index"] for e in write_errors)
    return []


async def insert_ignoring_duplicates(collection: Collection, documents: Sequence[dict[str, Any]]) -> None:
    """Idempotent batch insert: documents whose `_id` exists already are skipped."""
    await insert_reporting_duplicates(collection, documents)


async def delete_by_ids(collection: Collection, keys: Sequence[tuple[str, str]], **conditions: Any) -> None:
    """Delete the documents with these (workspace id, `_id`) keys (and `conditions`)."""
    by_workspace: dict[str, list[str]] = {}
    for workspace_id, doc_id in keys:
        by_workspace.setdefault(workspace_id, []).append(doc_id)
    for workspace_id, doc_ids in by_workspace.items():
        await collection.delete_many({"ws": workspace_id, "_id": {"$in": doc_ids}, **conditions})


def _change_document(change: MembershipChange, build: int | None, write_token: str, seq: int) -> dict[str, Any]:
    # Build changes get ids derived from (segment, build, person, kind) so a
    # re-run of the same write is a no-op; other changes happen once.
    change_id = (
        f"{change.segment_id}|{build}|{change.person_id}|{change.kind}" if build is not None else secrets.token_hex(12)
    )
    return {
        "_id": change_id,
        "ws": change.workspace_id,
        "segmentId": change.segment_id,
        "personId": change.person_id,
        "kind": str(change.kind),
        "at": change.at,
        "recordedAt": change.at if change.recorded_at is None else change.recorded_at,
        "build": build,
        "write": write_token,
        "seq": seq,
    }


async def write_changes(
    db: Database, changes: Sequence[MembershipChange], *, build: int | None = None
) -> list[MembershipChange]:
    """Record `changes` and apply them to `memberships` and the member counts,
    under a write marker that recovery finds if this is interrupted.

    Returns the changes that took effect. A change whose membership write
    finds the state moved already (another process, reading the same
    membership state, entered or removed the person first) is dropped with
    its record, before the marker goes, so no reader of the history sees it
    (`apply_to_memberships`)."""
    if not changes:
        return []
    token = secrets.token_hex(8)
    marker = {
        "_id": token,
        "ws": sorted({c.workspace_id for c in changes}),
        "segmentIds": sorted({c.segment_id for c in changes}),
        # readers of the history stop below this until the write is finished (rules/membership/change_log.py)
        "floor": await current_sequence(db),
    }
    _WRITES_IN_PROGRESS.add(token)
    try:
        await db[MEMBERSHIP_WRITES].insert_many([marker])
        first_seq = await allocate_sequence(db, len(changes))
        documents = [_change_document(c, build, token, first_seq + i) for i, c in enumerate(changes)]
        await insert_ignoring_duplicates(db[MEMBERSHIP_CHANGES], documents)
        lost = await apply_to_memberships(db, changes)
        if lost:
            # only this write's own records: a repeated build write's ids are those of the first one
            await db[MEMBERSHIP_CHANGES].delete_many(
                {"write": token, "_id": {"$in": [d["_id"] for d in documents if (d["segmentId"], d["personId"]) in lost]}}
            )
        await db[MEMBERSHIP_WRITES].delete_one({"_id": token})
    finally:
        _WRITES_IN_PROGRESS.discard(token)
    return [c for c in changes if (c.segment_id, c.person_id) not in lost]


async def apply_to_memberships(db: Database, changes: Iterable[MembershipChange]) -> set[tuple[str, str]]:
    """Apply the changes to `memberships` and the member counts; returns the
    (segment, person) pairs whose change found the state moved already: an
    entry whose row exists (the batched insert reports the duplicate), an
    exit whose row is gone (a `delete_one` per row, sent concurrently, as a
    batched delete reports only how many it removed). Only what took effect
    moves the counts."""
    # A pair may change several times in one write (an entry and an exit both
    # found late): alternating, so an even number leaves it as it was, and an
    # odd number is the last change.
    by_pair: dict[tuple[str, str], list[MembershipChange]] = {}
    for change in changes:
        by_pair.setdefault((change.segment_id, change.person_id), []).append(change)
    net = [pair_changes[-1] for pair_changes in by_pair.values() if len(pair_changes) % 2]
    entered = [c for c in net if c.kind is ChangeKind.ENTERED]
    exited = [c for c in net if c.kind is ChangeKind.EXITED]
    duplicates = await insert_reporting_duplicates(
        db[MEMBERSHIPS],
        [
            {
                "_id": membership_id(c.segment_id, c.person_id),
                "ws": c.workspace_id,
                "segmentId": c.segment_id,
                "personId": c.person_id,
                "enteredAt": c.at,
            }
            for c in entered
        ],
    )
    lost = {(entered[i].segment_id, entered[i].person_id) for i in duplicates}
    deletions = await asyncio.gather(
        *(db[MEMBERSHIPS].delete_one({"_id": membership_id(c.segment_id, c.person_id), "ws": c.workspace_id}) for c in exited)
    )
    lost |= {(c.segment_id, c.person_id) for c, deleted in zip(exited, deletions, strict=True) if not deleted.deleted_count}
    entered = [c for c in entered if (c.segment_id, c.person_id) not in lost]
    exited = [c for c in exited if (c.segment_id, c.person_id) not in lost]
    delta: Counter[tuple[str, str]] = Counter()
    for change in entered:
        delta[(change.workspace_id, change.segment_id)] += 1
    for change in exited:
        delta[(change.workspace_id, change.segment_id)] -= 1
    updates = [
        UpdateOne({"_id": segment_id, "ws": ws}, {"$inc": {"memberCount": n}})
        for (ws, segment_id), n in delta.items()
        if n
    ]
    if updates:
        await db[SEGMENTS].bulk_write(updates, ordered=False)
    return lost


async def apply_pending_changes(db: Database, *, ws: str | None = None, segment_id: str | None = None) -> None:
    """Finish writes a crash or an error interrupted: for each write marker
    left behind, apply the last change of each (segment, person) that
    `memberships` does not reflect yet, then drop the marker. `ws` and
    `segment_id` narrow it to the writes that touched them."""
    scope: dict[str, Any] = {}
    if ws is not None:
        scope["ws"] = ws
    if segment_id is not None:
        scope["segmentIds"] = segment_id
    for marker in await db[MEMBERSHIP_WRITES].find(scope).to_list():
        if marker["_id"] in _WRITES_IN_PROGRESS:
            continue
        latest: dict[tuple[str, str], dict[str, Any]] = {}
        cursor = db[MEMBERSHIP_CHANGES].find({"write": marker["_id"]})
        async for doc in cursor.sort([("at", 1), ("_id", 1)]):
            latest[(doc["segmentId"], doc["personId"])] = doc
        unapplied = []
        for (change_segment, person_id), doc in latest.items():
            is_member = await db[MEMBERSHIPS].find_one({"ws": doc["ws"], "_id": membership_id(change_segment, person_id)}, {"_id": 1})
            if (doc["kind"] == ChangeKind.ENTERED) != (is_member is not None):
                unapplied.append(
                    MembershipChange(
                        workspace_id=doc["ws"],
                        segment_id=change_segment,
                        person_id=person_id,
                        kind=ChangeKind(doc["kind"]),
                        at=doc["at"],
                    )
                )
        await apply_to_memberships(db, unapplied)
        await db[MEMBERSHIP_WRITES].delete_one({"_id": marker["_id"]})


async def member_ids(db: Database, workspace_id: str, segment_id: str) -> set[str]:
    cursor = db[MEMBERSHIPS].find({"ws": workspace_id, "segmentId": segment_id}, {"personId": 1})
    return {doc["personId"] async for doc in cursor}


async def members_among(
    db: Database, workspace_id: str, segment_id: str, person_ids: Sequence[str], *, member_count: int
) -> set[str]:
    """Those of `person_ids` who are members of the segment (which has about
    `member_count` members), so that a small change to a large segment does
    not read all its members. A segment with few members compared with the
    people asked about is read whole instead (one indexed query)."""
    wanted = list(dict.fromkeys(person_ids))
    if member_count <= WHOLE_SEGMENT_READ_FACTOR * len(wanted):
        return set(wanted) & await member_ids(db, workspace_id, segment_id)
    query = {"ws": workspace_id, "segmentId": segment_id, "personId": {"$in": wanted}}
    return {doc["personId"] async for doc in db[MEMBERSHIPS].find(query, {"personId": 1})}


async def existing_people(db: Database, workspace_id: str, person_ids: Sequence[str]) -> set[str]:
    """Those of `person_ids` that are people of the workspace."""
    query = {"ws": workspace_id, "_id": {"$in": list(person_ids)}}
    return {doc["_id"] async for doc in db[PEOPLE].find(query, {"_id": 1})}


async def segments_of_person(db: Database, workspace_id: str, person_id: str) -> set[str]:
    cursor = db[MEMBERSHIPS].find({"ws": workspace_id, "personId": person_id}, {"segmentId": 1})
    return {doc["segmentId"] async for doc in cursor}


async def recount_members(db: Database, workspace_id: str, segment_id: str) -> int:
    count = await db[MEMBERSHIPS].count_documents({"ws": workspace_id, "segmentId": segment_id})
    await db[SEGMENTS].update_one({"_id": segment_id, "ws": workspace_id}, {"$set": {"memberCount": count}})
    return count


async def write_schedules(db: Database, entries: Sequence[ScheduleEntry]) -> None:
    """Store the schedules of the given (segment, person) pairs (`at` None
    removes theirs).

    Crash safety: each entry moves from its old value to its new one in one
    single-document write (an upsert), so a crash part-way leaves every
    entry either as it was or as it should be, never missing; not
    delete-then-insert, which lost the entries deleted before a crash."""
    await delete_by_ids(db[SCHEDULES], [(e.workspace_id, membership_id(e.segment_id, e.person_id)) for e in entries if e.at is None])
    timed = [e for e in entries if e.at is not None]
    if not timed:
        return
    upserts = [
        UpdateOne(
            {"_id": membership_id(e.segment_id, e.person_id), "ws": e.workspace_id},
            {"$set": {"segmentId": e.segment_id, "personId": e.person_id, "at": e.at}},
            upsert=True,
        )
        for e in timed
    ]
    await db[SCHEDULES].bulk_write(upserts, ordered=False)
