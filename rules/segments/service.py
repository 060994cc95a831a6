"""Creating, changing and deleting segments.

A data-driven segment's condition is validated with `rules.conditions.parse`
against the workspace's other segments (missing references and cycles are
refused) and stored in its canonical JSON form. It is parsed once, here at
the input; the other segments' stored conditions are parsed only where the
reference checks lead, each once (the records keep their tree). Saving hands the segment to
the membership engine, which builds its membership in the background; see
docs/segments.md for the lifecycle. The service reaches the engine through
`MembershipHooks`, so the engine (which reads segment records) and this
module do not import each other.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from rules.clock import Clock
from rules.conditions.model import Condition
from rules.conditions.json_form import condition_to_json
from rules.conditions.parse import ConditionInvalid, parse_condition
from rules.json_values import same_value
from rules.segments.records import (
    InputProblem,
    Segment,
    SegmentInUse,
    SegmentInvalid,
    SegmentNotFound,
    SegmentState,
    SegmentType,
    dependents_of,
    evaluable_condition,
    get_segment,
    list_segments,
    referrers_of,
    rules_changed,
)
from rules.store.collections import MEMBERSHIP_CHANGES, MEMBERSHIPS, SCHEDULES, SEGMENTS
from rules.store.types import Database

MAX_NAME_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 2000


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


class _ConditionsById(Mapping[str, Condition | None]):
    """The segments' conditions by id for the reference checks, each taken
    from its record only when a check looks at it (a new segment's check
    looks at none: nothing can refer back to it yet)."""

    def __init__(self, segments: list[Segment]) -> None:
        self._segments = {s.id: s for s in segments}

    def __getitem__(self, segment_id: str) -> Condition | None:
        return evaluable_condition(self._segments[segment_id])

    def __contains__(self, segment_id: object) -> bool:
        return segment_id in self._segments

    def __iter__(self) -> Iterator[str]:
        return iter(self._segments)

    def __len__(self) -> int:
        return len(self._segments)


def validate_condition(raw: object, *, others: list[Segment], self_id: str | None = None) -> Condition:
    """Parse `raw` against the workspace's segments; SegmentInvalid lists every error."""
    known = _ConditionsById([s for s in others if s.id != self_id])
    try:
        return parse_condition(raw, segments=known, self_id=self_id)
    except ConditionInvalid as invalid:
        raise SegmentInvalid(
            [InputProblem(code=str(e.code), path=f"/condition{e.path}", message=e.message) for e in invalid.errors]
        ) from None


def _validated_condition(
    raw: object, *, others: list[Segment], self_id: str | None, problems: list[InputProblem]
) -> Condition | None:
    """`raw` parsed, or None with its errors added to `problems`."""
    try:
        return validate_condition(raw, others=others, self_id=self_id)
    except SegmentInvalid as invalid:
        problems.extend(invalid.problems)
        return None


def _one_of(segments: list[Segment], segment_id: str) -> Segment:
    """The segment among the workspace's, read once for the checks that need them all."""
    segment = next((s for s in segments if s.id == segment_id), None)
    if segment is None:
        raise SegmentNotFound(segment_id)
    return segment


# -- service -------------------------------------------------------------------


class MembershipHooks(Protocol):
    """What the service tells the membership engine (MembershipEngine satisfies it)."""

    def segment_saved(self, segment: Segment) -> None: ...

    async def segment_deleted(self, segment: Segment) -> None: ...


class SegmentService:
    """Create, change and delete segments; the engine keeps their membership."""

    def __init__(self, db: Database, clock: Clock, engine: MembershipHooks) -> None:
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
        stored = None if condition is None else condition_to_json(condition)
        doc = {
            "_id": f"seg_{secrets.token_hex(8)}",
            "ws": workspace_id,
            "name": draft.name.strip(),
            "description": draft.description,
            "type": str(draft.type),
            "condition": stored,
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
        if condition is not None:
            await rules_changed(self._db, workspace_id)
        segment = Segment.saved(doc, condition)
        self._engine.segment_saved(segment)
        return segment

    async def update(self, workspace_id: str, segment_id: str, patch: SegmentPatch) -> Segment:
        segments = await list_segments(self._db, workspace_id)
        segment = _one_of(segments, segment_id)
        problems = _text_problems(patch.name, patch.description)
        changes: dict[str, Any] = {}
        if patch.condition is not None:
            if not segment.is_data_driven:
                problems.append(
                    InputProblem(code="NOT_ALLOWED", path="/condition", message="a MANUAL segment has no condition")
                )
            else:
                condition = _validated_condition(patch.condition, others=segments, self_id=segment_id, problems=problems)
                stored = None if condition is None else condition_to_json(condition)
                if stored is not None and not same_value(stored, segment.condition):
                    changes.update(condition=stored, state=str(SegmentState.BUILDING), failure=None)
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
        # Moving `generation` supersedes a build under way in another process
        # (it started from the old condition or the old members of the one
        # it refers to): its end does not mark the segment READY, it builds again.
        rebuild = {"$inc": {"generation": 1}} if "condition" in changes else {}
        dependents = dependents_of(segment_id, segments) if "condition" in changes else []
        for dependent in dependents:
            await self._db[SEGMENTS].update_one(
                {"_id": dependent.id, "ws": workspace_id},
                {"$set": {"state": str(SegmentState.BUILDING), "failure": None}, **rebuild},
            )
        await self._db[SEGMENTS].update_one({"_id": segment_id, "ws": workspace_id}, {"$set": changes, **rebuild})
        updated = await get_segment(self._db, workspace_id, segment_id)
        if "condition" in changes:
            await rules_changed(self._db, workspace_id)
            self._engine.segment_saved(updated)
            for dependent in dependents:
                self._engine.segment_saved(await get_segment(self._db, workspace_id, dependent.id))
        return updated

    async def delete(self, workspace_id: str, segment_id: str) -> Segment:
        """Deletes the segment with its memberships, schedules and history."""
        segments = await list_segments(self._db, workspace_id)
        segment = _one_of(segments, segment_id)
        referrers = referrers_of(segment_id, segments)
        if referrers:
            raise SegmentInUse(segment_id, referrers, "delete")
        # The segment document goes first: from then on nothing evaluates it,
        # and a crash leaves only unreachable rows behind, never a half segment.
        await self._db[SEGMENTS].delete_many({"_id": segment_id, "ws": workspace_id})
        if segment.is_data_driven:
            await rules_changed(self._db, workspace_id)
        await self._engine.segment_deleted(segment)
        for collection in (MEMBERSHIPS, SCHEDULES, MEMBERSHIP_CHANGES):
            await self._db[collection].delete_many({"segmentId": segment_id, "ws": workspace_id})
        return segment
