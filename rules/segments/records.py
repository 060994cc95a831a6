"""Segment records: the `Segment` type, its states, the repository over the
`segments` collection and the walks of the graph of segments referring to
segments. Creating, changing and deleting is rules/segments/service.py;
the membership engine depends on this module only.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Any

from rules.conditions.dependencies import dependencies
from rules.conditions.model import Condition
from rules.conditions.parse import ConditionInvalid, parse_condition
from rules.store.collections import SEGMENTS, WORKSPACES
from rules.store.types import Database


class SegmentType(StrEnum):
    DATA_DRIVEN = "DATA_DRIVEN"
    MANUAL = "MANUAL"


class SegmentState(StrEnum):
    BUILDING = "BUILDING"
    READY = "READY"
    FAILED = "FAILED"


@dataclass(frozen=True, kw_only=True)
class BuildProgress:
    done: int
    total: int


@dataclass(frozen=True, kw_only=True)
class Segment:
    id: str
    workspace_id: str
    name: str
    description: str | None
    type: SegmentType
    condition: dict[str, Any] | None  # canonical JSON; None for manual segments
    state: SegmentState
    progress: BuildProgress
    member_count: int
    # Moves when a build starts and when the segment must be built again (its
    # condition, or one it refers to, changed): a build whose generation moved
    # is superseded. Part of the ids of a build's changes.
    generation: int
    failure: str | None
    created_at: float
    updated_at: float

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Segment:
        progress = doc.get("progress") or {}
        return cls(
            id=doc["_id"],
            workspace_id=doc["ws"],
            name=doc["name"],
            description=doc.get("description"),
            type=SegmentType(doc["type"]),
            condition=doc.get("condition"),
            state=SegmentState(doc["state"]),
            progress=BuildProgress(done=progress.get("done", 0), total=progress.get("total", 0)),
            member_count=doc.get("memberCount", 0),
            generation=doc.get("generation", 0),
            failure=doc.get("failure"),
            created_at=doc["createdAt"],
            updated_at=doc["updatedAt"],
        )

    @classmethod
    def saved(cls, doc: dict[str, Any], condition: Condition | None) -> Segment:
        """The record of a document just written from `condition`, already
        parsed at the input: the stored form is not parsed again."""
        segment = cls.from_document(doc)
        segment.__dict__["_parsed"] = condition  # what the cached_property below would compute
        return segment

    @property
    def is_data_driven(self) -> bool:
        return self.type is SegmentType.DATA_DRIVEN

    @cached_property
    def _parsed(self) -> Condition | ConditionInvalid | None:
        """The stored condition parsed once per record, however many readers
        (validation, graph walks, builds) ask; read through parsed_condition."""
        if self.condition is None:
            return None
        try:
            return parse_condition(self.condition)
        except ConditionInvalid as invalid:
            return invalid


@dataclass(frozen=True, kw_only=True)
class InputProblem:
    code: str
    path: str  # JSON pointer into the input, e.g. "/condition/all/0/attribute/op"
    message: str


class SegmentInvalid(Exception):
    def __init__(self, problems: list[InputProblem]) -> None:
        super().__init__("; ".join(f"{p.path}: {p.message}" for p in problems))
        self.problems = problems


class SegmentNotFound(Exception):
    def __init__(self, segment_id: str) -> None:
        super().__init__(f"segment {segment_id!r} does not exist in this workspace")
        self.segment_id = segment_id


class SegmentInUse(Exception):
    """The segment is referenced by other segments' conditions."""

    def __init__(self, segment_id: str, referrers: list[Segment], action: str) -> None:
        names = ", ".join(f"{s.name!r} ({s.id})" for s in referrers)
        super().__init__(f"cannot {action} segment {segment_id!r}: it is referenced by {names}")
        self.segment_id = segment_id
        self.referrers = referrers


# -- repository ----------------------------------------------------------------


async def find_segment(db: Database, workspace_id: str, segment_id: str) -> Segment | None:
    doc = await db[SEGMENTS].find_one({"_id": segment_id, "ws": workspace_id})
    return Segment.from_document(doc) if doc else None


async def get_segment(db: Database, workspace_id: str, segment_id: str) -> Segment:
    segment = await find_segment(db, workspace_id, segment_id)
    if segment is None:
        raise SegmentNotFound(segment_id)
    return segment


async def list_segments(db: Database, workspace_id: str) -> list[Segment]:
    cursor = db[SEGMENTS].find({"ws": workspace_id}).sort([("createdAt", 1), ("_id", 1)])
    return [Segment.from_document(doc) async for doc in cursor]


async def rules_version(db: Database, workspace_id: str) -> int:
    """The version of the workspace's segment rules: it moves whenever a
    data-driven segment is created, its condition changes, or it is deleted,
    so each service process knows when its cached rules are out of date
    (one read by `_id`; 0 for a workspace without a document)."""
    doc = await db[WORKSPACES].find_one({"_id": workspace_id}, {"rulesVersion": 1})
    return int(doc.get("rulesVersion", 0)) if doc else 0


async def rules_changed(db: Database, workspace_id: str) -> None:
    """Move the rules version; called after the segment write it announces,
    so a process that sees the new version reads the new rules."""
    await db[WORKSPACES].update_one({"_id": workspace_id}, {"$inc": {"rulesVersion": 1}})


class StoredConditionRefused(Exception):
    """A stored condition that today's validation refuses (the rules tightened
    after it was saved, e.g. for regular expressions): it is never evaluated."""

    def __init__(self, segment_id: str, invalid: ConditionInvalid) -> None:
        super().__init__(f"the condition of segment {segment_id!r} is no longer accepted; edit it: {invalid}")
        self.segment_id = segment_id


def parsed_condition(segment: Segment) -> Condition | None:
    """The stored condition as a tree, validated again as it is loaded."""
    parsed = segment._parsed
    if isinstance(parsed, ConditionInvalid):
        raise StoredConditionRefused(segment.id, parsed)
    return parsed


def evaluable_condition(segment: Segment) -> Condition | None:
    """The stored condition, or None for a manual segment and for a refused condition (not evaluated)."""
    try:
        return parsed_condition(segment)
    except StoredConditionRefused:
        return None


def referrers_of(segment_id: str, segments: list[Segment]) -> list[Segment]:
    return [
        s
        for s in segments
        if (condition := evaluable_condition(s)) is not None and segment_id in dependencies(condition).segment_ids
    ]


def dependents_of(segment_id: str, segments: list[Segment]) -> list[Segment]:
    """Every segment whose condition refers to this one, directly or through
    others, each after the dependents it refers to (cycles are refused on save)."""
    found: list[Segment] = []
    frontier = [segment_id]
    while frontier:
        for referrer in referrers_of(frontier.pop(0), segments):
            if referrer in found:
                found.remove(referrer)  # it also refers to a later one: it comes after that
            found.append(referrer)
            frontier.append(referrer.id)
    return found
