"""The seam for the embedded engine: mongoeco's database, wrapped so that the
domain writes plain MongoDB and the engine's slow shapes become fast ones
here. `api/store.py` wraps the embedded database only; with
`SEGMENTS_MONGODB_URI` the domain gets PyMongo's database as it is.

Rules, each with the measurement behind it (`make bench-seam`):

1. A lone insert (`insert_one`, or `insert_many` of one document) goes with a
   throwaway companion document, deleted right after. The engine scans the
   whole collection to check `_id` uniqueness when exactly one document is
   inserted, not for two: into 20,000 documents 0.13 s against 1.8 ms with
   the companion (docs/track-api.md, "Writes: grouped"). The companion has
   no `ws`, so no workspace query ever matches it (docs/data-model.md).
   Only for the collections of people and their activity, where the Track
   API inserts one document at a time into large collections; readers of
   other collections (write markers, counters) read every document.

2. A filter on `ws` and on another key the collection indexes has `ws`
   moved last. The engine plans with the index of the filter's first key,
   and `ws` selects a whole workspace: a person's events among 20,000 with
   `{"ws", "personId"}` take 142 ms, with `{"personId", "ws"}` 0.6 ms. The
   domain writes filters in their natural order, workspace first.

Everything else passes through unchanged.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, MutableMapping
from typing import Any

from bson import ObjectId
from pymongo.results import InsertManyResult, InsertOneResult

from rules.store.collections import DELIVERIES, DEVICES, EVENTS, IDENTITIES, INDEXES, PEOPLE

LONE_INSERT_COMPANION = "lone-insert-companion|"
WITH_COMPANION = frozenset({PEOPLE, IDENTITIES, EVENTS, DEVICES, DELIVERIES})


class EmbeddedDatabase:
    """A mongoeco database whose collections follow the rules above."""

    def __init__(self, database: Any) -> None:
        self._database = database

    def __getitem__(self, name: str) -> EmbeddedCollection:
        return EmbeddedCollection(self._database[name])

    def get_collection(self, name: str, *args: Any, **kwargs: Any) -> EmbeddedCollection:
        return EmbeddedCollection(self._database.get_collection(name, *args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._database, name)


class EmbeddedCollection:
    def __init__(self, collection: Any) -> None:
        self._collection = collection
        self._with_companion = collection.name in WITH_COMPANION
        self._indexed = frozenset(INDEXES.get(collection.name, ())) - {"ws"}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._collection, name)

    def _planned(self, filter: Any) -> Any:
        """Rule 2: `ws` last when another indexed key can lead."""
        if isinstance(filter, dict) and "ws" in filter and not self._indexed.isdisjoint(filter):
            return {**{k: v for k, v in filter.items() if k != "ws"}, "ws": filter["ws"]}
        return filter

    def find(self, filter: Any = None, *args: Any, **kwargs: Any) -> Any:
        return self._collection.find(self._planned(filter), *args, **kwargs)

    async def find_one(self, filter: Any = None, *args: Any, **kwargs: Any) -> Any:
        return await self._collection.find_one(self._planned(filter), *args, **kwargs)

    async def count_documents(self, filter: Any, *args: Any, **kwargs: Any) -> int:
        return await self._collection.count_documents(self._planned(filter), *args, **kwargs)

    async def delete_many(self, filter: Any, *args: Any, **kwargs: Any) -> Any:
        return await self._collection.delete_many(self._planned(filter), *args, **kwargs)

    async def update_many(self, filter: Any, *args: Any, **kwargs: Any) -> Any:
        return await self._collection.update_many(self._planned(filter), *args, **kwargs)

    async def insert_one(self, document: MutableMapping[str, Any], *args: Any, **kwargs: Any) -> InsertOneResult:
        if not self._with_companion:
            return await self._collection.insert_one(document, *args, **kwargs)
        await self._insert_lone(document, ordered=True)
        return InsertOneResult(document["_id"], acknowledged=True)

    async def insert_many(
        self, documents: Iterable[MutableMapping[str, Any]], *, ordered: bool = True, **kwargs: Any
    ) -> InsertManyResult:
        documents = list(documents)
        if len(documents) != 1 or not self._with_companion:
            return await self._collection.insert_many(documents, ordered=ordered, **kwargs)
        await self._insert_lone(documents[0], ordered=ordered)
        return InsertManyResult([documents[0]["_id"]], acknowledged=True)

    async def _insert_lone(self, document: MutableMapping[str, Any], *, ordered: bool) -> None:
        if "_id" not in document:
            document["_id"] = ObjectId()  # as PyMongo does, so the caller sees the id
        companion = {"_id": f"{LONE_INSERT_COMPANION}{secrets.token_hex(8)}"}
        try:
            await self._collection.insert_many([document, companion], ordered=ordered)
        finally:
            await self._collection.delete_one({"_id": companion["_id"]})
