"""`membershipChanges(segmentId, after)`: the segment's changes from the
recorded history after a cursor, then as they are recorded, by any process
of the service on the same store (rules/membership/change_log.py)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from resolvers.context import Info
from resolvers.errors import UserError
from resolvers.segments.types import MembershipChange
from rules.membership.change_log import CursorInvalid, parse_cursor
from rules.segments.records import find_segment


@strawberry.type
class SegmentsSubscription:
    @strawberry.subscription(description="People entering and leaving the segment: after `after`, else from now on.")
    async def membership_changes(
        self,
        info: Info,
        segment_id: strawberry.ID,
        after: Annotated[
            str | None, strawberry.argument(description="The cursor of the last change received: replays what came since.")
        ] = None,
    ) -> AsyncGenerator[MembershipChange, None]:
        workspace_id = info.context.workspace.id
        try:
            start = None if after is None else parse_cursor(after)
        except CursorInvalid as invalid:
            raise UserError(f"after: {invalid}") from None
        if await find_segment(info.context.db, workspace_id, str(segment_id)) is None:
            raise UserError(f"segmentId: segment {str(segment_id)!r} does not exist in this workspace")
        signal = info.context.services.webhooks.signal
        async for change in signal.follow(workspace_id, str(segment_id), start):
            yield MembershipChange.from_document(change)
