"""Writing a plan's changes to the store (see rules/ingest/apply.py for the order and why)."""

from __future__ import annotations

from typing import Any

from pymongo import DeleteOne, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

from rules.store.collections import EVENTS, IDENTITIES
from rules.ingest.working_set import Journal, Table
from rules.json_values import same_value
from rules.store.types import Collection, Database

DUPLICATE_KEY = 11000
_MISSING = object()


class IdentityTaken(Exception):
    """Another writer claimed a profile id, email or anonymous id between our read and our write."""


async def write_changes(db: Database, workspace_id: str, tables: tuple[Table, ...], journal: Journal) -> None:
    """Write what a plan changed, in the order rules/ingest/apply.py explains."""
    changes = {table.collection: table.changes() for table in tables}
    await _claim_identities(db[IDENTITIES], changes[IDENTITIES][0])
    for table in tables:
        inserts, updates, _ = changes[table.collection]
        if table.collection != IDENTITIES:
            if inserts:
                await db[table.collection].insert_many(inserts)
        await _update(db[table.collection], workspace_id, updates)
    await _insert_events(db[EVENTS], journal.events)
    for op in journal.set_operations:
        if op.update is None:
            await db[op.collection].delete_many(op.filter)
        else:
            await db[op.collection].update_many(op.filter, op.update)
    for collection, (_, _, deletes) in changes.items():
        if deletes:
            await db[collection].bulk_write([DeleteOne({"_id": key, "ws": workspace_id}) for key in deletes])

async def _claim_identities(identities: Any, inserts: list[dict[str, Any]]) -> None:
    """Insert new identities first: a duplicate `_id` means someone else claimed one meanwhile."""
    try:
        if inserts:
            await identities.insert_many(inserts)
    except (DuplicateKeyError, BulkWriteError) as error:
        # Undo our own claims (only those still pointing at our people), then plan again.
        await identities.bulk_write(
            [DeleteOne({"_id": doc["_id"], "personId": doc["personId"]}) for doc in inserts], ordered=False
        )
        raise IdentityTaken() from error

async def _insert_events(events: Any, docs: list[dict[str, Any]]) -> None:
    try:
        if docs:
            await events.insert_many(docs, ordered=False)
    except BulkWriteError as error:
        # The same client event id sent concurrently elsewhere: it is stored once, as wanted.
        if any(e.get("code") != DUPLICATE_KEY for e in error.details.get("writeErrors", [])):
            raise

async def _update(collection: Collection, workspace_id: str, updates: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    # A document whose fields only moved (an attribute removed and sent again
    # in one group) differs by same_value but needs no write: update_of is empty.
    requests = [
        UpdateOne({"_id": final["_id"], "ws": workspace_id}, update)
        for original, final in updates
        if (update := update_of(original, final))
    ]
    if requests:
        await collection.bulk_write(requests, ordered=True)


def update_of(original: dict[str, Any], final: dict[str, Any]) -> dict[str, Any]:
    """`$set`/`$unset` turning `original` into `final`; object fields (attributes, metrics) key by key."""
    set_fields: dict[str, Any] = {}
    unset_fields: dict[str, str] = {}
    for key in original.keys() | final.keys():
        before, after = original.get(key, _MISSING), final.get(key, _MISSING)
        if same_value(before, after):
            continue
        if isinstance(before, dict) and isinstance(after, dict):
            for sub in before.keys() | after.keys():
                if sub not in after:
                    unset_fields[f"{key}.{sub}"] = ""
                elif not same_value(before.get(sub, _MISSING), after[sub]):
                    set_fields[f"{key}.{sub}"] = after[sub]
        elif after is _MISSING:
            unset_fields[key] = ""
        else:
            set_fields[key] = after
    update: dict[str, Any] = {}
    if set_fields:
        update["$set"] = set_fields
    if unset_fields:
        update["$unset"] = unset_fields
    return update
