"""GraphQL types of segments, their members and their history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from resolvers.context import Info
from resolvers.errors import Error, NotFoundError, ValidationError, ValidationProblem
from resolvers.pagination import Connection, Edge, SortOrder, paginate
from resolvers.people.types import Person
from resolvers.scalars import JSON, datetime_from_stored
from rules.changefeed import ChangeKind
from rules.collections import MEMBERSHIP_CHANGES, MEMBERSHIPS
from rules.membership import MembershipEngine
from rules.segments import InputProblem
from rules.segments import Segment as SegmentRecord
from rules.segments import SegmentState as SegmentStateValue
from rules.segments import SegmentType as SegmentTypeValue

SegmentType = strawberry.enum(SegmentTypeValue, name="SegmentType")
SegmentState = strawberry.enum(
    SegmentStateValue, name="SegmentState", description="BUILDING while members are being computed."
)
MembershipChangeKind = strawberry.enum(ChangeKind, name="MembershipChangeKind")

# Members in a stable order (person id), history newest first.
MEMBERS_ORDER = SortOrder(fields=(("_id", 1),))
NEWEST_CHANGES_FIRST = SortOrder(fields=(("at", -1), ("_id", -1)))


def membership_engine(info: Info) -> MembershipEngine:
    return info.context.services.components["membership"]


async def _person(info: Info, person_id: str) -> Person | None:
    document = await info.context.loaders.person_by_cio_id.load(person_id)
    return Person.from_document(document) if document else None


@strawberry.type(description="How far the current build has got: changes written of changes to write.")
class BuildProgress:
    done: int
    total: int


@strawberry.type(description="A person in a segment.")
class SegmentMember(Person):
    entered_at: datetime | None = strawberry.field(description="When the person entered the segment.")

    @classmethod
    def of(cls, person: dict[str, Any], membership: dict[str, Any]) -> SegmentMember:
        fields = vars(Person.from_document(person))
        return cls(**fields, entered_at=datetime_from_stored(membership.get("enteredAt")))


@strawberry.type(description="A person entering or leaving a segment.")
class MembershipChange:
    segment_id: strawberry.ID
    person_id: strawberry.Private[str]
    kind: MembershipChangeKind
    at: datetime | None

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> MembershipChange:
        return cls(
            segment_id=strawberry.ID(doc["segmentId"]),
            person_id=doc["personId"],
            kind=ChangeKind(doc["kind"]),
            at=datetime_from_stored(doc["at"]),
        )

    @strawberry.field(description="The person's internal id (kept after the person is deleted).")
    def person_cio_id(self) -> strawberry.ID:
        return strawberry.ID(self.person_id)

    @strawberry.field(description="Null when the person no longer exists.")
    async def person(self, info: Info) -> Person | None:
        return await _person(info, self.person_id)


@strawberry.type
class Segment:
    id: strawberry.ID
    name: str
    description: str | None
    type: SegmentType
    state: SegmentState
    member_count: int
    condition: JSON | None = strawberry.field(description="The condition in its JSON form; null for MANUAL segments.")
    progress: BuildProgress
    failure: str | None = strawberry.field(description="Why the last build failed (state FAILED).")
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def from_record(cls, segment: SegmentRecord) -> Segment:
        return cls(
            id=strawberry.ID(segment.id),
            name=segment.name,
            description=segment.description,
            type=segment.type,
            state=segment.state,
            member_count=segment.member_count,
            condition=segment.condition,
            progress=BuildProgress(done=segment.progress.done, total=segment.progress.total),
            failure=segment.failure,
            created_at=datetime_from_stored(segment.created_at),
            updated_at=datetime_from_stored(segment.updated_at),
        )

    @strawberry.field(description="The segment's members, by person id.")
    async def members(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[SegmentMember]:
        memberships = await paginate(
            info.context.db[MEMBERSHIPS],
            match={"segmentId": str(self.id), "ws": info.context.workspace.id},
            order=MEMBERS_ORDER,
            first=first,
            after=after,
            max_page_size=info.context.services.settings.max_page_size,
            to_node=lambda doc: doc,
        )
        people = await info.context.loaders.person_by_cio_id.load_many([e.node["personId"] for e in memberships.edges])
        # A member is a person: `node { cioId email enteredAt ... }`. A membership
        # whose person was deleted a moment ago (its exit not yet written) is left out.
        edges = [
            Edge(node=SegmentMember.of(person, edge.node), cursor=edge.cursor)
            for edge, person in zip(memberships.edges, people)
            if person is not None
        ]
        return Connection(edges=edges, page_info=memberships.page_info, count_matching=memberships.count_matching)

    @strawberry.field(description="Membership history, newest first.")
    async def changes(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        since: Annotated[datetime | None, strawberry.argument(description="Only changes at or after this moment.")] = None,
    ) -> Connection[MembershipChange]:
        match: dict[str, Any] = {"segmentId": str(self.id), "ws": info.context.workspace.id}
        if since is not None:
            match["at"] = {"$gte": since.timestamp(), "$type": "number"}
        return await paginate(
            info.context.db[MEMBERSHIP_CHANGES],
            match=match,
            order=NEWEST_CHANGES_FIRST,
            first=first,
            after=after,
            max_page_size=info.context.services.settings.max_page_size,
            to_node=MembershipChange.from_document,
        )


@strawberry.type(description="A segment the person is in, and since when.")
class PersonSegment:
    segment: Segment
    entered_at: datetime | None


@strawberry.type(description="The request conflicts with other segments, listed by id.")
class ConflictError(Error):
    segment_ids: list[strawberry.ID]


@strawberry.type(description="A segment that was deleted, with its memberships and history.")
class DeletedSegment:
    id: strawberry.ID
    name: str


@strawberry.type(description="What a condition selects now; nothing is saved.")
class SegmentPreview:
    count: int = strawberry.field(description="Exact number of matching people.")
    sample: list[Person] = strawberry.field(description="Some of them, by person id.")


@strawberry.type(description="Why a person is or is not in a segment.")
class MembershipExplanation:
    segment: Segment
    person: Person
    is_member: bool = strawberry.field(description="Whether the person is a member now (stored membership).")
    holds: bool | None = strawberry.field(
        description="Whether the condition holds now by the reference evaluator; null for MANUAL segments."
    )
    explanation: JSON | None = strawberry.field(
        description="The evaluator's tree: {holds, kind, path, summary, nextChangeAt, children}; null for MANUAL segments."
    )


SegmentResult = Annotated[Segment | ValidationError | NotFoundError | ConflictError, strawberry.union("SegmentResult")]
DeleteSegmentResult = Annotated[DeletedSegment | NotFoundError | ConflictError, strawberry.union("DeleteSegmentResult")]
ExplainMembershipResult = Annotated[MembershipExplanation | NotFoundError, strawberry.union("ExplainMembershipResult")]


def validation_error(problems: list[InputProblem], *, prefix: str = "") -> ValidationError:
    return ValidationError(
        message=f"{len(problems)} problem(s): " + "; ".join(f"{prefix}{p.path}: {p.message}" for p in problems),
        problems=[ValidationProblem(path=f"{prefix}{p.path}", code=p.code, message=p.message) for p in problems],
    )


async def segments_of_person(info: Info, person_id: str) -> list[PersonSegment]:
    """`Person.segments`: the person's memberships, oldest first."""
    loaders = info.context.loaders
    memberships = await loaders.memberships_by_person.load(person_id)
    segments = {
        s.id: s
        for s in await loaders.segments_of_workspace.load(info.context.workspace.id)
        if s.id in {m["segmentId"] for m in memberships}
    }
    return [
        PersonSegment(segment=Segment.from_record(segments[m["segmentId"]]), entered_at=datetime_from_stored(m["enteredAt"]))
        for m in memberships
        if m["segmentId"] in segments
    ]
