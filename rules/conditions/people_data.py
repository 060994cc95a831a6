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

from rules.store.collections import DELIVERIES, DEVICES, EVENTS, MEMBERSHIPS, PEOPLE, BatchLookup, find_by_ids, find_grouped
from rules.conditions.evaluate import PersonData
from rules.store.types import Database


async def load_people_data(
    db: Database, workspace_id: str, person_ids: list[str], *, lookup: BatchLookup
) -> dict[str, PersonData]:
    """The data of each of `person_ids` that exists, by id."""
    profiles = await find_by_ids(db[PEOPLE], workspace_id, person_ids)
    found = [p["_id"] for p in profiles]
    scope = {"ws": workspace_id}
    activity = {
        collection: await find_grouped(db[collection], "personId", found, scope, sort=[("_id", 1)], lookup=lookup)
        for collection in (EVENTS, DEVICES, DELIVERIES, MEMBERSHIPS)
    }
    return {
        profile["_id"]: PersonData(
            profile=profile,
            events=activity[EVENTS][profile["_id"]],
            devices=activity[DEVICES][profile["_id"]],
            deliveries=activity[DELIVERIES][profile["_id"]],
            segment_ids=frozenset(m["segmentId"] for m in activity[MEMBERSHIPS][profile["_id"]]),
        )
        for profile in profiles
    }
