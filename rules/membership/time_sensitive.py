"""Which people can change membership with time alone, after a build.

Incremental evaluation schedules each evaluated person's next change from
the evaluator's `next_change_at`. A build computes members in bulk, so it
must find the people whose truth can still flip with no new data, and
evaluate those one by one:

- activity counted in a window can leave it (relative windows) or enter it
  (activity dated after now enters any window as time reaches it); so every
  person with activity of the kinds the condition reads, dated after
  `now - longest relative window` (after `now` with absolute windows only);
- a relative timestamp test on a property (`withinLast` on event data, a
  device attribute, a person attribute) can flip for any value, so every
  person with such activity or attribute at all.

People outside that set have nothing in any window that time can move, so
their truth is the same at every later moment (docs/segments.md).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from typing import Any

from rules.store.collections import DELIVERIES, DEVICES, EVENTS, PEOPLE
from rules.conditions.dependencies import Dependencies
from rules.conditions.model import RELATIVE_TIME_OPERATORS, AttributeCondition, Condition, Metric, Predicate, TimeWindow
from rules.store.types import Collection, Database


def _parts(node: object) -> Iterator[object]:
    """Every dataclass inside `node` (itself included), depth first."""
    yield node
    if dataclasses.is_dataclass(node):
        for field in dataclasses.fields(node):
            value = getattr(node, field.name)
            for item in value if isinstance(value, tuple) else (value,):
                if dataclasses.is_dataclass(item):
                    yield from _parts(item)


def earliest_relevant_time(condition: Condition, now: float) -> float:
    """Activity dated after this moment can still move in or out of a window."""
    earliest = now
    for part in _parts(condition):
        if isinstance(part, TimeWindow) and part.within_seconds is not None:
            earliest = min(earliest, now - part.within_seconds)
        elif isinstance(part, Predicate) and not isinstance(part, AttributeCondition):
            if part.op in RELATIVE_TIME_OPERATORS:
                earliest = -math.inf
    return earliest


def relative_attribute_keys(condition: Condition) -> frozenset[str]:
    """Top-level attribute keys tested with withinLast / moreThanAgo."""
    return frozenset(
        part.path.split(".", 1)[0]
        for part in _parts(condition)
        if isinstance(part, AttributeCondition) and part.op in RELATIVE_TIME_OPERATORS
    )


def _after(field: str, moment: float) -> dict[str, Any]:
    if moment == -math.inf:
        return {}
    return {field: {"$gt": moment, "$type": "number"}}


async def _distinct_people(collection: Collection, match: dict[str, Any]) -> set[str]:
    return {person_id for person_id in await collection.distinct("personId", match) if person_id}


async def time_sensitive_people(
    db: Database, condition: Condition, deps: Dependencies, *, workspace_id: str, now: float
) -> set[str]:
    """People whose membership could change with time alone (a superset)."""
    if not deps.time_relative:
        return set()
    earliest = earliest_relevant_time(condition, now)
    people: set[str] = set()
    event_types = (["event"] if deps.any_event or deps.event_names else []) + (["page"] if deps.page else [])
    if event_types:
        match = {"ws": workspace_id, "type": {"$in": event_types}, **_after("ts", earliest)}
        if not deps.any_event and not deps.page:
            match["name"] = {"$in": sorted(deps.event_names)}
        people |= await _distinct_people(db[EVENTS], match)
    if deps.device:
        people |= await _distinct_people(db[DEVICES], {"ws": workspace_id, **_after("lastUsed", earliest)})
    if deps.message:
        metric_matches = [_after(f"metrics.{metric}", earliest) for metric in Metric]
        match = {"ws": workspace_id}
        if all(metric_matches):
            match["$or"] = metric_matches
        people |= await _distinct_people(db[DELIVERIES], match)
    keys = relative_attribute_keys(condition)
    if keys:
        match = {"ws": workspace_id, "$or": [{f"attributes.{key}": {"$exists": True}} for key in sorted(keys)]}
        people |= {doc["_id"] async for doc in db[PEOPLE].find(match, {"_id": 1})}
    return people
