"""`person` and `people`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

import strawberry

from resolvers.context import Info
from resolvers.errors import UserError
from resolvers.pagination import Connection, SortOrder, paginate
from resolvers.people.types import Person
from resolvers.scalars import JSON
from rules.collections import IDENTITIES, PEOPLE

# Stable and unique, so cursors stay valid while people are added.
PEOPLE_ORDER = SortOrder(fields=(("_id", 1),))

# Attribute paths are dot-separated names; `$` would reach into operators.
_ATTRIBUTE_PATH = re.compile(r"[^.$\s][^.$]*(\.[^.$\s][^.$]*)*")


@strawberry.input(description="People whose attribute at `path` (dots for nested objects) equals `value`.")
class AttributeFilterInput:
    path: str
    value: JSON = strawberry.field(
        description="Compared as MongoDB does: never across types (\"30000\" does not equal 30000)."
    )


@dataclass(frozen=True, kw_only=True)
class PeopleFilter:
    """What `people` narrows the workspace's people to."""

    email_contains: str | None = None
    attribute: AttributeFilterInput | None = None
    # A `segmentId` filter (members of one segment) belongs here.

    def match(self, workspace_id: str) -> dict[str, Any]:
        match: dict[str, Any] = {"ws": workspace_id}
        if self.email_contains:
            match["emailLower"] = {"$regex": re.escape(self.email_contains.lower())}
        if self.attribute is not None:
            path = self.attribute.path
            if not _ATTRIBUTE_PATH.fullmatch(path):
                raise UserError(f"attribute.path: expected dot-separated attribute names, got {path!r}")
            value = self.attribute.value
            # Equality never matches across types, on MongoDB and the embedded
            # store alike (only range operators need a `$type` guard there).
            match[f"attributes.{path}"] = {"$eq": value}
        return match


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
        given = [name for name, value in (("id", id), ("email", email), ("cioId", cio_id)) if value is not None]
        if len(given) != 1:
            raise UserError(f"person: give exactly one of id, email or cioId (got {', '.join(given) or 'none'})")
        ws = info.context.workspace.id
        if cio_id is None:
            # Profile ids and emails resolve through `identities` (docs/data-model.md).
            identity_key = f"{ws}|id|{id}" if id is not None else f"{ws}|email|{email.lower()}"
            identity = await info.context.db[IDENTITIES].find_one({"_id": identity_key, "ws": ws})
            if identity is None:
                return None
            cio_id = identity["personId"]
        document = await info.context.loaders.person_by_cio_id.load(cio_id)
        return Person.from_document(document) if document else None

    @strawberry.field(description="People of the workspace in a stable order, optionally filtered.")
    async def people(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        email: Annotated[str | None, strawberry.argument(description="Case-insensitive substring of the email.")] = None,
        attribute: AttributeFilterInput | None = None,
    ) -> Connection[Person]:
        people_filter = PeopleFilter(email_contains=email, attribute=attribute)
        return await paginate(
            info.context.db[PEOPLE],
            match=people_filter.match(info.context.workspace.id),
            order=PEOPLE_ORDER,
            first=first,
            after=after,
            max_page_size=info.context.services.settings.max_page_size,
            to_node=Person.from_document,
        )
