"""DataLoaders, created per request (per connection for websockets).

Each loader gathers the lookups one GraphQL response needs, always
filtered on the workspace, so that a page of 200 people with their events,
deliveries, devices and segments costs one batch per field, not one query
per person and field. Loaders return store documents; the GraphQL types in
the domain packages turn them into objects. A domain package that needs a
loader adds a field here and a builder in `Loaders.for_workspace`. A batch
is one `$in` query on the keys, sorted, then grouped by key here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from strawberry.dataloader import DataLoader

from resolvers.pagination import SortOrder
from rules.store.collections import DELIVERIES, DEVICES, EVENTS, MEMBERSHIPS, PEOPLE
from rules.segments.records import Segment, list_segments
from rules.store.types import Database

Document = dict[str, Any]

NEWEST_EVENTS_FIRST = SortOrder(fields=(("ts", -1), ("_id", -1)))
NEWEST_DELIVERIES_FIRST = SortOrder(fields=(("createdAt", -1), ("_id", -1)))
DEVICES_LAST_USED_FIRST = SortOrder(fields=(("lastUsed", -1), ("_id", 1)))
MEMBERSHIPS_OLDEST_FIRST = SortOrder(fields=(("enteredAt", 1), ("_id", 1)))


@dataclass(frozen=True, kw_only=True)
class ActivityKey:
    """A person's activity documents matching `filters` (equalities, sorted by field name)."""

    person_id: str
    filters: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True, kw_only=True)
class FirstPageKey(ActivityKey):
    """The first `size` of them, in the collection's order."""

    size: int


async def _by_person(
    db: Database,
    workspace_id: str,
    collection: str,
    person_ids: Sequence[str],
    order: SortOrder,
    *,
    filters: dict[str, Any] | None = None,
    projection: dict[str, Any] | None = None,
) -> dict[str, list[Document]]:
    """The documents of each of `person_ids` in the collection, in `order`."""
    grouped: dict[str, list[Document]] = {person_id: [] for person_id in person_ids}
    query = {"ws": workspace_id, "personId": {"$in": list(grouped)}, **(filters or {})}
    for doc in await db[collection].find(query, projection).sort(list(order.fields)).to_list():
        grouped[doc["personId"]].append(doc)
    return grouped


def _activity(db: Database, workspace_id: str, collection: str, order: SortOrder, *, counting: bool):
    """A batch function over one collection: first pages (`FirstPageKey`) or counts (`ActivityKey`)."""

    async def load(keys: Sequence[ActivityKey]) -> list[Any]:
        found: dict[ActivityKey, list[Document]] = {}
        for filters in dict.fromkeys(key.filters for key in keys):
            person_ids = list(dict.fromkeys(key.person_id for key in keys if key.filters == filters))
            projection = {"personId": 1} if counting else None
            grouped = await _by_person(db, workspace_id, collection, person_ids, order, filters=dict(filters), projection=projection)
            found.update({key: grouped[key.person_id] for key in keys if key.filters == filters})
        if counting:
            return [len(found[key]) for key in keys]
        # Not counting: the keys are first pages.
        return [found[key][: cast(FirstPageKey, key).size] for key in keys]

    return load


@dataclass(frozen=True, kw_only=True)
class Loaders:
    person_by_cio_id: DataLoader[str, Document | None]
    devices_by_person: DataLoader[str, list[Document]]
    memberships_by_person: DataLoader[str, list[Document]]
    events_first_page: DataLoader[FirstPageKey, list[Document]]
    events_count: DataLoader[ActivityKey, int]
    deliveries_first_page: DataLoader[FirstPageKey, list[Document]]
    deliveries_count: DataLoader[ActivityKey, int]
    segments_of_workspace: DataLoader[str, list[Segment]]

    @classmethod
    def for_workspace(cls, db: Database, workspace_id: str, *, cache: bool) -> Loaders:
        async def people(cio_ids: Sequence[str]) -> list[Document | None]:
            found = {doc["_id"]: doc async for doc in db[PEOPLE].find({"ws": workspace_id, "_id": {"$in": list(cio_ids)}})}
            return [found.get(cio_id) for cio_id in cio_ids]

        def per_person(collection: str, order: SortOrder):
            async def load(person_ids: Sequence[str]) -> list[list[Document]]:
                grouped = await _by_person(db, workspace_id, collection, person_ids, order)
                return [grouped[person_id] for person_id in person_ids]

            return load

        async def segments(workspace_ids: Sequence[str]) -> list[list[Segment]]:
            return [await list_segments(db, workspace_id) for workspace_id in workspace_ids]

        def activity(collection: str, order: SortOrder, *, counting: bool) -> DataLoader:
            load = _activity(db, workspace_id, collection, order, counting=counting)
            return DataLoader(load_fn=load, cache=cache)

        return cls(
            person_by_cio_id=DataLoader(load_fn=people, cache=cache),
            devices_by_person=DataLoader(load_fn=per_person(DEVICES, DEVICES_LAST_USED_FIRST), cache=cache),
            memberships_by_person=DataLoader(load_fn=per_person(MEMBERSHIPS, MEMBERSHIPS_OLDEST_FIRST), cache=cache),
            events_first_page=activity(EVENTS, NEWEST_EVENTS_FIRST, counting=False),
            events_count=activity(EVENTS, NEWEST_EVENTS_FIRST, counting=True),
            deliveries_first_page=activity(DELIVERIES, NEWEST_DELIVERIES_FIRST, counting=False),
            deliveries_count=activity(DELIVERIES, NEWEST_DELIVERIES_FIRST, counting=True),
            segments_of_workspace=DataLoader(load_fn=segments, cache=cache),
        )
