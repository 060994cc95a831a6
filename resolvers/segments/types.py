"""GraphQL types of segments, their members and their history, and the
schema's `Person`: a person's own fields (resolvers/people/types.py) plus
the segments they are in. Segment types are built on people and a person's
segments are segment types, so the joining type lives here and the people
module never imports this one."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry

from resolvers.context import Info
from resolvers.errors import Error, NotFoundError, UserError, ValidationError, ValidationProblem
from resolvers.pagination import Connection, Edge, SortOrder, connection_of, decode_cursor, page_size, paginate
from resolvers.people.types import PersonFields
from resolvers.scalars import JSON, datetime_from_stored, seconds_from_input
from rules.membership.changefeed import ChangeKind
from rules.store.collections import MEMBERSHIP_CHANGES, MEMBERSHIPS
from rules.membership.engine import MembershipEngine
from rules.membership.history import SeriesInvalid, count_history, members_as_of, series_moments
from rules.segments.records import InputProblem
from rules.segments.records import Segment as SegmentRecord
from rules.segments.records import SegmentState as SegmentStateValue
from rules.segments.records import SegmentType as SegmentTypeValue

# GraphQL enums: aliases of the domain's enums (valid types for mypy), named by strawberry.enum.
SegmentType = SegmentTypeValue
strawberry.enum(SegmentTypeValue, name="SegmentType")
SegmentState = SegmentStateValue
strawberry.enum(
    SegmentStateValue, name="SegmentState", description="BUILDING while members are being computed."
)
MembershipChangeKind = ChangeKind
strawberry.enum(ChangeKind, name="MembershipChangeKind")

AS_OF = Annotated[datetime | None, strawberry.argument(description="A past moment: the answer from the recorded history.")]


def _as_of_seconds(as_of: datetime) -> float:
    """The end of the microsecond `asOf` names: stored times are finer than a
    DateTime, so the `at` of a change, shown rounded to the microsecond and
    passed back as `asOf`, still includes that change."""
    return seconds_from_input(as_of) + 0.5e-6


# Members in a stable order (person id), history newest first.
MEMBERS_ORDER = SortOrder(fields=(("_id", 1),))
NEWEST_CHANGES_FIRST = SortOrder(fields=(("at", -1), ("_id", -1)))


def membership_engine(info: Info) -> MembershipEngine:
    return info.context.services.membership


async def _person(info: Info, person_id: str) -> Person | None:
    document = await info.context.loaders.person_by_cio_id.load(person_id)
    return Person.from_document(document) if document else None


@strawberry.type(description="How far the current build has got: changes written of changes to write.")
class BuildProgress:
    done: int
    total: int


@strawberry.type
class Person(PersonFields):
    @strawberry.field(description="The segments the person is in, with when they entered.")
    async def segments(self, info: Info) -> list[PersonSegment]:
        return await segments_of_person(info, str(self.cio_id))

    @strawberry.field(description="The person's entries into and exits from segments, newest first.")
    async def membership_changes(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[MembershipChange]:
        return await membership_changes_of_person(info, str(self.cio_id), first=first, after=after)


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
    at: datetime | None = strawberry.field(
        description="When the person entered or left: for a change found late (a window that closed while the service was down), the moment it happened."
    )
    recorded_at: datetime | None = strawberry.field(description="When the change was recorded (`at` or later).")
    cursor: str | None = strawberry.field(
        default=None, description="Resume membershipChanges(after:) from here; null for changes recorded before cursors existed."
    )
    change_id: strawberry.ID | None = strawberry.field(default=None, description="Unique; the changeId of webhook payloads.")

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> MembershipChange:
        return cls(
            segment_id=strawberry.ID(doc["segmentId"]),
            person_id=doc["personId"],
            kind=ChangeKind(doc["kind"]),
            at=datetime_from_stored(doc["at"]),
            recorded_at=datetime_from_stored(doc.get("recordedAt", doc["at"])),
            cursor=str(doc["seq"]) if "seq" in doc else None,
            change_id=strawberry.ID(doc["_id"]),
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
    stored_member_count: strawberry.Private[int]
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
            stored_member_count=segment.member_count,
            condition=None if segment.condition is None else JSON(segment.condition),
            progress=BuildProgress(done=segment.progress.done, total=segment.progress.total),
            failure=segment.failure,
            created_at=datetime_from_stored(segment.created_at),
            updated_at=datetime_from_stored(segment.updated_at),
        )

    @strawberry.field(description="How many members it has now, or had at `asOf` (from the history).")
    async def member_count(self, info: Info, as_of: AS_OF = None) -> int:
        if as_of is None:
            return self.stored_member_count
        return len(await members_as_of(info.context.db, info.context.workspace.id, str(self.id), _as_of_seconds(as_of)))

    @strawberry.field(description="The member count over time, one point per interval from `from` to `to`, for a chart.")
    async def count_history(
        self, info: Info, from_: Annotated[datetime, strawberry.argument(name="from")], to: datetime, interval: CountInterval
    ) -> list[CountPoint]:
        try:
            moments = series_moments(seconds_from_input(from_), seconds_from_input(to), INTERVAL_SECONDS[interval])
        except SeriesInvalid as invalid:
            raise UserError(str(invalid)) from None
        points = await count_history(info.context.db, info.context.workspace.id, str(self.id), moments)
        return [CountPoint(at=datetime_from_stored(p.at), count=p.count) for p in points]

    @strawberry.field(description="The segment's members, by person id; with `asOf`, those at that moment (from the history).")
    async def members(
        self, info: Info, first: int | None = None, after: str | None = None, as_of: AS_OF = None
    ) -> Connection[SegmentMember]:
        if as_of is not None:
            return await self._members_as_of(info, first, after, as_of)
        memberships = await paginate(
            info.context.db[MEMBERSHIPS],
            match={"ws": info.context.workspace.id, "segmentId": str(self.id)},
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

    async def _members_as_of(self, info: Info, first: int | None, after: str | None, as_of: datetime) -> Connection[SegmentMember]:
        size = page_size(first, max_page_size=info.context.services.settings.max_page_size)
        entered = await members_as_of(info.context.db, info.context.workspace.id, str(self.id), _as_of_seconds(as_of))
        person_ids = sorted(entered)
        if after is not None:
            (last,) = decode_cursor(after, MEMBERS_ORDER)
            person_ids = [p for p in person_ids if p > last]
        people = await info.context.loaders.person_by_cio_id.load_many(person_ids[: size + 1])
        documents = [{**person, "enteredAt": entered[person["_id"]]} for person in people if person is not None]

        async def total() -> int:
            return len(entered)

        return connection_of(
            documents,
            size=size,
            after=after,
            order=MEMBERS_ORDER,
            to_node=lambda doc: SegmentMember.of(doc, doc),
            count_matching=total,
        )

    @strawberry.field(description="Membership history, newest first.")
    async def changes(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        since: Annotated[datetime | None, strawberry.argument(description="Only changes at or after this moment.")] = None,
        kind: Annotated[
            MembershipChangeKind | None, strawberry.argument(description="Only entries, or only exits.")
        ] = None,
    ) -> Connection[MembershipChange]:
        match: dict[str, Any] = {"ws": info.context.workspace.id, "segmentId": str(self.id)}
        if since is not None:
            match["at"] = {"$gte": seconds_from_input(since), "$type": "number"}
        if kind is not None:
            match["kind"] = ChangeKind(kind).value
        return await paginate(
            info.context.db[MEMBERSHIP_CHANGES],
            match=match,
            order=NEWEST_CHANGES_FIRST,
            first=first,
            after=after,
            max_page_size=info.context.services.settings.max_page_size,
            to_node=MembershipChange.from_document,
        )


@strawberry.enum(description="The step of a countHistory series.")
class CountInterval(Enum):
    MINUTE = "MINUTE"
    HOUR = "HOUR"
    DAY = "DAY"
    WEEK = "WEEK"


INTERVAL_SECONDS = {CountInterval.MINUTE: 60.0, CountInterval.HOUR: 3600.0, CountInterval.DAY: 86400.0, CountInterval.WEEK: 604800.0}


@strawberry.type(description="The member count at one moment.")
class CountPoint:
    at: datetime
    count: int


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
    would_enter: int | None = strawberry.field(
        default=None, description="With `segmentId`: people the condition selects who are not members now."
    )
    would_leave: int | None = strawberry.field(
        default=None, description="With `segmentId`: members now whom the condition no longer selects."
    )


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


async def membership_changes_of_person(
    info: Info, person_id: str, *, first: int | None, after: str | None
) -> Connection[MembershipChange]:
    """`Person.membershipChanges`: the person's history across segments, newest first."""
    return await paginate(
        info.context.db[MEMBERSHIP_CHANGES],
        match={"ws": info.context.workspace.id, "personId": person_id},
        order=NEWEST_CHANGES_FIRST,
        first=first,
        after=after,
        max_page_size=info.context.services.settings.max_page_size,
        to_node=MembershipChange.from_document,
    )
