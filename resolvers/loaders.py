"""DataLoaders, created per request (per connection for websockets).

Each loader batches the lookups one GraphQL response needs into one query,
always filtered on the workspace. Loaders return store documents; the
GraphQL types in the domain packages turn them into objects. A domain
package that needs a loader adds a field here and a builder in
`Loaders.for_workspace`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from strawberry.dataloader import DataLoader

from rules.collections import DEVICES, PEOPLE

Document = dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class Loaders:
    person_by_cio_id: DataLoader[str, Document | None]
    devices_by_person: DataLoader[str, list[Document]]

    @classmethod
    def for_workspace(cls, db: Any, workspace_id: str, *, cache: bool) -> Loaders:
        async def load_people(cio_ids: Sequence[str]) -> list[Document | None]:
            found = {
                doc["_id"]: doc
                async for doc in db[PEOPLE].find({"ws": workspace_id, "_id": {"$in": list(cio_ids)}})
            }
            return [found.get(cio_id) for cio_id in cio_ids]

        async def load_devices(person_ids: Sequence[str]) -> list[list[Document]]:
            by_person: dict[str, list[Document]] = defaultdict(list)
            cursor = db[DEVICES].find({"ws": workspace_id, "personId": {"$in": list(person_ids)}})
            async for doc in cursor.sort([("lastUsed", -1), ("_id", 1)]):
                by_person[doc["personId"]].append(doc)
            return [by_person[person_id] for person_id in person_ids]

        return cls(
            person_by_cio_id=DataLoader(load_fn=load_people, cache=cache),
            devices_by_person=DataLoader(load_fn=load_devices, cache=cache),
        )
