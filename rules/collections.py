"""Collection names and their indexes, applied at start-up.

Document shapes are described in docs/data-model.md. Indexes are
single-field on purpose: the embedded engine uses single-field indexes for
`find` but not compound ones, and unique secondary indexes make its inserts
quadratic, so uniqueness of profile ids and emails lives in the
`identities` collection (keyed by `_id`) instead.
"""

from __future__ import annotations

from typing import Any

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
# when each (segment, person) membership may next change by time alone
SCHEDULES = "schedules"

# collection -> single-field indexes
INDEXES: dict[str, tuple[str, ...]] = {
    WORKSPACES: ("siteId",),
    PEOPLE: ("ws",),
    IDENTITIES: ("personId",),
    EVENTS: ("personId", "ws", "anonymousId"),
    DEVICES: ("personId", "ws"),
    DELIVERIES: ("personId", "ws"),
    SEGMENTS: ("ws",),
    MEMBERSHIPS: ("segmentId", "personId"),
    MEMBERSHIP_CHANGES: ("segmentId", "personId"),
    SCHEDULES: ("at", "segmentId"),
}


async def ensure_indexes(db: Any) -> None:
    """Create the declared indexes; idempotent, cheap on empty collections."""
    for collection, fields in INDEXES.items():
        for field in fields:
            await db[collection].create_index(field, name=f"{field}_1")
