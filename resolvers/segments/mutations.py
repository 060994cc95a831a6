"""`createSegment`, `updateSegment`, `deleteSegment`: results are unions,
errors are data (resolvers/errors.py)."""

from __future__ import annotations

import strawberry

from resolvers.context import Info
from resolvers.errors import NotFoundError
from resolvers.scalars import JSON
from resolvers.segments.conditions import ConditionInput, condition_input_to_json
from resolvers.segments.types import (
    ConflictError,
    DeletedSegment,
    DeleteSegmentResult,
    Segment,
    SegmentResult,
    SegmentType,
    membership_engine,
    validation_error,
)
from rules.segments.records import InputProblem, SegmentInUse, SegmentInvalid, SegmentNotFound
from rules.segments.service import SegmentDraft, SegmentPatch, SegmentService
from rules.segments.records import SegmentType as SegmentTypeValue


CONDITION_JSON = (
    "The condition in its JSON form, as Segment.condition returns it (camelCase operators), instead of `condition`: "
    "a saved condition round-trips unchanged."
)


@strawberry.input
class CreateSegmentInput:
    name: str
    description: str | None = None
    type: SegmentType = SegmentTypeValue.DATA_DRIVEN
    condition: ConditionInput | None = strawberry.field(default=None, description="Required for DATA_DRIVEN (or conditionJson), absent for MANUAL.")
    condition_json: JSON | None = strawberry.field(default=None, description=CONDITION_JSON)


@strawberry.input(description="Fields to change; absent fields stay as they are.")
class UpdateSegmentInput:
    name: str | None = None
    description: str | None = None
    condition: ConditionInput | None = strawberry.field(
        default=None, description="A new condition rebuilds the segment, then the segments referring to it."
    )
    condition_json: JSON | None = strawberry.field(default=None, description=CONDITION_JSON)


def _service(info: Info) -> SegmentService:
    return SegmentService(info.context.db, info.context.services.clock, membership_engine(info))


def _conflict(error: SegmentInUse) -> ConflictError:
    return ConflictError(message=str(error), segment_ids=[strawberry.ID(s.id) for s in error.referrers])


def _condition_json(input: CreateSegmentInput | UpdateSegmentInput) -> object | None:
    """The condition given in either form, or None; both at once is refused."""
    if input.condition is not None and input.condition_json is not None:
        raise SegmentInvalid(
            [InputProblem(code="NOT_ALLOWED", path="/conditionJson", message="give condition or conditionJson, not both")]
        )
    if input.condition_json is not None:
        return input.condition_json
    return None if input.condition is None else condition_input_to_json(input.condition)


@strawberry.type
class SegmentsMutation:
    @strawberry.mutation(description="Creates a segment; a DATA_DRIVEN one starts BUILDING its members.")
    async def create_segment(self, info: Info, input: CreateSegmentInput) -> SegmentResult:
        try:
            draft = SegmentDraft(
                name=input.name,
                description=input.description,
                type=SegmentTypeValue(input.type),
                condition=_condition_json(input),
            )
            segment = await _service(info).create(info.context.workspace.id, draft)
        except SegmentInvalid as invalid:
            return validation_error(invalid.problems, prefix="/input")
        return Segment.from_record(segment)

    @strawberry.mutation
    async def update_segment(self, info: Info, id: strawberry.ID, input: UpdateSegmentInput) -> SegmentResult:
        try:
            patch = SegmentPatch(name=input.name, description=input.description, condition=_condition_json(input))
            segment = await _service(info).update(info.context.workspace.id, str(id), patch)
        except SegmentInvalid as invalid:
            return validation_error(invalid.problems, prefix="/input")
        except SegmentNotFound as missing:
            return NotFoundError(message=str(missing))
        except SegmentInUse as in_use:
            return _conflict(in_use)
        return Segment.from_record(segment)

    @strawberry.mutation(description="Deletes a segment with its memberships and history; refused while others refer to it.")
    async def delete_segment(self, info: Info, id: strawberry.ID) -> DeleteSegmentResult:
        try:
            segment = await _service(info).delete(info.context.workspace.id, str(id))
        except SegmentNotFound as missing:
            return NotFoundError(message=str(missing))
        except SegmentInUse as in_use:
            return _conflict(in_use)
        return DeletedSegment(id=strawberry.ID(segment.id), name=segment.name)
