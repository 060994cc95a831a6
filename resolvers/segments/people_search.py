"""`people(segmentId: ...)`: the people search narrowed to one segment's
members, in the search's own order, so its cursors and other filters work
unchanged (rules/people/segment_members.py)."""

from __future__ import annotations

from contextlib import aclosing
from typing import Any, Callable

from resolvers.context import Info
from resolvers.errors import UserError
from resolvers.pagination import Connection, NodeT, SortOrder, connection_of, decode_cursor, page_size
from rules.people.segment_members import count_segment_people, segment_people
from rules.segments.records import find_segment


async def segment_people_connection(
    info: Info,
    segment_id: str,
    *,
    match: dict[str, Any],
    order: SortOrder,
    first: int | None,
    after: str | None,
    to_node: Callable[[dict[str, Any]], NodeT],
    keep: Callable[[dict[str, Any]], bool] | None = None,
) -> Connection[NodeT]:
    """One page of the segment's members whose person matches `match` (and that `keep`
    keeps, if given); `order` is by person id."""
    db, workspace_id = info.context.db, info.context.workspace.id
    if await find_segment(db, workspace_id, segment_id) is None:
        raise UserError(f"segmentId: segment {segment_id!r} does not exist in this workspace")
    size = page_size(first, max_page_size=info.context.services.settings.max_page_size)
    after_id = None if after is None else decode_cursor(after, order)[0]
    documents: list[dict[str, Any]] = []
    # One extra person tells whether a next page exists.
    async with aclosing(segment_people(db, workspace_id, segment_id, match=match, after=after_id, first_batch=size + 1)) as members:
        async for member in members:
            if keep is None or keep(member.person):
                documents.append(member.person)
                if len(documents) > size:
                    break

    async def count_matching() -> int:
        if keep is None:
            return await count_segment_people(db, workspace_id, segment_id, match=match)
        return sum([1 async for member in segment_people(db, workspace_id, segment_id, match=match) if keep(member.person)])

    return connection_of(documents, size=size, after=after, order=order, to_node=to_node, count_matching=count_matching)
