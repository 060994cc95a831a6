"""The evaluator's data of many people at once.

`rules.conditions.evaluate.load_person_data` reads one person with five queries; a
build that schedules thousands of time-sensitive people (rules/membership/time_sensitive.py)
called it per person, and on the embedded sqlite engine each of those
equality queries is a pass over the collection (docs/decisions.md #16), so
the build grew with people x documents: at 10,000 demo people one windowed
build did not finish in 8 minutes (docs/scaling.md). Here each collection is
read once per batch, the way the store answers a batch fastest
(`BatchLookup`: one `$in` on MongoDB).
"""

from __future__ import annotations

from typing import Any

from rules.store.collections import DELIVERIES, DEVICES, EVENTS, MEMBERSHIPS, PEOPLE, BatchLookup, find_by_ids, find_grouped
from rules.conditions.dependencies import Dependencies
from rules.conditions.evaluate import PersonData


def collections_read(reads: Dependencies) -> frozenset[str]:
    """The activity collections a condition with these dependencies reads.

    A windowed build loads its candidates with the condition at hand, and on
    the sqlite engine each collection read is a pass over the workspace's
    documents (docs/scaling.md, the large run): `no purchase in 30 days`
    needs the events only, a quarter of the passes."""
    wanted = {
        EVENTS: bool(reads.event_names) or reads.any_event or reads.page,
        DEVICES: reads.device,
        DELIVERIES: reads.message,
        MEMBERSHIPS: bool(reads.segment_ids),
    }
    return frozenset(collection for collection, needed in wanted.items() if needed)


async def load_people_data(
    db: Any, workspace_id: str, person_ids: list[str], *, lookup: BatchLookup, reads: Dependencies | None = None
) -> dict[str, PersonData]:
    """The data of each of `person_ids` that exists, by id; with `reads`, only
    the activity a condition with those dependencies reads (the rest empty)."""
    profiles = await find_by_ids(db[PEOPLE], workspace_id, person_ids)
    found = [p["_id"] for p in profiles]
    scope = {"ws": workspace_id}
    loaded = collections_read(reads) if reads is not None else frozenset({EVENTS, DEVICES, DELIVERIES, MEMBERSHIPS})
    activity = {
        collection: await find_grouped(db[collection], "personId", found, scope, sort=[("_id", 1)], lookup=lookup)
        if collection in loaded
        else {}
        for collection in (EVENTS, DEVICES, DELIVERIES, MEMBERSHIPS)
    }
    return {
        profile["_id"]: PersonData(
            profile=profile,
            events=activity[EVENTS].get(profile["_id"], []),
            devices=activity[DEVICES].get(profile["_id"], []),
            deliveries=activity[DELIVERIES].get(profile["_id"], []),
            segment_ids=frozenset(m["segmentId"] for m in activity[MEMBERSHIPS].get(profile["_id"], [])),
        )
        for profile in profiles
    }
