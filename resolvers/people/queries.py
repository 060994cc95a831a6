"""`person` and `people`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import strawberry

from resolvers.context import Info
from resolvers.errors import UserError
from resolvers.pagination import Connection, SortOrder, connection_of, decode_cursor, page_size, paginate
from resolvers.segments.people_search import segment_people_connection
from resolvers.segments.types import Person
from resolvers.scalars import JSON
from rules.store.collections import IDENTITIES, MEMBERSHIPS, PEOPLE
from rules.people.identifiers import Identifier, IdKind, InvalidIdentifier, identity_key
from rules.people.search import PeopleSearchInvalid, people_match
from rules.people.segment_members import count_segment_people
from rules.segments.records import find_segment
from rules.store.types import Database

# Stable and unique, so cursors stay valid while people are added.
PEOPLE_ORDER = SortOrder(fields=(("_id", 1),))


@strawberry.input(description="People whose attribute at `path` (dots for nested objects) equals `value`.")
class AttributeFilterInput:
    path: str
    value: JSON = strawberry.field(
        description="Compared as MongoDB does: never across types (\"30000\" does not equal 30000)."
    )


def _identifier(argument: str, kind: IdKind, value: str) -> Identifier:
    try:
        return Identifier(kind=kind, value=value)
    except InvalidIdentifier as problem:
        raise UserError(f"{argument}: {problem}") from None


async def _cio_id_of(info: Info, identifier: Identifier) -> str | None:
    if identifier.kind is IdKind.CIO_ID:
        return identifier.value
    ws = info.context.workspace.id
    key = identity_key(ws, identifier.kind, identifier.value)
    identity = await info.context.db[IDENTITIES].find_one({"ws": ws, "_id": key}, {"personId": 1})
    return identity["personId"] if identity else None


@dataclass(frozen=True, kw_only=True)
class PeopleFilter:
    """What `people` narrows the workspace's people to."""

    email_contains: str | None = None
    profile_id: str | None = None
    attribute: AttributeFilterInput | None = None
    # Members of one segment; applied by resolvers/segments/people_search.py,
    # since memberships are not part of the person documents `match` filters.
    segment_id: str | None = None
    # Not members of one segment: its members' ids, set aside while reading
    # (`keeps`). Not a `$nin` in `match`: a segment may hold more members
    # than a query document should carry (a `$nin` of 1,230 ids among 2,000
    # people took 5.4 s).
    not_in_segment_id: str | None = None
    excluded_person_ids: frozenset[str] = frozenset()

    def keeps(self, person: dict[str, Any]) -> bool:
        return person["_id"] not in self.excluded_person_ids

    def match(self, workspace_id: str) -> dict[str, Any]:
        attribute = None if self.attribute is None else (self.attribute.path, self.attribute.value)
        try:
            return people_match(workspace_id, profile_id=self.profile_id, email_contains=self.email_contains, attribute=attribute)
        except PeopleSearchInvalid as invalid:
            raise UserError(str(invalid)) from None


async def people_filter_of(
    db: Database,
    workspace_id: str,
    *,
    email: str | None = None,
    profile_id: str | None = None,
    attribute: AttributeFilterInput | None = None,
    segment_id: str | None = None,
    not_in_segment_id: str | None = None,
) -> PeopleFilter:
    """The filter of a people search (GraphQL `people` and the people CSV export alike)."""
    excluded: frozenset[str] = frozenset()
    if not_in_segment_id is not None:
        if await find_segment(db, workspace_id, not_in_segment_id) is None:
            raise UserError(f"notInSegmentId: segment {not_in_segment_id!r} does not exist in this workspace")
        memberships = db[MEMBERSHIPS].find({"ws": workspace_id, "segmentId": not_in_segment_id}, {"personId": 1})
        excluded = frozenset([m["personId"] async for m in memberships])
    return PeopleFilter(
        email_contains=email,
        profile_id=profile_id,
        attribute=attribute,
        segment_id=segment_id,
        not_in_segment_id=not_in_segment_id,
        excluded_person_ids=excluded,
    )


async def _people_outside_segment(
    info: Info, people_filter: PeopleFilter, *, first: int | None, after: str | None
) -> Connection[Person]:
    """One page of the search's people in order, the segment's members set aside."""
    db, workspace_id = info.context.db, info.context.workspace.id
    match = people_filter.match(workspace_id)
    size = page_size(first, max_page_size=info.context.services.settings.max_page_size)
    page_match = match if after is None else {"$and": [match, PEOPLE_ORDER.after(decode_cursor(after, PEOPLE_ORDER))]}
    documents: list[dict[str, Any]] = []
    cursor = db[PEOPLE].find(page_match).sort(list(PEOPLE_ORDER.fields))
    try:
        async for person in cursor:
            if people_filter.keeps(person):
                documents.append(person)
                # One extra person tells whether a next page exists.
                if len(documents) > size:
                    break
    finally:
        await cursor.close()

    async def count_matching() -> int:
        members = await count_segment_people(db, workspace_id, str(people_filter.not_in_segment_id), match=match)
        return await db[PEOPLE].count_documents(match) - members

    return connection_of(
        documents, size=size, after=after, order=PEOPLE_ORDER, to_node=Person.from_document, count_matching=count_matching
    )


@strawberry.type
class PeopleQuery:
    @strawberry.field(description="One person, by exactly one of profile id, email (case-insensitive) or cioId.")
    async def person(
        self,
        info: Info,
        id: str | None = None,
        email: str | None = None,
        cio_id: strawberry.ID | None = None,
    ) -> Person | None:
        arguments = (("id", IdKind.ID, id), ("email", IdKind.EMAIL, email), ("cioId", IdKind.CIO_ID, cio_id))
        given = [(name, kind, value) for name, kind, value in arguments if value is not None]
        if len(given) != 1:
            names = ", ".join(name for name, _, _ in given) or "none"
            raise UserError(f"person: give exactly one of id, email or cioId (got {names})")
        person_id = await _cio_id_of(info, _identifier(*given[0]))
        document = await info.context.loaders.person_by_cio_id.load(person_id) if person_id else None
        return Person.from_document(document) if document else None

    @strawberry.field(description="People of the workspace in a stable order, optionally filtered.")
    async def people(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        email: Annotated[str | None, strawberry.argument(description="Case-insensitive substring of the email.")] = None,
        attribute: AttributeFilterInput | None = None,
        segment_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only members of this segment.")
        ] = None,
        profile_id: Annotated[str | None, strawberry.argument(description="The profile id, exactly.")] = None,
        not_in_segment_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only people who are not members of this segment.")
        ] = None,
    ) -> Connection[Person]:
        people_filter = await people_filter_of(
            info.context.db,
            info.context.workspace.id,
            email=email,
            profile_id=profile_id,
            attribute=attribute,
            segment_id=None if segment_id is None else str(segment_id),
            not_in_segment_id=None if not_in_segment_id is None else str(not_in_segment_id),
        )
        if people_filter.segment_id is not None:
            return await segment_people_connection(
                info,
                people_filter.segment_id,
                match=people_filter.match(info.context.workspace.id),
                order=PEOPLE_ORDER,
                first=first,
                after=after,
                to_node=Person.from_document,
                keep=people_filter.keeps if people_filter.excluded_person_ids else None,
            )
        if people_filter.excluded_person_ids:
            return await _people_outside_segment(info, people_filter, first=first, after=after)
        return await paginate(
            info.context.db[PEOPLE],
            match=people_filter.match(info.context.workspace.id),
            order=PEOPLE_ORDER,
            first=first,
            after=after,
            max_page_size=info.context.services.settings.max_page_size,
            to_node=Person.from_document,
        )
