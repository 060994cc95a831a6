"""In-process publish/subscribe of membership changes, for GraphQL subscriptions.

The membership engine publishes every change after it is written; each
subscriber gets its own queue for one segment of one workspace. This lives
in one process: with several service processes each delivers the changes
its own engine makes (documented in docs/segments.md).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum


class ChangeKind(StrEnum):
    ENTERED = "ENTERED"
    EXITED = "EXITED"


@dataclass(frozen=True, kw_only=True)
class MembershipChange:
    workspace_id: str
    segment_id: str
    person_id: str
    kind: ChangeKind
    # When the condition started or stopped holding. A change found late (a
    # window that closed while the service was down) keeps that moment, and
    # `recorded_at` says when it was recorded; None: recorded at `at`.
    at: float
    recorded_at: float | None = None


# A subscriber that stops reading must not make the engine hold memory
# without bound: past this many unread changes the oldest are dropped.
MAX_QUEUED_CHANGES = 10_000


class Changefeed:
    def __init__(self) -> None:
        self._queues: dict[tuple[str, str], set[asyncio.Queue[MembershipChange]]] = defaultdict(set)
        # called after every publish, e.g. to wake readers of the stored history (rules/membership/change_log.py)
        self.listeners: list[Callable[[], None]] = []

    def publish(self, changes: Iterable[MembershipChange]) -> None:
        changes = list(changes)
        if changes:
            for listener in self.listeners:
                listener()
        for change in changes:
            for queue in self._queues.get((change.workspace_id, change.segment_id), ()):
                if queue.full():
                    queue.get_nowait()
                queue.put_nowait(change)

    @asynccontextmanager
    async def subscribe(self, workspace_id: str, segment_id: str) -> AsyncIterator[asyncio.Queue[MembershipChange]]:
        key = (workspace_id, segment_id)
        queue: asyncio.Queue[MembershipChange] = asyncio.Queue(maxsize=MAX_QUEUED_CHANGES)
        self._queues[key].add(queue)
        try:
            yield queue
        finally:
            self._queues[key].discard(queue)
            if not self._queues[key]:
                del self._queues[key]

    def subscriber_count(self, workspace_id: str, segment_id: str) -> int:
        return len(self._queues.get((workspace_id, segment_id), ()))
