"""Group commit: concurrent Track API requests of a workspace are written together.

Each request waits at most `linger` seconds for others to join it; the group
is applied with rules.ingest.apply.apply_requests (all-or-nothing per request,
grouped writes for all), the change listeners are told what changed, and
only then does each request get its outcome. Concurrent single-event
requests are much cheaper together: one batch of writes instead of a write
and its round trip each. Writes of one workspace are serialised by its single
flusher, which also keeps two requests of this process from racing for the
same identity.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Awaitable, Callable

from rules.clock import Clock
from rules.ingest.apply import Accepted, Outcome, apply_requests
from rules.ingest.operations import Operation
from rules.store.types import Database
from rules.topics import Topic

log = logging.getLogger("segments.ingest")

# notify(workspace_id, person_ids, topics), e.g. Services.people_changed
Notify = Callable[[str, list[str], set[Topic]], Awaitable[None]]


@dataclass(kw_only=True)
class _Pending:
    operations: list[Operation]
    outcome: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class GroupCommitWriter:
    def __init__(self, db: Database, *, clock: Clock, notify: Notify, linger: float = 0.002, max_group_operations: int = 5000) -> None:
        self._db = db
        self._clock = clock
        self._notify = notify
        self._linger = linger
        self._max_group_operations = max_group_operations
        self._pending: dict[str, list[_Pending]] = {}
        self._flushers: dict[str, asyncio.Task] = {}

    async def submit(self, workspace_id: str, operations: list[Operation]) -> Outcome:
        """Apply one request's operations; returns once they are written (or rejected)."""
        pending = _Pending(operations=operations)
        self._pending.setdefault(workspace_id, []).append(pending)
        if workspace_id not in self._flushers:
            self._flushers[workspace_id] = asyncio.create_task(self._flush(workspace_id))
        return await pending.outcome

    async def _flush(self, workspace_id: str) -> None:
        try:
            await asyncio.sleep(self._linger)
            while self._pending.get(workspace_id):
                await self._write_group(workspace_id, self._take_group(workspace_id))
        finally:
            del self._flushers[workspace_id]
            if not self._pending.get(workspace_id):
                self._pending.pop(workspace_id, None)

    def _take_group(self, workspace_id: str) -> list[_Pending]:
        queue = self._pending[workspace_id]
        size, count = 0, 0
        for pending in queue:
            if count and size + len(pending.operations) > self._max_group_operations:
                break
            size += len(pending.operations)
            count += 1
        group, self._pending[workspace_id] = queue[:count], queue[count:]
        return group

    async def _write_group(self, workspace_id: str, group: list[_Pending]) -> None:
        try:
            outcomes = await apply_requests(self._db, workspace_id, [p.operations for p in group], now=self._clock.now())
        except Exception as error:  # the store failed: settle each request alone, so one cannot fail the others
            if len(group) == 1:
                log.exception("ingest write failed")
                _settle(group[0].outcome, error=error)
                return
            for pending in group:
                await self._write_group(workspace_id, [pending])
            return
        for pending, outcome in zip(group, outcomes):
            if isinstance(outcome, Accepted):
                await self._tell_listeners(workspace_id, outcome)
            _settle(pending.outcome, result=outcome)

    async def _tell_listeners(self, workspace_id: str, outcome: Accepted) -> None:
        by_topics: dict[frozenset[Topic], list[str]] = {}
        for person_id, topics in outcome.topics.items():
            if topics:
                by_topics.setdefault(topics, []).append(person_id)
        for topics, person_ids in by_topics.items():
            try:
                await self._notify(workspace_id, person_ids, set(topics))
            except Exception:  # the data is written; a listener's failure must not turn that into an error
                log.exception("change listener failed for %s", workspace_id)


def _settle(future: asyncio.Future, *, result: Outcome | None = None, error: Exception | None = None) -> None:
    """A request whose client went away has a cancelled future: nobody is waiting any more."""
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
