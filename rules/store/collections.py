"""Collection names and their indexes, applied at start-up.

Document shapes are described in docs/data-model.md. Indexes are
single-field on purpose: the embedded engine uses single-field indexes for
`find` but not compound ones, and unique secondary indexes make its inserts
quadratic, so uniqueness of profile ids and emails lives in the
`identities` collection (keyed by `_id`) instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from enum import StrEnum
from typing import Any, TypeVar
from rules.store.types import Collection, Database

WORKSPACES = "workspaces"
API_KEYS = "api_keys"
PEOPLE = "people"
IDENTITIES = "identities"
EVENTS = "events"
DEVICES = "devices"
DELIVERIES = "deliveries"
SEGMENTS = "segments"
MEMBERSHIPS = "memberships"
MEMBERSHIP_CHANGES = "membership_changes"
# markers of membership writes under way, for crash recovery (rules/membership/journal.py)
MEMBERSHIP_WRITES = "membership_writes"
# when each (segment, person) membership may next change by time alone
SCHEDULES = "schedules"
# sequence counters (the membership change sequence, rules/membership/change_log.py)
COUNTERS = "counters"
# webhooks (rules/webhooks/)
WEBHOOK_ENDPOINTS = "webhook_endpoints"
WEBHOOK_DELIVERIES = "webhook_deliveries"
# who runs webhook deliveries now, among the service processes
LEASES = "leases"
# App API people exports (api/app_api.py)
EXPORTS = "exports"
# imports under way, finished at start-up after a crash (rules/manual/import_journal.py)
IMPORT_JOURNAL = "import_journal"

# Collections whose documents belong to one workspace through their `ws` field
# (all but `workspaces` and `api_keys`): what deleting a workspace deletes.
WORKSPACE_DATA: tuple[str, ...] = (
    PEOPLE,
    IDENTITIES,
    EVENTS,
    DEVICES,
    DELIVERIES,
    SEGMENTS,
    MEMBERSHIPS,
    MEMBERSHIP_CHANGES,
    MEMBERSHIP_WRITES,
    SCHEDULES,
)

# collection -> single-field indexes
INDEXES: dict[str, tuple[str, ...]] = {
    WORKSPACES: ("siteId",),
    PEOPLE: ("ws",),
    IDENTITIES: ("personId", "key"),
    EVENTS: ("personId", "ws", "anonymousId"),
    DEVICES: ("personId", "ws", "token"),
    DELIVERIES: ("personId", "ws", "deliveryId"),
    SEGMENTS: ("ws",),
    MEMBERSHIPS: ("segmentId", "personId"),
    MEMBERSHIP_CHANGES: ("segmentId", "personId", "write", "seq"),
    SCHEDULES: ("at", "segmentId"),
    WEBHOOK_ENDPOINTS: ("ws",),
    WEBHOOK_DELIVERIES: ("endpointId", "status"),
    EXPORTS: ("ws",),
}


async def ensure_indexes(db: Database) -> None:
    """Create the declared indexes; idempotent, cheap on empty collections."""
    for collection, fields in INDEXES.items():
        for field in fields:
            await db[collection].create_index(field, name=f"{field}_1")


KeyT = TypeVar("KeyT")
ResultT = TypeVar("ResultT")

# Concurrent `_id` lookups in flight at once (a connection pool's worth on MongoDB).
LOOKUP_CONCURRENCY = 500


# Collections whose `_id` is "{ws}|{rest}" with `rest` also stored in an
# indexed field: lookups of such ids go through that field (see find_by_ids).
KEY_FIELDS: dict[str, str] = {IDENTITIES: "key", DEVICES: "token", DELIVERIES: "deliveryId"}


async def find_by_ids(collection: Collection, workspace_id: str, ids: list[str], projection: dict | None = None) -> list[dict[str, Any]]:
    """Documents of the workspace with these `_id`s, one lookup per id.

    Not `{"_id": {"$in": ids}}`: the embedded engine answers `$in` (on `_id`
    or on an indexed field) by scanning the collection again for every match
    (500 ids among 20,000 documents: 14 s, against 0.16 ms per `_id` lookup).
    The workspace is checked on each document found rather than in the
    filter, with the same result: given `{"_id", "ws"}` the embedded engine
    goes through the `ws` index (0.64 ms a lookup at 20,000 people).
    For the collections of KEY_FIELDS the lookup goes through their key
    field instead of `_id`: the embedded engine answers an `_id` lookup that
    finds nothing (a new person's identity, a new delivery) by scanning the
    whole collection (29 ms at 20,000), a miss on a secondary index costs
    0.2 ms. On MongoDB the lookups are index lookups either way and run
    concurrently on the connection pool.
    """
    if projection is not None:
        projection = {**projection, "ws": 1}
    key_field = KEY_FIELDS.get(collection.name)
    prefix = f"{workspace_id}|"

    async def lookup(doc_id: str) -> list[dict[str, Any]]:
        if key_field is None or not doc_id.startswith(prefix):
            doc = await collection.find_one({"_id": doc_id}, projection)
            return [doc] if doc is not None else []
        # The key field is unique only within a workspace: keep the one whose `_id` matches.
        candidates = await collection.find({key_field: doc_id[len(prefix) :]}, projection).to_list()
        return [doc for doc in candidates if doc["_id"] == doc_id]

    return [doc for docs in await gather_in_chunks(ids, lookup) for doc in docs if doc.get("ws") == workspace_id]


async def gather_in_chunks(keys: Sequence[KeyT], lookup: Callable[[KeyT], Awaitable[ResultT]]) -> list[ResultT]:
    """`lookup` of every key, in order, at most LOOKUP_CONCURRENCY in flight."""
    results: list[ResultT] = []
    for start in range(0, len(keys), LOOKUP_CONCURRENCY):
        results.extend(await asyncio.gather(*(lookup(key) for key in keys[start : start + LOOKUP_CONCURRENCY])))
    return results


class BatchLookup(StrEnum):
    """How `find_grouped` reads the documents of many keys; the store says which (api/store.py).

    Measured for 200 people's events among 17,000 (demo data, 2 busy cores):
    - IN_QUERY, MongoDB: one `{field: {"$in": keys}}` query through the index.
    - PER_KEY, mongoeco's memory engine: one equality query per key through
      the index (1.8 s for 200); it answers `$in` by scanning the collection
      again for every match (22 s).
    - SCAN, mongoeco's sqlite engine: its equality query on an indexed field
      is a pass over the whole collection (`json_extract` on every row, the
      index serves only the collection prefix), and `$in` is one such pass
      per key (200 keys: 126 s). One pass over the workspace's documents,
      kept when their key is wanted, costs about what one equality query
      does (1.5 s, against 97 s for the 200 equality queries).
    """

    IN_QUERY = "in-query"
    PER_KEY = "per-key"
    SCAN = "scan"


def _sort_key(order: Sequence[tuple[str, int]]):
    def key(document: dict[str, Any]) -> tuple:
        # Missing values first, as MongoDB sorts null before numbers and strings.
        return tuple(
            (value is not None, value if direction == 1 else _Descending(value))
            for name, direction in order
            for value in (document.get(name),)
        )

    return key


class _Descending:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Descending) -> bool:
        return other.value < self.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and other.value == self.value


async def find_grouped(
    collection: Collection,
    field: str,
    keys: Sequence[str],
    match: dict[str, Any],
    *,
    sort: Sequence[tuple[str, int]],
    lookup: BatchLookup,
    projection: dict[str, Any] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Documents matching `match` (which filters on `ws`) whose `field` is one
    of `keys`, grouped by that key, each group in `sort` order: a DataLoader's
    batch, read the way `lookup` says is cheapest on this store."""
    grouped: dict[str, list[dict[str, Any]]] = {key: [] for key in keys}
    if not keys:
        return grouped
    if lookup is BatchLookup.PER_KEY:

        async def one(key: str) -> list[dict[str, Any]]:
            # The selective field comes first (decisions.md #4).
            return await collection.find({field: key, **match}, projection).sort(list(sort)).to_list()

        for key, docs in zip(grouped, await gather_in_chunks(list(grouped), one)):
            grouped[key] = docs
        return grouped
    if lookup is BatchLookup.IN_QUERY:
        query = collection.find({field: {"$in": list(grouped)}, **match}, projection)
    else:
        query = collection.find(match, None if projection is None else {**projection, **dict.fromkeys(dict(sort), 1)})
    for doc in await query.to_list():
        if doc.get(field) in grouped:
            grouped[doc[field]].append(doc)
    order = _sort_key(sort)
    return {key: sorted(docs, key=order) for key, docs in grouped.items()}
