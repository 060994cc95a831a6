"""The in-memory working set of one group of Track API requests.

Operations are applied to documents loaded from the store, in memory and in
order; each request can be rolled back on its own (so a rejected request
leaves nothing behind while the others of its group still commit); the
result is written afterwards with grouped writes (see rules/ingest/apply.py).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from rules.json_values import same_value


class _Absent:
    """Marks a key that the store does not hold."""


ABSENT = _Absent()


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
