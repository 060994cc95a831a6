"""The evaluator's data of many people at once.

`rules.conditions.evaluate.load_person_data` reads one person with five
queries; a build that schedules thousands of time-sensitive people
(rules/membership/time_sensitive.py) called it per person. Here each
collection is read once per batch of people, with `$in` on their ids.
"""

from __future__ import annotations

from typing import Any

from rules.conditions.evaluate import PersonData
from rules.store.collections import DELIVERIES, DEVICES, EVENTS, MEMBERSHIPS, PEOPLE
from rules.store.types import Database


async def load_people_data(db: Database, workspace_id: str, person_ids: list[str]) -> dict[str, PersonData]:
    """The data of each of `person_ids` that exists, by id."""
    profiles = await db[PEOPLE].find({"ws": workspace_id, "_id": {"$in": person_ids}}).to_list()
    found = [p["_id"] for p in profiles]
    activity: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for collection in (EVENTS, DEVICES, DELIVERIES, MEMBERSHIPS):
        by_person: dict[str, list[dict[str, Any]]] = {person_id: [] for person_id in found}
        cursor = db[collection].find({"ws": workspace_id, "personId": {"$in": found}}).sort([("_id", 1)])
        async for doc in cursor:
            by_person[doc["personId"]].append(doc)
        activity[collection] = by_person
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
