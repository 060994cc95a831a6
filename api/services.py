"""What a request handler can reach: settings, the store, the clock, and
the hook through which ingestion tells the membership engine what changed."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Iterable

from api.settings import Settings
from rules.clock import Clock
from rules.topics import Topic

log = logging.getLogger("segments")

# listener(workspace_id, person_ids, topics): topics name what changed (rules/topics.py)
ChangeListener = Callable[[str, list[str], set[Topic]], Awaitable[None]]


@dataclass
class Services:
    settings: Settings
    store: Any  # api.store.Store
    clock: Clock
    # Long-lived components started in the lifespan (membership engine, ...).
    components: dict[str, Any] = field(default_factory=dict)
    change_listeners: list[ChangeListener] = field(default_factory=list)

    @property
    def db(self) -> Any:
        return self.store.db

    async def people_changed(self, workspace_id: str, person_ids: Iterable[str], topics: set[Topic]) -> None:
        """Called by every write path after its write is durable."""
        ids = [pid for pid in dict.fromkeys(person_ids) if pid]
        if not ids:
            return
        for listener in self.change_listeners:
            await listener(workspace_id, ids, topics)
