"""The evaluator's data of many people at once.

`rules.conditions.evaluate.load_person_data` reads one person with five
queries; a build that schedules thousands of time-sensitive people
(rules/membership/time_sensitive.py) called it per person. Here each
collection is read once per batch of people, with `$in` on their ids.
"""

from __future__ import annotations

from typing import Any

from rules.conditions.dependencies import Dependencies
from rules.conditions.evaluate import PersonData
from rules.store.collections import DELIVERIES, DEVICES, EVENTS, MEMBERSHIPS, PEOPLE
from rules.store.types import Database


def collections_read(reads: Dependencies) -> frozenset[str]:
    """The activity collections a condition with these dependencies reads.

    A windowed build loads its candidates with the condition at hand, and each
    collection read is a query over the batch's people: `no purchase in 30
    days` needs the events only, a quarter of the reads (docs/scaling.md, the
    large run)."""
    wanted = {
        EVENTS: bool(reads.event_names) or reads.any_event or reads.page,
        DEVICES: reads.device,
        DELIVERIES: reads.message,
        MEMBERSHIPS: bool(reads.segment_ids),
    }
    return frozenset(collection for collection, needed in wanted.items() if needed)


def events_filter(reads: Dependencies | None) -> dict[str, Any]:
    """The events a condition with these dependencies reads: page views,
    all events or the named ones (rules/conditions/lowering.py tests `type`
    and `name` the same way); no filter without `reads`."""
    if reads is None:
        return {}
    kinds: list[dict[str, Any]] = []
    if reads.any_event:
        kinds.append({"type": "event"})
    elif reads.event_names:
        kinds.append({"type": "event", "name": {"$in": sorted(reads.event_names)}})
    if reads.page:
        kinds.append({"type": "page"})
    if len(kinds) == 1:
        return kinds[0]
    return {"$or": kinds} if kinds else {}


async def load_people_data(
    db: Database, workspace_id: str, person_ids: list[str], *, reads: Dependencies | None = None
) -> dict[str, PersonData]:
    """The data of each of `person_ids` that exists, by id; with `reads`, only
    the activity a condition with those dependencies reads (the rest empty)."""
    profiles = await db[PEOPLE].find({"ws": workspace_id, "_id": {"$in": person_ids}}).to_list()
    found = [p["_id"] for p in profiles]
    loaded = collections_read(reads) if reads is not None else frozenset({EVENTS, DEVICES, DELIVERIES, MEMBERSHIPS})
    narrowed = {EVENTS: events_filter(reads)}
    activity: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for collection in (EVENTS, DEVICES, DELIVERIES, MEMBERSHIPS):
        by_person: dict[str, list[dict[str, Any]]] = {person_id: [] for person_id in found}
        if collection in loaded:
            query = {"ws": workspace_id, "personId": {"$in": found}, **narrowed.get(collection, {})}
            cursor = db[collection].find(query).sort([("_id", 1)])
            async for doc in cursor:
                by_person[doc["personId"]].append(doc)
        activity[collection] = by_person
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
