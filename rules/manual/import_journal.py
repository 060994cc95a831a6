"""Large manual changes (CSV imports) finish once they have started.

An import is applied in chunks (one engine call each), so a crash half-way
would leave a REPLACE half done. Before the first chunk is applied, the
whole change is written to `import_journal`: one document per chunk (`seq`,
`direction`, `people`), then a header (`chunks`) that commits it. Each chunk
is deleted once applied, the header last. At start-up the service finishes
every committed import left behind, in order, and drops chunks without a
header (a crash while journaling: nothing had been applied). Applying a
chunk again is harmless: the engine adds only non-members and removes only
members. So an accepted import is all or nothing across crashes: either
none of it is applied (a crash before the header) or all of it is, by the
restart at the latest (docs/manual-segments.md).
"""

from __future__ import annotations

import asyncio
import secrets
from itertools import batched
from typing import Any

from rules.store.collections import IMPORT_JOURNAL
from rules.faults import fault_point
from rules.manual.changes import APPLY_CHUNK, ManualChanges
from rules.membership.engine import MembershipEngine
from rules.store.types import Database

ADD, REMOVE = "add", "remove"


async def apply_import(db: Database, engine: MembershipEngine, workspace_id: str, segment_id: str, changes: ManualChanges) -> None:
    """Journal `changes`, then apply them in chunks, letting other requests run between them."""
    import_id = secrets.token_hex(8)
    chunks = [
        {"_id": f"{import_id}|{seq:06d}", "importId": import_id, "seq": seq, "direction": direction, "people": list(people)}
        for seq, (direction, people) in enumerate(
            (direction, people)
            for direction, everyone in ((ADD, changes.add), (REMOVE, changes.remove))
            for people in batched(everyone, APPLY_CHUNK)
        )
    ]
    if not chunks:
        return
    await db[IMPORT_JOURNAL].insert_many(chunks)
    fault_point("import.before_commit")
    header = {"_id": import_id, "importId": import_id, "ws": workspace_id, "segmentId": segment_id, "chunks": len(chunks)}
    await db[IMPORT_JOURNAL].insert_many([header])
    await _apply_journaled(db, engine, header)


async def _apply_journaled(db: Database, engine: MembershipEngine, header: dict[str, Any]) -> None:
    cursor = db[IMPORT_JOURNAL].find({"importId": header["_id"], "seq": {"$exists": True}}).sort([("seq", 1)])
    for chunk in await cursor.to_list():
        people = {chunk["direction"]: chunk["people"]}
        await engine.apply_manual_changes(header["ws"], header["segmentId"], **people)
        await db[IMPORT_JOURNAL].delete_one({"_id": chunk["_id"]})
        fault_point("import.after_chunk")
        await asyncio.sleep(0)
    await db[IMPORT_JOURNAL].delete_one({"_id": header["_id"]})


async def finish_interrupted_imports(db: Database, engine: MembershipEngine) -> int:
    """At start-up: finish the committed imports a crash interrupted, drop
    the uncommitted ones. Returns how many were finished."""
    headers = await db[IMPORT_JOURNAL].find({"chunks": {"$exists": True}}).to_list()
    for header in headers:
        await _apply_journaled(db, engine, header)
    committed = {h["_id"] for h in headers}
    uncommitted = {doc["importId"] async for doc in db[IMPORT_JOURNAL].find({}, {"importId": 1})} - committed
    for import_id in uncommitted:
        await db[IMPORT_JOURNAL].delete_many({"importId": import_id})
    return len(headers)
