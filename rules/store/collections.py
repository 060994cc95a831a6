"""Collection names and their indexes, applied at start-up.

Document shapes, and which index serves which query, are in
docs/data-model.md. The indexes are those MongoDB wants for the queries:
compound, workspace first where a query is per workspace. Uniqueness of
profile ids and emails lives in the `identities` collection (keyed by
`_id`, docs/decisions.md #3), not in unique secondary indexes, which a
sharded MongoDB can only enforce with the shard key in them.
"""

from __future__ import annotations

from rules.store.types import Database

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

# collection -> indexes, each a list of (field, direction)
INDEXES: dict[str, tuple[tuple[tuple[str, int], ...], ...]] = {
    WORKSPACES: ((("siteId", 1),),),
    PEOPLE: ((("ws", 1), ("_id", 1)),),
    IDENTITIES: ((("ws", 1), ("personId", 1)),),
    EVENTS: (
        (("ws", 1), ("personId", 1), ("name", 1), ("ts", 1)),
        (("ws", 1), ("anonymousId", 1)),
        (("ws", 1), ("type", 1), ("ts", 1)),
    ),
    DEVICES: ((("ws", 1), ("personId", 1), ("lastUsed", -1)),),
    DELIVERIES: ((("ws", 1), ("personId", 1), ("createdAt", -1)),),
    SEGMENTS: ((("ws", 1), ("createdAt", 1)),),
    MEMBERSHIPS: (
        (("ws", 1), ("segmentId", 1), ("personId", 1)),
        (("ws", 1), ("personId", 1), ("enteredAt", 1)),
    ),
    MEMBERSHIP_CHANGES: (
        (("ws", 1), ("seq", 1)),
        (("ws", 1), ("segmentId", 1), ("at", 1)),
        (("ws", 1), ("personId", 1), ("at", 1)),
        (("write", 1),),
    ),
    SCHEDULES: ((("at", 1),), (("ws", 1), ("segmentId", 1)), (("ws", 1), ("personId", 1))),
    WEBHOOK_ENDPOINTS: ((("ws", 1),),),
    WEBHOOK_DELIVERIES: ((("endpointId", 1), ("status", 1)), (("status", 1),)),
    EXPORTS: ((("ws", 1), ("createdAt", 1)),),
}


def index_name(keys: tuple[tuple[str, int], ...]) -> str:
    return "_".join(f"{field}_{direction}" for field, direction in keys)


async def ensure_indexes(db: Database) -> None:
    """Create the declared indexes; idempotent, cheap on empty collections."""
    for collection, indexes in INDEXES.items():
        for keys in indexes:
            await db[collection].create_index(list(keys), name=index_name(keys))
