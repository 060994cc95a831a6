"""The seam for the embedded engine: mongoeco's database, wrapped so that the
domain writes plain MongoDB and the engine's slow shapes become fast ones
here. `api/store.py` wraps the embedded database only; with
`SEGMENTS_MONGODB_URI` (or `SEGMENTS_EMBEDDED_SEAM=off`) the domain gets the
database as it is.

Rules, each with the measurement behind it (mongoeco 4.11.0; `make
bench-seam` measures each with and without the seam):

1. A lone insert (`insert_one`, or `insert_many` of one document) goes with a
   throwaway companion document, deleted right after. The engine scans the
   whole collection to check `_id` uniqueness when exactly one document is
   inserted, not for two: into 20,000 documents 0.13 s against 1.8 ms with
   the companion (docs/track-api.md, "Writes: grouped"). The companion has
   no `ws`, so no workspace query ever matches it (docs/data-model.md).
   Only for the collections of people and their activity, where the Track
   API inserts one document at a time into large collections; readers of
   other collections (write markers, counters) read every document.

2. A filter on a key the engine indexes other than `ws` has such keys moved
   first and `ws` last. The memory engine plans with the index of the
   filter's first key, and `ws` selects a whole workspace: a person's events
   among 20,000 with `{"ws", "personId"}` take 142 ms, with `{"personId",
   "ws"}` 0.6 ms. The sqlite engine answers either order with one pass over
   the collection (docs/decisions.md #16): no order was consistently faster
   there (`make bench-seam-engines`), so the rule stays for both.

3. `_id` lookups (`{"_id": id}` or `{"_id": {"$in": ids}}`) become one
   `find_one` per id: by `_id` alone when the other keys are plain string
   equalities such as `ws`, checked on the document found; with the whole
   filter (rule 2) when it has other conditions (a page of a segment's
   people with a search), and on the memory engine also when it has
   another indexed key, such as a new event's owner, whose index answers a
   miss cheaply there. The engines answer `$in` by scanning the collection
   again for every match (memory: 500 ids among 20,000: 14 s, against
   0.16 ms a lookup; sqlite: 20 ids 0.7 s, against 14 ms for 20 lookups, and
   500 ids fail, SQLite's expression tree too deep), and plan `{"_id",
   "ws"}` through the `ws` index (0.64 ms a lookup at 20,000 people). On
   the sqlite engine a filter with another indexed key is itself a pass
   (an event by `{"ws", "personId", "_id"}` among 20,000: 55-131 ms, by
   `_id` alone then checked 0.8-0.9 ms). For the collections whose `_id` is
   "{ws}|{key}" with `key` also stored in an indexed field (`KEY_FIELDS`),
   the lookup goes through that field on the memory engine: it answers an
   `_id` lookup that finds nothing (a new person's identity, a new
   delivery) by scanning the collection (29 ms at 20,000), a miss on a
   secondary index costs 0.2 ms. Not on the sqlite engine, where a query on
   an indexed field is itself a pass over the collection: among 5,000
   identities a hit by `key` took 114 ms, by `_id` 3.5 ms. A miss there is
   a pass whatever the shape (mongoeco's `find_one` scans after its direct
   `_id` lookup finds nothing; 59-121 ms among 20,000 identities), and
   `find(...).limit(1)`, which scans once rather than twice, is slower on
   the hits the reads are made of.

4. `{field: {"$in": keys}}` on a field the engine indexes (other than
   `_id`), as DataLoaders and batch reads ask, the rest of the filter
   (other fields' `$in`s included) kept as it is: on the memory engine one
   equality query per key through the index (200 people's events among
   17,000: 1.8 s, `$in` 22 s); on the sqlite engine one pass over the rest
   of the filter (the workspace), kept by key (1.5 s, against 97 s for 200
   equality queries and 126 s for `$in`: its equality query on an indexed
   field is already a pass over the collection, docs/decisions.md #16).
   The pass is streamed, holding only the documents it keeps: over a
   workspace of 100,000 events, 0.5 MiB of Python objects at its peak
   against 115 MiB when it read the workspace into a list first (peak RSS
   +233 MiB). The rest of the filter goes to SQL, where it skips rows
   before they are decoded (`name: {$in: [2 of 6 names]}`: 2.1 s, against
   5.5 s for the workspace alone).
   The caller's sort, skip and limit are applied to the merged documents.

5. `delete_many` by `_id $in` becomes a `bulk_write` of one `DeleteOne` per
   id: the sqlite engine turns a long `$in` into an expression SQLite
   rejects (500 ids), and `$in` is slow as in rule 3. On the sqlite engine
   a write by `{"_id", "ws"}` is a pass over the collection (20 deletes
   among 20,000 schedules: 3.6 s; by `_id` alone 118 ms; 100
   through the seam 15.3 s before, 0.68 s now), so when the rest of
   the filter is plain equalities each `_id` is first looked up (rule 3)
   and the documents that hold them are deleted by `_id` alone. Those
   fields (a workspace, a segment) are never updated, so nothing changes
   between the look-up and the delete.

6. `distinct` becomes a `find` projected on the field, its values collected
   here: the engine's `distinct` over a workspace's events took 18 s where
   this took 0.1 s.

7. Indexes: the domain declares the compound indexes MongoDB wants
   (rules/store/collections.py); the engine uses single-field indexes only
   and a compound one costs it on every insert, so each declaration becomes
   the single-field indexes of `ENGINE_INDEXES` among its fields (and the
   collection's key field, rule 3).

8. A `bulk_write` (unordered) of upserts that `$set` fields of documents
   named by `_id` (and plain equalities) becomes an `insert_many` of the
   documents the upserts would insert, then the updates of those that
   existed: an upsert that inserts scans the collection (50 into 20,000
   schedules: 11.5 s, against 54 ms for inserting 100 of which 50 existed,
   then 91 ms for updating those 50). Each document still moves in one
   write, as with upserts. On the sqlite engine the updates go by `_id`
   alone, as in rule 5, when every existing document holds its filter's
   other fields (20 updates among 20,000: 3.2 s by `{"_id", "ws"}`,
   150 ms by `_id`; 100 upserts through the seam 11.4 s before, 0.76 s
   now); otherwise the engine's own upserts answer, as MongoDB's would.

Everything else passes through unchanged. Queries that rules 3 and 4 answer
return a `SeamCursor` with the cursor methods the domain uses (`sort`,
`skip`, `limit`, `to_list`, `close`, `async for`); any other raises.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, MutableMapping, Sequence
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import DeleteOne, UpdateOne
from pymongo.errors import BulkWriteError
from pymongo.results import BulkWriteResult, DeleteResult, InsertManyResult, InsertOneResult

from rules.store.collections import (
    DELIVERIES,
    DEVICES,
    EVENTS,
    EXPORTS,
    IDENTITIES,
    MEMBERSHIP_CHANGES,
    MEMBERSHIPS,
    PEOPLE,
    SCHEDULES,
    SEGMENTS,
    WEBHOOK_DELIVERIES,
    WEBHOOK_ENDPOINTS,
    WORKSPACES,
)

LONE_INSERT_COMPANION = "lone-insert-companion|"
DUPLICATE_KEY = 11000
WITH_COMPANION = frozenset({PEOPLE, IDENTITIES, EVENTS, DEVICES, DELIVERIES})

# Rule 3: collections whose `_id` is "{ws}|{key}", `key` stored in this indexed field.
KEY_FIELDS: dict[str, str] = {IDENTITIES: "key", DEVICES: "token", DELIVERIES: "deliveryId"}

# Rule 7: the single-field indexes the engine gets, per collection: the
# selective fields of the declared compound indexes, `ws` where a query has
# nothing narrower, and the key fields of rule 3.
ENGINE_INDEXES: dict[str, frozenset[str]] = {
    WORKSPACES: frozenset({"siteId"}),
    PEOPLE: frozenset({"ws"}),
    IDENTITIES: frozenset({"personId", "key"}),
    EVENTS: frozenset({"personId", "ws", "anonymousId"}),
    DEVICES: frozenset({"personId", "ws", "token"}),
    DELIVERIES: frozenset({"personId", "ws", "deliveryId"}),
    SEGMENTS: frozenset({"ws"}),
    MEMBERSHIPS: frozenset({"segmentId", "personId"}),
    MEMBERSHIP_CHANGES: frozenset({"segmentId", "personId", "write", "seq"}),
    SCHEDULES: frozenset({"at", "segmentId"}),
    WEBHOOK_ENDPOINTS: frozenset({"ws"}),
    WEBHOOK_DELIVERIES: frozenset({"endpointId", "status"}),
    EXPORTS: frozenset({"ws"}),
}

ENGINES = ("memory", "sqlite")

# Lookups in flight at once (rules 3 and 4).
LOOKUP_CONCURRENCY = 500


class EmbeddedDatabase:
    """A mongoeco database whose collections follow the rules above.

    `engine`: the mongoeco engine behind `database`, "memory" or "sqlite";
    rules 3 and 4 answer the way that engine is fastest."""

    def __init__(self, database: Any, *, engine: str = "memory") -> None:
        if engine not in ENGINES:
            raise ValueError(f"engine: {engine!r} is not one of {', '.join(ENGINES)}")
        self.engine_database = database  # mongoeco's own, without the seam
        self._engine = engine

    def __getitem__(self, name: str) -> EmbeddedCollection:
        return EmbeddedCollection(self.engine_database[name], engine=self._engine)

    def get_collection(self, name: str, *args: Any, **kwargs: Any) -> EmbeddedCollection:
        return EmbeddedCollection(self.engine_database.get_collection(name, *args, **kwargs), engine=self._engine)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine_database, name)


class EmbeddedCollection:
    def __init__(self, collection: Any, *, engine: str = "memory") -> None:
        self._collection = collection
        # The sqlite engine's query on an indexed field is a pass over the collection, as is an `_id` miss.
        self._sqlite = engine == "sqlite"
        self._with_companion = collection.name in WITH_COMPANION
        self._engine_indexes = ENGINE_INDEXES.get(collection.name, frozenset())
        self._indexed = self._engine_indexes - {"ws"}
        self._key_field = None if self._sqlite else KEY_FIELDS.get(collection.name)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._collection, name)

    # -- reads -------------------------------------------------------------------

    def _planned(self, filter: Any) -> Any:
        """Rule 2: the keys the engine indexes first, `ws` last, when a key other than `ws` is indexed."""
        if not isinstance(filter, dict) or self._indexed.isdisjoint(filter):
            return filter
        leading = {k: v for k, v in filter.items() if k in self._indexed}
        others = {k: v for k, v in filter.items() if k not in self._indexed and k != "ws"}
        return {**leading, **others, **({"ws": filter["ws"]} if "ws" in filter else {})}

    def find(self, filter: Any = None, projection: Any = None, *args: Any, **kwargs: Any) -> Any:
        if not args and not kwargs and isinstance(filter, dict):
            ids = _id_lookup(filter)
            if ids is not None:
                return SeamCursor(self._by_ids(ids, filter), projection, needs=_checked_here(filter))
            keyed = self._indexed_in(filter)
            if keyed is not None:
                field, keys = keyed
                return SeamCursor(self._by_keys(field, keys, filter), projection, needs={field: None})
        return self._collection.find(self._planned(filter), projection, *args, **kwargs)

    async def find_one(self, filter: Any = None, projection: Any = None, *args: Any, **kwargs: Any) -> Any:
        if not args and not kwargs and isinstance(filter, dict):
            ids = _id_lookup(filter)
            if ids is not None and len(ids) == 1:
                needs = _checked_here(filter)
                found = await self._by_ids(ids, filter)(_widened(projection, needs))
                return _narrowed(found[0], projection, needs) if found else None
        return await self._collection.find_one(self._planned(filter), projection, *args, **kwargs)

    async def count_documents(self, filter: Any, *args: Any, **kwargs: Any) -> int:
        return await self._collection.count_documents(self._planned(filter), *args, **kwargs)

    async def distinct(self, key: str, filter: Any = None, *args: Any, **kwargs: Any) -> list[Any]:
        """Rule 6."""
        if args or kwargs or "." in key:
            return await self._collection.distinct(key, filter, *args, **kwargs)
        # by MongoDB's equality: 1 and 1.0 are one value, 1 and true two
        values: dict[tuple[int, Any], Any] = {}
        async for doc in self.find(filter or {}, {key: 1}):
            if key not in doc:
                continue
            found = doc[key]
            for value in found if isinstance(found, list) else [found]:
                try:
                    values.setdefault((_type_rank(value), value), value)
                except TypeError:  # documents as values: the engine's own distinct compares them
                    return await self._collection.distinct(key, filter)
        return list(values.values())

    def _by_ids(self, ids: list[str], filter: dict[str, Any]) -> Callable[[Any], Awaitable[list[dict]]]:
        """Rule 3: one lookup per id; the reader's projection must keep the filter's fields."""
        rest = {k: v for k, v in filter.items() if k != "_id"}
        plain = _plain(rest)
        workspace = rest.get("ws")
        prefix = f"{workspace}|" if isinstance(workspace, str) else None

        async def lookup(doc_id: str, fields: Any) -> list[dict[str, Any]]:
            if not plain or (not self._sqlite and not self._indexed.isdisjoint(rest)):
                # Through the filter's indexed key (say a new event's owner): a miss costs an index lookup.
                doc = await self._collection.find_one(self._planned({"_id": doc_id, **rest}), fields)
                return [] if doc is None else [doc]
            if self._key_field is None or prefix is None or not doc_id.startswith(prefix):
                doc = await self._collection.find_one({"_id": doc_id}, fields)
                candidates = [] if doc is None else [doc]
            else:
                # The key is unique only within a workspace: keep the one whose `_id` matches.
                candidates = await self._collection.find({self._key_field: doc_id[len(prefix) :]}, fields).to_list()
            return [doc for doc in candidates if doc["_id"] == doc_id and all(doc.get(k) == v for k, v in rest.items())]

        async def run(fields: Any) -> list[dict[str, Any]]:
            found = await _gathered(list(dict.fromkeys(ids)), lambda doc_id: lookup(doc_id, fields))
            return [doc for docs in found for doc in docs]

        return run

    def _indexed_in(self, filter: dict[str, Any]) -> tuple[str, list[str]] | None:
        """Rule 4 applies: the one `$in` of string keys on a field the engine indexes (other
        fields' `$in`s stay in the rest of the filter)."""
        found = [(k, v["$in"]) for k, v in filter.items() if k in self._indexed and isinstance(v, dict) and "$in" in v]
        if len(found) != 1:
            return None
        field, keys = found[0]
        if set(filter[field]) != {"$in"} or not isinstance(keys, (list, tuple)):
            return None
        if not all(isinstance(key, str) for key in keys):
            return None
        return field, list(dict.fromkeys(keys))

    def _by_keys(self, field: str, keys: list[str], filter: dict[str, Any]) -> Callable[[Any], Awaitable[list[dict]]]:
        """Rule 4: one query per key (memory engine) or one pass kept by key (sqlite engine);
        the reader's projection must keep `field`."""
        rest = {k: v for k, v in filter.items() if k != field}

        async def per_key(fields: Any) -> list[dict[str, Any]]:
            async def one(key: str) -> list[dict[str, Any]]:
                return await self._collection.find(self._planned({field: key, **rest}), fields).to_list()

            seen: set[Any] = set()
            merged = []
            for docs in await _gathered(keys, one):
                for doc in docs:
                    if doc["_id"] not in seen:  # a multikey field may match several keys
                        seen.add(doc["_id"])
                        merged.append(doc)
            return merged

        async def one_pass(fields: Any) -> list[dict[str, Any]]:
            wanted = set(keys)
            kept = []
            async for doc in self._collection.find(self._planned(rest), fields):  # streamed: only the kept are held
                value = doc.get(field)
                if any(v in wanted for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)):
                    kept.append(doc)
            return kept

        return one_pass if self._sqlite else per_key

    # -- writes ------------------------------------------------------------------

    async def delete_many(self, filter: Any, *args: Any, **kwargs: Any) -> Any:
        if not args and not kwargs and isinstance(filter, dict):
            ids = _id_lookup(filter)
            if ids is not None:
                return await self._delete_ids(ids, {k: v for k, v in filter.items() if k != "_id"})
        return await self._collection.delete_many(self._planned(filter), *args, **kwargs)

    async def _delete_ids(self, ids: list[str], rest: dict[str, Any]) -> DeleteResult:
        """Rule 5."""
        filters: Sequence[Mapping[str, Any]] = [{"_id": doc_id, **rest} for doc_id in dict.fromkeys(ids)]
        if self._sqlite and _plain(rest):
            filters = await self._by_id_alone(filters)
        if not filters:
            return DeleteResult({"n": 0, "ok": 1.0}, acknowledged=True)
        result = await self._collection.bulk_write([DeleteOne(filter) for filter in filters], ordered=False)
        return DeleteResult({"n": result.deleted_count, "ok": 1.0}, acknowledged=True)

    async def _by_id_alone(self, filters: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """Rules 5 and 8 on the sqlite engine: `{"_id": id}` for each plain filter whose document,
        found by `_id`, holds the filter's other fields (a workspace's, a segment's: never updated)."""

        async def holds(filter: Mapping[str, Any]) -> bool:
            doc = await self._collection.find_one({"_id": filter["_id"]}, dict.fromkeys(filter, 1))
            return doc is not None and all(doc.get(k) == v for k, v in filter.items())

        held = await _gathered(filters, holds)
        return [{"_id": filter["_id"]} for filter, found in zip(filters, held) if found]

    async def bulk_write(self, requests: Iterable[Any], *, ordered: bool = True, **kwargs: Any) -> Any:
        requests = list(requests)
        documents = None if ordered or kwargs else _upserted_documents(requests)
        if documents is None:
            return await self._collection.bulk_write(requests, ordered=ordered, **kwargs)
        return await self._upsert_by_insert(requests, documents)

    async def _upsert_by_insert(self, requests: list[UpdateOne], documents: list[dict[str, Any]]) -> BulkWriteResult:
        """Rule 8."""
        try:
            await self.insert_many(documents, ordered=False)
            existing: list[int] = []
        except BulkWriteError as error:
            write_errors = error.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in write_errors):
                raise
            existing = sorted(e["index"] for e in write_errors)
        matched = modified = 0
        if existing:
            filters = [requests[i]._filter for i in existing]
            if self._sqlite:
                by_id = await self._by_id_alone(filters)
                filters = by_id if len(by_id) == len(filters) else filters
            updates = [UpdateOne(filter, requests[i]._doc) for filter, i in zip(filters, existing)]
            result = await self._collection.bulk_write(updates, ordered=False)
            if result.matched_count != len(existing):
                # An `_id` taken by a document the filter does not match: the engine's upsert says what MongoDB's does.
                result = await self._collection.bulk_write([requests[i] for i in existing], ordered=False)
            matched, modified = result.matched_count, result.modified_count
        inserted = [i for i in range(len(documents)) if i not in set(existing)]
        return BulkWriteResult(
            {
                "writeErrors": [],
                "writeConcernErrors": [],
                "nInserted": 0,
                "nUpserted": len(inserted),
                "nMatched": matched,
                "nModified": modified,
                "nRemoved": 0,
                "upserted": [{"index": i, "_id": documents[i]["_id"]} for i in inserted],
            },
            acknowledged=True,
        )

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

    async def create_index(self, keys: Any, **kwargs: Any) -> str:
        """Rule 7: the single-field indexes the engine uses, for a declared (compound) index."""
        fields = [keys] if isinstance(keys, str) else [name for name, _ in keys]
        chosen = [field for field in fields if field in self._engine_indexes]
        if KEY_FIELDS.get(self._collection.name) is not None:
            chosen.append(KEY_FIELDS[self._collection.name])
        for field in dict.fromkeys(chosen):
            await self._collection.create_index(field, name=f"{field}_1")
        return str(kwargs.get("name") or "_".join(f"{field}_1" for field in fields))


class SeamCursor:
    """The documents of a query the seam answered, with the cursor methods the domain uses on those."""

    def __init__(self, read: Callable[[Any], Awaitable[list[dict[str, Any]]]], projection: Any, *, needs: Mapping[str, Any]) -> None:
        self._read = read  # called with the projection widened to the fields it `needs` and the sort's
        self._projection = projection
        self._needs = needs
        self._order: list[tuple[str, int]] = []
        self._skip = 0
        self._limit = 0

    def sort(self, key_or_list: str | Sequence[tuple[str, int]], direction: int = 1) -> SeamCursor:
        self._order = [(key_or_list, direction)] if isinstance(key_or_list, str) else [(k, d) for k, d in key_or_list]
        return self

    def skip(self, count: int) -> SeamCursor:
        self._skip = count
        return self

    def limit(self, count: int) -> SeamCursor:
        self._limit = count
        return self

    async def to_list(self, length: int | None = None) -> list[dict[str, Any]]:
        read_fields = {**self._needs, **dict.fromkeys(name for name, _ in self._order)}
        documents = await self._read(_widened(self._projection, read_fields))
        if self._order:
            documents.sort(key=_sort_key(self._order))
        documents = documents[self._skip :]
        if self._limit:
            documents = documents[: self._limit]
        if length:
            documents = documents[:length]
        return [_narrowed(doc, self._projection, read_fields) for doc in documents]

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        for doc in await self.to_list():
            yield doc

    async def close(self) -> None:
        """Nothing to release: the documents are read whole."""

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(
            f"{name}: not supported on a query the embedded seam answers (`_id` lookups, `$in` on an indexed field); "
            "it supports sort, skip, limit, to_list, close and async iteration (api/embedded_store.py)"
        )


def _id_lookup(filter: dict[str, Any]) -> list[str] | None:
    """The string ids of an `_id` lookup (rule 3), else None."""
    if "_id" not in filter:
        return None
    wanted = filter["_id"]
    if isinstance(wanted, str):
        return [wanted]
    if isinstance(wanted, dict) and set(wanted) == {"$in"} and isinstance(wanted["$in"], (list, tuple)):
        ids = list(wanted["$in"])
        return ids if all(isinstance(i, str) for i in ids) else None
    return None


def _upserted_documents(requests: list[Any]) -> list[dict[str, Any]] | None:
    """The documents rule 8 inserts for `requests`, or None when it does not apply: each an
    `UpdateOne` upsert by a distinct string `_id` (and plain equalities) that only `$set`s fields."""
    documents = []
    for request in requests:
        if type(request) is not UpdateOne or not request._upsert:
            return None
        if any(getattr(request, option) is not None for option in ("_collation", "_array_filters", "_hint", "_sort")):
            return None
        filter, update = request._filter, request._doc
        if not isinstance(filter, Mapping) or not isinstance(filter.get("_id"), str) or not _plain(filter):
            return None
        if not isinstance(update, Mapping) or set(update) != {"$set"} or not isinstance(update["$set"], Mapping):
            return None
        fields = update["$set"]
        if any(name == "_id" or "." in name or name.startswith("$") or name in filter for name in fields):
            return None
        documents.append({"_id": filter["_id"], **{k: v for k, v in filter.items() if k != "_id"}, **fields})
    if not documents or len({doc["_id"] for doc in documents}) != len(documents):
        return None
    return documents


def _plain(filter: Mapping[str, Any]) -> bool:
    """Only string equalities on top-level fields: checked on a document by `==`."""
    return all(isinstance(v, str) and not k.startswith("$") and "." not in k for k, v in filter.items())


def _checked_here(filter: Mapping[str, Any]) -> dict[str, None]:
    """The fields rule 3 reads from the documents it finds for `filter`."""
    rest = {k: v for k, v in filter.items() if k != "_id"}
    return dict.fromkeys(["_id", *rest] if _plain(rest) else ["_id"])


def _inclusion(projection: Any) -> bool:
    """A projection that names the fields to keep (rather than those to drop)."""
    if not isinstance(projection, Mapping) or not projection:
        return False
    others = [v for k, v in projection.items() if k != "_id"]
    return any(others) if others else bool(projection["_id"])


def _widened(projection: Any, needed: Mapping[str, Any]) -> Any:
    """`projection`, keeping also the fields the seam reads (`needed`) when it names what to keep."""
    if not _inclusion(projection):
        return projection
    return {**projection, **{name: 1 for name in needed if not projection.get(name, name == "_id")}}


def _narrowed(document: dict[str, Any], projection: Any, added: Mapping[str, Any]) -> dict[str, Any]:
    """The document as `projection` alone gives it: without the fields `_widened` added."""
    if not _inclusion(projection):
        return document
    return {k: v for k, v in document.items() if k not in added or projection.get(k, k == "_id")}


async def _gathered(keys: Sequence[Any], lookup: Callable[[Any], Awaitable[Any]]) -> list[Any]:
    """`lookup` of every key, in order, at most LOOKUP_CONCURRENCY in flight."""
    results: list[Any] = []
    for start in range(0, len(keys), LOOKUP_CONCURRENCY):
        results.extend(await asyncio.gather(*(lookup(key) for key in keys[start : start + LOOKUP_CONCURRENCY])))
    return results


# MongoDB's order between types (BSON comparison order), for the types documents hold.
def _type_rank(value: Any) -> int:
    if value is None:
        return 1
    if isinstance(value, bool):
        return 8
    if isinstance(value, (int, float)):
        return 2
    if isinstance(value, str):
        return 3
    if isinstance(value, Mapping):
        return 4
    if isinstance(value, list):
        return 5
    if isinstance(value, datetime):
        return 9
    return 6


def _sort_key(order: Sequence[tuple[str, int]]) -> Callable[[dict[str, Any]], tuple]:
    def key(document: dict[str, Any]) -> tuple:
        parts = []
        for name, direction in order:
            value = document.get(name)
            rank = (_type_rank(value), value if _type_rank(value) in (2, 3, 8, 9) else repr(value))
            parts.append(rank if direction == 1 else _Descending(rank))
        return tuple(parts)

    return key


class _Descending:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Descending) -> bool:
        return other.value < self.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and other.value == self.value
