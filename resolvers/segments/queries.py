"""`segments`, `segment`, `previewSegment`, `explainMembership`."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers.context import Info
from resolvers.errors import NotFoundError, UserError
from resolvers.scalars import JSON
from resolvers.segments.conditions import ConditionInput, condition_input_to_json
from resolvers.segments.types import (
    ExplainMembershipResult,
    MembershipExplanation,
    Person,
    Segment,
    SegmentPreview,
    validation_error,
)
from rules.store.collections import MEMBERSHIPS, PEOPLE
from rules.conditions.compile import matching_person_ids
from rules.conditions.evaluate import evaluate, explanation_to_json, load_person_data
from rules.people.identifiers import Identifier, IdKind, InvalidIdentifier, resolve_people
from rules.segments.records import SegmentInvalid, evaluable_condition, find_segment, list_segments
from rules.segments.service import validate_condition

PREVIEW_SAMPLE_SIZE = 10


@strawberry.input(one_of=True, description="A person by exactly one of profile id, email or cioId.")
class PersonRefInput:
    id: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    cio_id: strawberry.ID | None = strawberry.UNSET


def _identifier(ref: PersonRefInput) -> Identifier:
    for name, kind, value in (("id", IdKind.ID, ref.id), ("email", IdKind.EMAIL, ref.email), ("cioId", IdKind.CIO_ID, ref.cio_id)):
        if value not in (None, strawberry.UNSET):
            try:
                return Identifier(kind=kind, value=value)
            except InvalidIdentifier as problem:
                raise UserError(f"person.{name}: {problem}") from None
    raise UserError("person: give one of id, email or cioId")


@strawberry.type
class SegmentsQuery:
    @strawberry.field(description="The workspace's segments, oldest first.")
    async def segments(self, info: Info) -> list[Segment]:
        return [Segment.from_record(s) for s in await list_segments(info.context.db, info.context.workspace.id)]

    @strawberry.field
    async def segment(self, info: Info, id: strawberry.ID) -> Segment | None:
        segment = await find_segment(info.context.db, info.context.workspace.id, str(id))
        return Segment.from_record(segment) if segment else None

    @strawberry.field(
        description="The exact count and a sample of the people a condition selects now, without saving it. "
        "An invalid condition is a GraphQL error whose `extensions.problems` list every problem "
        "(code, JSON-pointer path, message)."
    )
    async def preview_segment(
        self,
        info: Info,
        condition: ConditionInput,
        segment_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="An existing segment the condition would replace: the preview then also says "
                "how many people would enter and leave it if saved."
            ),
        ] = None,
    ) -> SegmentPreview:
        # Not a union like the mutations: the contract's shape is
        # `previewSegment(condition) { count sample }`, and a query that only
        # reads has no partial result to report beside its errors.
        db, workspace_id = info.context.db, info.context.workspace.id
        segments = await list_segments(db, workspace_id)
        replaced = None
        if segment_id is not None:
            replaced = next((s for s in segments if s.id == str(segment_id)), None)
            if replaced is None:
                raise UserError(f"segmentId: segment {str(segment_id)!r} does not exist in this workspace")
        try:
            parsed = validate_condition(
                condition_input_to_json(condition), others=segments, self_id=None if replaced is None else replaced.id
            )
        except SegmentInvalid as invalid:
            rejected = validation_error(invalid.problems)
            problems = [{"code": p.code, "path": p.path, "message": p.message} for p in rejected.problems]
            raise UserError(f"condition: {rejected.message}", extensions={"code": "VALIDATION_ERROR", "problems": problems}) from None
        matching = await matching_person_ids(db, parsed, workspace_id=workspace_id, now=info.context.now)
        sample_ids = sorted(matching)[:PREVIEW_SAMPLE_SIZE]
        sample = await db[PEOPLE].find({"ws": workspace_id, "_id": {"$in": sample_ids}}).sort([("_id", 1)]).to_list()
        preview = SegmentPreview(count=len(matching), sample=[Person.from_document(doc) for doc in sample])
        if replaced is not None:
            members = db[MEMBERSHIPS].find({"ws": workspace_id, "segmentId": replaced.id}, {"personId": 1})
            member_ids = {m["personId"] async for m in members}
            preview.would_enter = len(set(matching) - member_ids)
            preview.would_leave = len(member_ids - set(matching))
        return preview

    @strawberry.field(description="Which parts of a segment's condition hold for a person, and whether they are a member.")
    async def explain_membership(
        self, info: Info, segment_id: strawberry.ID, person: PersonRefInput
    ) -> ExplainMembershipResult:
        db, workspace_id = info.context.db, info.context.workspace.id
        segment = await find_segment(db, workspace_id, str(segment_id))
        if segment is None:
            return NotFoundError(message=f"segment {str(segment_id)!r} does not exist in this workspace")
        identifier = _identifier(person)
        found = await resolve_people(db, workspace_id, [identifier])
        data = await load_person_data(db, workspace_id, found[identifier]) if identifier in found else None
        if data is None:
            return NotFoundError(message=f"no person with {identifier.kind} {identifier.value!r} in this workspace")
        condition = evaluable_condition(segment)  # None when refused: the segment is FAILED and says why
        explanation = None if condition is None else evaluate(condition, data, now=info.context.now)
        return MembershipExplanation(
            segment=Segment.from_record(segment),
            person=Person.from_document(data.profile),
            is_member=segment.id in data.segment_ids,
            holds=None if explanation is None else explanation.holds,
            explanation=None if explanation is None else JSON(explanation_to_json(explanation)),
        )
