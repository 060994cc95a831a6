"""`membershipChanges(segmentId)`: each change of one segment as it is written."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from resolvers.context import Info
from resolvers.errors import UserError
from resolvers.scalars import datetime_from_stored
from resolvers.segments.types import MembershipChange, membership_engine
from rules.segments import find_segment


@strawberry.type
class SegmentsSubscription:
    @strawberry.subscription(description="People entering and leaving the segment, from now on.")
    async def membership_changes(self, info: Info, segment_id: strawberry.ID) -> AsyncGenerator[MembershipChange, None]:
        workspace_id = info.context.workspace.id
        if await find_segment(info.context.db, workspace_id, str(segment_id)) is None:
            raise UserError(f"segmentId: segment {str(segment_id)!r} does not exist in this workspace")
        async with membership_engine(info).changefeed.subscribe(workspace_id, str(segment_id)) as queue:
            while True:
                change = await queue.get()
                yield MembershipChange(
                    segment_id=strawberry.ID(change.segment_id),
                    person_id=change.person_id,
                    kind=change.kind,
                    at=datetime_from_stored(change.at),
                    recorded_at=datetime_from_stored(change.at if change.recorded_at is None else change.recorded_at),
                )
