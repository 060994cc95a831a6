"""The in-memory working set of one group of Track API requests.

Operations are applied to documents loaded from the store, in memory and in
order; each request can be rolled back on its own (so a rejected request
leaves nothing behind while the others of its group still commit); the
result is written afterwards with grouped writes (see rules/ingest/apply.py).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from rules.json_values import same_value
from rules.store.collections import DELIVERIES, DEVICES, EVENTS, IDENTITIES, PEOPLE
from rules.store.types import Database
from rules.topics import Topic


class _Absent(Enum):
    """Marks a key that the store does not hold (an enum, so that `is ABSENT` narrows types)."""

    ABSENT = "absent"


ABSENT = _Absent.ABSENT


class Table:
    """The documents of one collection, keyed by `_id`: as loaded, and as changed so far.

    Documents held here are never changed in place: get() hands out a copy
    and put() stores a new document, so the loaded originals (for the diff)
    and the undo log can share them without copying.
    """

    def __init__(self, collection: str) -> None:
        self.collection = collection
        self._original: dict[str, dict[str, Any] | _Absent] = {}
        self._current: dict[str, dict[str, Any] | None] = {}
        self._undo: dict[str, dict[str, Any] | None | _Absent] = {}

    def missing(self, keys: set[str]) -> list[str]:
        """Keys neither loaded nor created yet."""
        return [key for key in keys if key not in self._original and key not in self._current]

    def loaded(self, docs: list[dict[str, Any]], keys: list[str]) -> None:
        found = {doc["_id"]: doc for doc in docs}
        for key in keys:
            doc = found.get(key, ABSENT)
            self._original[key] = doc
            self._current[key] = None if doc is ABSENT else doc

    def peek(self, key: str) -> dict[str, Any] | None:
        """The document itself, to read only (no copy: this is the hot path)."""
        return self._current.get(key)

    def get(self, key: str) -> dict[str, Any] | None:
        """A copy to read or change; hand a changed copy back with put()."""
        doc = self._current.get(key)
        return None if doc is None else copy.deepcopy(doc)

    def require(self, key: str) -> dict[str, Any]:
        """A copy of a document the caller knows is held (loaded or created); its absence is a bug, named here."""
        doc = self.get(key)
        if doc is None:
            raise LookupError(f"{self.collection} {key!r} is not in the working set")
        return doc

    def put(self, key: str, doc: dict[str, Any]) -> None:
        self._remember(key)
        self._current[key] = doc

    def delete(self, key: str) -> None:
        self._remember(key)
        self._current[key] = None

    def current_docs(self) -> list[dict[str, Any]]:
        return [doc for doc in self._current.values() if doc is not None]

    def owned_by(self, person_id: str) -> list[str]:
        """Keys of the documents currently held for this person (loaded or new)."""
        return [key for key, doc in self._current.items() if doc is not None and doc.get("personId") == person_id]

    def _remember(self, key: str) -> None:
        if key not in self._undo:
            self._undo[key] = self._current[key] if key in self._current else ABSENT

    def checkpoint(self) -> None:
        self._undo = {}

    def rollback(self) -> None:
        for key, doc in self._undo.items():
            if doc is ABSENT:
                self._current.pop(key, None)
            else:
                self._current[key] = doc
        self._undo = {}

    def changes(self) -> tuple[list[dict[str, Any]], list[tuple[dict[str, Any], dict[str, Any]]], list[str]]:
        """(documents to insert, (original, final) pairs to update, keys to delete)."""
        inserts, updates, deletes = [], [], []
        for key, doc in self._current.items():
            original = self._original.get(key, ABSENT)
            if doc is None:
                if original is not ABSENT:
                    deletes.append(key)
            elif original is ABSENT:
                inserts.append(doc)
            elif not same_value(doc, original):
                updates.append((original, doc))
        return inserts, updates, deletes


@dataclass(frozen=True, kw_only=True)
class SetOperation:
    """A write to every matching document (a person's events, devices, ...), run after the keyed writes, in order."""

    collection: str
    filter: dict[str, Any]
    update: dict[str, Any] | None  # None: delete the matching documents


@dataclass(kw_only=True)
class Journal:
    """What a group changes beyond the keyed tables: new events and set operations, in order."""

    events: list[dict[str, Any]] = field(default_factory=list)
    set_operations: list[SetOperation] = field(default_factory=list)


class WorkingSet:
    """Everything one group of requests reads and changes: the keyed tables
    (loaded from the store on first use), the journal of new events and set
    operations, the client event ids seen, and the topics of the request
    being applied. checkpoint() and rollback() cover all of it at once."""

    def __init__(self, db: Database, workspace_id: str, now: float) -> None:
        self.db = db
        self.ws = workspace_id
        self.now = now
        self.people = Table(PEOPLE)
        self.identities = Table(IDENTITIES)
        self.devices = Table(DEVICES)
        self.deliveries = Table(DELIVERIES)
        # In the order rules/ingest/write.py writes them: identities are the uniqueness check.
        self.tables = (self.identities, self.people, self.devices, self.deliveries)
        self.journal = Journal()
        self.known_event_ids: set[str] = set()
        # anonymous id -> topics of its not yet identified events in the store
        self.anonymous_topics: dict[str, set[Topic]] = {}
        # person id -> topics, for the request being applied
        self.topics: dict[str, set[Topic]] = {}
        self._saved: tuple[int, int, set[str]] = (0, 0, set())

    async def load(self, table: Table, keys: Iterable[str]) -> None:
        missing = table.missing(set(keys))
        if missing:
            found = await self.db[table.collection].find({"ws": self.ws, "_id": {"$in": missing}}).to_list()
            table.loaded(found, missing)

    async def person(self, person_id: str) -> dict[str, Any]:
        """A copy of a person already resolved (IdentityResolver) to change; hand it back with people.put."""
        await self.load(self.people, [person_id])
        return self.people.require(person_id)

    def is_suppressed(self, person_id: str) -> bool:
        doc = self.people.peek(person_id)
        return bool(doc and doc.get("suppressed"))

    async def event_stored(self, doc_id: str, person_id: str | None, anonymous_id: str | None) -> bool:
        # Looked up with its owner, the events' shard key and index prefix
        # (a new event's id is usually not stored, and a miss through the
        # owner's index is cheap). An id stored under another owner is still
        # caught by the insert, which skips duplicate `_id`s (rules/ingest/write.py).
        owner = {"personId": person_id} if person_id is not None else {"anonymousId": anonymous_id}
        return await self.db[EVENTS].find_one({"ws": self.ws, **owner, "_id": doc_id}, {"_id": 1}) is not None

    def touch(self, person_id: str, *topics: Topic) -> None:
        self.topics.setdefault(person_id, set()).update(topics)

    def checkpoint(self) -> None:
        """Start a request: what it changes from here on can be rolled back."""
        for table in self.tables:
            table.checkpoint()
        self._saved = (len(self.journal.events), len(self.journal.set_operations), set(self.known_event_ids))
        self.topics = {}

    def rollback(self) -> None:
        """Undo everything since the last checkpoint."""
        for table in self.tables:
            table.rollback()
        events, set_operations, self.known_event_ids = self._saved
        del self.journal.events[events:]
        del self.journal.set_operations[set_operations:]
        self.topics = {}
