"""Segments: the repository over the `segments` collection and the service
that creates, changes and deletes them.

A data-driven segment's condition is validated with `rules.conditions.parse` against
the workspace's other segments (missing references and cycles are refused)
and stored in its canonical JSON form. Saving hands the segment to the
membership engine, which builds its membership in the background; see
docs/segments.md for the lifecycle.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from rules.store.collections import MEMBERSHIP_CHANGES, MEMBERSHIPS, SCHEDULES, SEGMENTS
from rules.conditions.dependencies import dependencies
from rules.json_values import same_value
from rules.conditions.model import Condition
from rules.conditions.parse import ConditionInvalid, condition_to_json, parse_condition

if TYPE_CHECKING:
    from rules.clock import Clock
    from rules.membership.engine import MembershipEngine

MAX_NAME_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 2000


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
    generation: int  # builds started; part of the ids of a build's changes
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

    @property
    def is_data_driven(self) -> bool:
        return self.type is SegmentType.DATA_DRIVEN


@dataclass(frozen=True, kw_only=True)
class SegmentDraft:
    """What creating a segment takes. `condition` is the JSON form, unvalidated."""

    name: str
    description: str | None = None
    type: SegmentType = SegmentType.DATA_DRIVEN
    condition: object | None = None


@dataclass(frozen=True, kw_only=True)
class SegmentPatch:
    """What updating a segment takes; None leaves a field as it is."""

    name: str | None = None
    description: str | None = None
    condition: object | None = None


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


async def find_segment(db: Any, workspace_id: str, segment_id: str) -> Segment | None:
    doc = await db[SEGMENTS].find_one({"_id": segment_id, "ws": workspace_id})
    return Segment.from_document(doc) if doc else None


async def get_segment(db: Any, workspace_id: str, segment_id: str) -> Segment:
    segment = await find_segment(db, workspace_id, segment_id)
    if segment is None:
        raise SegmentNotFound(segment_id)
    return segment


async def list_segments(db: Any, workspace_id: str) -> list[Segment]:
    cursor = db[SEGMENTS].find({"ws": workspace_id}).sort([("createdAt", 1), ("_id", 1)])
    return [Segment.from_document(doc) async for doc in cursor]


class StoredConditionRefused(Exception):
    """A stored condition that today's validation refuses (the rules tightened
    after it was saved, e.g. for regular expressions): it is never evaluated."""

    def __init__(self, segment_id: str, invalid: ConditionInvalid) -> None:
        super().__init__(f"the condition of segment {segment_id!r} is no longer accepted; edit it: {invalid}")
        self.segment_id = segment_id


def parsed_condition(segment: Segment) -> Condition | None:
    """The stored condition as a tree, validated again as it is loaded."""
    if segment.condition is None:
        return None
    try:
        return parse_condition(segment.condition)
    except ConditionInvalid as invalid:
        raise StoredConditionRefused(segment.id, invalid) from None


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


# -- validation ----------------------------------------------------------------


def _text_problems(name: object, description: object) -> list[InputProblem]:
    problems = []
    if name is not None and (not isinstance(name, str) or not name.strip()):
        problems.append(InputProblem(code="INVALID_VALUE", path="/name", message="name must not be empty"))
    elif isinstance(name, str) and len(name) > MAX_NAME_LENGTH:
        problems.append(
            InputProblem(code="INVALID_VALUE", path="/name", message=f"name must be at most {MAX_NAME_LENGTH} characters")
        )
    if isinstance(description, str) and len(description) > MAX_DESCRIPTION_LENGTH:
        problems.append(
            InputProblem(
                code="INVALID_VALUE",
                path="/description",
                message=f"description must be at most {MAX_DESCRIPTION_LENGTH} characters",
            )
        )
    return problems


def validate_condition(raw: object, *, others: list[Segment], self_id: str | None = None) -> Condition:
    """Parse `raw` against the workspace's segments; SegmentInvalid lists every error."""
    known = {s.id: evaluable_condition(s) for s in others if s.id != self_id}
    try:
        return parse_condition(raw, segments=known, self_id=self_id)
    except ConditionInvalid as invalid:
        raise SegmentInvalid(
            [InputProblem(code=str(e.code), path=f"/condition{e.path}", message=e.message) for e in invalid.errors]
        ) from None


def _validated_condition(
    raw: object, *, others: list[Segment], self_id: str | None, problems: list[InputProblem]
) -> dict[str, Any] | None:
    """The canonical JSON of `raw`, or None with its errors added to `problems`."""
    try:
        return condition_to_json(validate_condition(raw, others=others, self_id=self_id))
    except SegmentInvalid as invalid:
        problems.extend(invalid.problems)
        return None


# -- service -------------------------------------------------------------------


class SegmentService:
    """Create, change and delete segments; the engine keeps their membership."""

    def __init__(self, db: Any, clock: Clock, engine: MembershipEngine) -> None:
        self._db = db
        self._clock = clock
        self._engine = engine

    async def create(self, workspace_id: str, draft: SegmentDraft) -> Segment:
        problems = _text_problems(draft.name, draft.description)
        condition = None
        if draft.type is SegmentType.MANUAL and draft.condition is not None:
            problems.append(
                InputProblem(code="NOT_ALLOWED", path="/condition", message="a MANUAL segment has no condition")
            )
        elif draft.type is SegmentType.DATA_DRIVEN:
            if draft.condition is None:
                problems.append(
                    InputProblem(code="MISSING_KEY", path="/condition", message="a DATA_DRIVEN segment needs a condition")
                )
            else:
                others = await list_segments(self._db, workspace_id)
                condition = _validated_condition(draft.condition, others=others, self_id=None, problems=problems)
        if problems:
            raise SegmentInvalid(problems)
        now = self._clock.now()
        doc = {
            "_id": f"seg_{secrets.token_hex(8)}",
            "ws": workspace_id,
            "name": draft.name.strip(),
            "description": draft.description,
            "type": str(draft.type),
            "condition": condition,
            # Manual segments have nothing to build.
            "state": str(SegmentState.BUILDING if condition is not None else SegmentState.READY),
            "progress": {"done": 0, "total": 0},
            "memberCount": 0,
            "generation": 0,
            "failure": None,
            "createdAt": now,
            "updatedAt": now,
        }
        await self._db[SEGMENTS].insert_many([doc])
        segment = Segment.from_document(doc)
        self._engine.segment_saved(segment)
        return segment

    async def update(self, workspace_id: str, segment_id: str, patch: SegmentPatch) -> Segment:
        segments = await list_segments(self._db, workspace_id)
        segment = next((s for s in segments if s.id == segment_id), None)
        if segment is None:
            raise SegmentNotFound(segment_id)
        problems = _text_problems(patch.name, patch.description)
        changes: dict[str, Any] = {}
        if patch.condition is not None:
            if not segment.is_data_driven:
                problems.append(
                    InputProblem(code="NOT_ALLOWED", path="/condition", message="a MANUAL segment has no condition")
                )
            else:
                condition = _validated_condition(patch.condition, others=segments, self_id=segment_id, problems=problems)
                if condition is not None and not same_value(condition, segment.condition):
                    changes.update(condition=condition, state=str(SegmentState.BUILDING), failure=None)
        if problems:
            raise SegmentInvalid(problems)
        if patch.name is not None:
            changes["name"] = patch.name.strip()
        if patch.description is not None:
            changes["description"] = patch.description
        if not changes:
            return segment
        changes["updatedAt"] = self._clock.now()
        # Segments referring to this one are rebuilt after it, each diffed
        # against its stored members, so their history records who moved.
        # They are marked first: a crash before the condition is saved only
        # rebuilds them unchanged, and start-up resumes segments left BUILDING.
        dependents = dependents_of(segment_id, segments) if "condition" in changes else []
        for dependent in dependents:
            await self._db[SEGMENTS].update_one(
                {"_id": dependent.id, "ws": workspace_id}, {"$set": {"state": str(SegmentState.BUILDING), "failure": None}}
            )
        await self._db[SEGMENTS].update_one({"_id": segment_id, "ws": workspace_id}, {"$set": changes})
        updated = await get_segment(self._db, workspace_id, segment_id)
        if "condition" in changes:
            self._engine.segment_saved(updated)
            for dependent in dependents:
                self._engine.segment_saved(await get_segment(self._db, workspace_id, dependent.id))
        return updated

    async def delete(self, workspace_id: str, segment_id: str) -> Segment:
        """Deletes the segment with its memberships, schedules and history."""
        segments = await list_segments(self._db, workspace_id)
        segment = next((s for s in segments if s.id == segment_id), None)
        if segment is None:
            raise SegmentNotFound(segment_id)
        referrers = referrers_of(segment_id, segments)
        if referrers:
            raise SegmentInUse(segment_id, referrers, "delete")
        # The segment document goes first: from then on nothing evaluates it,
        # and a crash leaves only unreachable rows behind, never a half segment.
        await self._db[SEGMENTS].delete_many({"_id": segment_id, "ws": workspace_id})
        await self._engine.segment_deleted(segment)
        for collection in (MEMBERSHIPS, SCHEDULES, MEMBERSHIP_CHANGES):
            await self._db[collection].delete_many({"segmentId": segment_id, "ws": workspace_id})
        return segment
