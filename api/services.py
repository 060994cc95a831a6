"""What a request handler can reach: the services built once in the lifespan
(api/app.py), as one typed object on `app.state`.

HTTP routes read it with `services_of(request)`; GraphQL resolvers reach it
through their context (resolvers/context.py declares what they may use, as a
Protocol that this class satisfies, so that resolvers never import api/).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable, Callable, Iterable

from starlette.requests import HTTPConnection

from api.settings import Settings
from api.store import Store
from rules.clock import Clock
from rules.ingest.group_commit import GroupCommitWriter
from rules.membership.engine import MembershipEngine
from rules.store.types import Database
from rules.topics import Topic
from rules.webhooks.service import Webhooks

# listener(workspace_id, person_ids, topics): topics name what changed (rules/topics.py)
ChangeListener = Callable[[str, list[str], set[Topic]], Awaitable[None]]


class ChangeListeners(list[ChangeListener]):
    """Who hears what ingestion changed: the membership engine, and tests that record it."""

    async def people_changed(self, workspace_id: str, person_ids: Iterable[str], topics: set[Topic]) -> None:
        """Called by every write path after its write is durable."""
        ids = [pid for pid in dict.fromkeys(person_ids) if pid]
        if not ids:
            return
        for listener in self:
            await listener(workspace_id, ids, topics)


@dataclass(frozen=True, kw_only=True)
class Services:
    settings: Settings
    store: Store
    clock: Clock
    membership: MembershipEngine
    webhooks: Webhooks
    # The Track API and Segment-spec routes write through this one group-commit writer.
    track_writer: GroupCommitWriter
    change_listeners: ChangeListeners

    @property
    def db(self) -> Database:
        return self.store.db


def services_of(connection: HTTPConnection) -> Services:
    """The services of the app serving this request or websocket."""
    services = connection.app.state.services
    # app.state is untyped (Starlette stores attributes); this is the one place that reads it.
    if not isinstance(services, Services):
        raise RuntimeError("the services are built in the lifespan: the app was served without it")
    return services
