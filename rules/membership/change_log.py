"""Membership history read in order, across processes: sequence numbers,
the stable horizon, and the signal that new changes may be there.

Every change record gets a `seq` from one counter (`$inc` on a document of
`counters`), allocated by `write_changes` after it has inserted its write
marker, whose `floor` is the counter's value before the allocation. Two
writers can commit out of sequence order (A takes 5, B takes 6, B's records
land first), so a reader that simply followed `seq` could pass 5 before it
exists. The *stable horizon* is the highest `seq` below which every change
is visible: the counter's value, lowered to the floor of any write still
under way. Readers (webhook deliveries, the resumable stream) only read up
to it. Proof sketch: a change with seq s <= counter value K was allocated
before K was read, so its writer's marker was inserted before that and is
only deleted after its records are inserted; a reader that does not see
the record yet therefore sees the marker, whose floor is < s.

A write interrupted by a crash leaves its marker until recovery
(`apply_pending_changes`, at start-up of any service process and before a
build), and readers wait at its floor until then: they never skip it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import PyMongoError

from rules.store.collections import COUNTERS, MEMBERSHIP_CHANGES, MEMBERSHIP_WRITES, PEOPLE, SEGMENTS
from rules.store.types import Database

log = logging.getLogger("segments")

CHANGE_SEQUENCE = "membership_changes"


async def current_sequence(db: Database) -> int:
    """The last `seq` allocated so far (0 before any)."""
    counter = await db[COUNTERS].find_one({"_id": CHANGE_SEQUENCE})
    return int(counter["seq"]) if counter else 0


async def allocate_sequence(db: Database, count: int) -> int:
    """Reserve `count` consecutive sequence numbers; returns the first."""
    counter = await db[COUNTERS].find_one_and_update(
        {"_id": CHANGE_SEQUENCE}, {"$inc": {"seq": count}}, upsert=True, return_document=ReturnDocument.AFTER
    )
    assert counter is not None  # an upsert returning the document AFTER it always has one
    return int(counter["seq"]) - count + 1


async def stable_horizon(db: Database) -> int:
    """Every change with `seq` at or below this is visible (see the module docstring)."""
    counter = await current_sequence(db)
    floors = [m["floor"] async for m in db[MEMBERSHIP_WRITES].find({"floor": {"$exists": True}}, {"floor": 1})]
    return min([counter, *floors])


async def changes_after(
    db: Database, workspace_id: str, after: int, *, up_to: int, limit: int, match: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Change records of the workspace with `after < seq <= up_to`, in `seq` order."""
    if up_to <= after:
        return []
    query = {"ws": workspace_id, "seq": {"$gt": after, "$lte": up_to, "$type": "number"}, **(match or {})}
    return await db[MEMBERSHIP_CHANGES].find(query).sort([("seq", 1)]).limit(limit).to_list()


class CursorInvalid(ValueError):
    pass


def parse_cursor(cursor: str) -> int:
    """A change's cursor is its sequence number, written in decimal; clients treat it as opaque."""
    if not cursor.isascii() or not cursor.isdigit() or len(cursor) > 18:
        raise CursorInvalid(f"not a change cursor: {cursor[:40]!r}")
    return int(cursor)


def iso_time(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")


async def describe_changes(db: Database, workspace_id: str, changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Change records as clients receive them (webhook bodies, the HTTP change stream)."""
    segment_ids = list(dict.fromkeys(c["segmentId"] for c in changes))
    person_ids = list(dict.fromkeys(c["personId"] for c in changes))
    segments = {d["_id"]: d async for d in db[SEGMENTS].find({"ws": workspace_id, "_id": {"$in": segment_ids}}, {"name": 1})}
    people = {d["_id"]: d async for d in db[PEOPLE].find({"ws": workspace_id, "_id": {"$in": person_ids}}, {"id": 1, "email": 1})}
    return [
        {
            "changeId": c["_id"],
            "cursor": str(c["seq"]),
            "kind": c["kind"],
            "at": iso_time(c["at"]),
            "segment": {"id": c["segmentId"], "name": segments.get(c["segmentId"], {}).get("name")},
            # id and email are null once the person is deleted
            "person": {
                "cioId": c["personId"],
                "id": people.get(c["personId"], {}).get("id"),
                "email": people.get(c["personId"], {}).get("email"),
            },
        }
        for c in changes
    ]


async def read_segment_changes(
    db: Database, workspace_id: str, segment_id: str, after: int, *, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """The segment's changes after `after` (at most `limit`) and the cursor to continue from."""
    horizon = await stable_horizon(db)
    changes = await changes_after(db, workspace_id, after, up_to=horizon, limit=limit, match={"segmentId": segment_id})
    if len(changes) == limit:
        return changes, changes[-1]["seq"]
    # Everything up to the horizon is visible: a reader may skip to it.
    return changes, max(after, horizon)


class Wake:
    """One reader's wake-ups: cleared before it reads the store, so a
    notification that comes while it reads is not lost."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()

    def clear(self) -> None:
        self._event.clear()

    async def wait(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            pass


class ChangeSignal:
    """Wakes readers when new changes may have been recorded: at once for
    writes of this process (`notify`, hooked to the engine's changefeed) and
    of other processes on a MongoDB that has change streams; every
    `poll_interval` seconds otherwise (other processes on the embedded
    store, a standalone MongoDB). Readers always re-read the store: the
    signal only says when."""

    def __init__(self, db: Database, *, poll_interval: float, use_change_stream: bool) -> None:
        self._db = db
        self.poll_interval = poll_interval
        self._use_change_stream = use_change_stream
        self._wakes: set[Wake] = set()
        self._watcher: asyncio.Task[None] | None = None
        self._followers: Counter[tuple[str, str]] = Counter()

    def start(self) -> None:
        if self._use_change_stream:
            self._watcher = asyncio.create_task(self._watch(), name="membership-change-stream")

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            await asyncio.gather(self._watcher, return_exceptions=True)

    def notify(self) -> None:
        for wake in self._wakes:
            wake.set()

    @contextmanager
    def listening(self) -> Iterator[Wake]:
        wake = Wake()
        self._wakes.add(wake)
        try:
            yield wake
        finally:
            self._wakes.discard(wake)

    @contextmanager
    def following(self, workspace_id: str, segment_id: str) -> Iterator[None]:
        key = (workspace_id, segment_id)
        self._followers[key] += 1
        try:
            yield
        finally:
            self._followers[key] -= 1
            if not self._followers[key]:
                del self._followers[key]

    def follower_count(self, workspace_id: str, segment_id: str) -> int:
        return self._followers[(workspace_id, segment_id)]

    async def follow(
        self, workspace_id: str, segment_id: str, after: int | None, *, batch_size: int = 500
    ) -> AsyncIterator[dict[str, Any]]:
        """The segment's change records after `after` (from now on if None),
        read from the store and continued as new ones are recorded."""
        cursor = await stable_horizon(self._db) if after is None else after
        # counted once its starting point is fixed: a change recorded after this is followed
        with self.following(workspace_id, segment_id), self.listening() as wake:
            while True:
                wake.clear()
                changes, cursor = await read_segment_changes(self._db, workspace_id, segment_id, cursor, limit=batch_size)
                for change in changes:
                    yield change
                if len(changes) < batch_size:
                    await wake.wait(self.poll_interval)

    async def _watch(self) -> None:
        try:
            async with await self._db[MEMBERSHIP_CHANGES].watch([{"$match": {"operationType": "insert"}}]) as stream:
                async for _ in stream:
                    self.notify()
        except PyMongoError as error:
            # A standalone server has no change streams: polling stays.
            log.info("membership change stream unavailable (%s); polling every %.1f s", error, self.poll_interval)
