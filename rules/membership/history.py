"""Membership as of a past moment, and member counts over time, from the
recorded history (`membership_changes`): a person was a member at T when
their last change to the segment at or before T is an ENTERED. Changes at
the same moment are ordered by their sequence number."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rules.membership.changefeed import ChangeKind
from rules.store.collections import MEMBERSHIP_CHANGES
from rules.store.types import Database

MAX_SERIES_POINTS = 1000


class SeriesInvalid(ValueError):
    pass


@dataclass(frozen=True, kw_only=True)
class CountPoint:
    at: float
    count: int


async def members_as_of(db: Database, workspace_id: str, segment_id: str, at: float) -> dict[str, float]:
    """person id -> when they (last) entered, for the members at `at`."""
    pipeline: list[dict[str, Any]] = [
        {"$match": {"ws": workspace_id, "segmentId": segment_id, "at": {"$lte": at, "$type": "number"}}},
        {"$sort": {"at": 1, "seq": 1}},
        {"$group": {"_id": "$personId", "kind": {"$last": "$kind"}, "at": {"$last": "$at"}}},
        {"$match": {"kind": str(ChangeKind.ENTERED)}},
    ]
    return {doc["_id"]: doc["at"] async for doc in await db[MEMBERSHIP_CHANGES].aggregate(pipeline)}


def series_moments(start: float, end: float, step: float) -> list[float]:
    """`start`, `start + step`, ... up to `end`; refused when it would be more than MAX_SERIES_POINTS."""
    if end < start:
        raise SeriesInvalid("to: must not be before from")
    points = int((end - start) // step) + 1
    if points > MAX_SERIES_POINTS:
        raise SeriesInvalid(f"interval: {points} points from `from` to `to`, at most {MAX_SERIES_POINTS}; choose a longer interval")
    return [start + i * step for i in range(points)]


async def count_history(db: Database, workspace_id: str, segment_id: str, moments: list[float]) -> list[CountPoint]:
    """The member count at each of `moments` (ascending), in one pass over the history."""
    if not moments:
        return []
    cursor = db[MEMBERSHIP_CHANGES].find(
        {"ws": workspace_id, "segmentId": segment_id, "at": {"$lte": moments[-1], "$type": "number"}},
        {"personId": 1, "kind": 1, "at": 1},
    )
    members: set[str] = set()
    points: list[CountPoint] = []
    remaining = iter(moments)
    moment = next(remaining)
    async for change in cursor.sort([("at", 1), ("seq", 1)]):
        while change["at"] > moment:
            points.append(CountPoint(at=moment, count=len(members)))
            moment = next(remaining)
        if change["kind"] == ChangeKind.ENTERED:
            members.add(change["personId"])
        else:
            members.discard(change["personId"])
    points.append(CountPoint(at=moment, count=len(members)))
    points += [CountPoint(at=m, count=len(members)) for m in remaining]
    return points
