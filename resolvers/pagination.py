"""Relay connections over a collection, with keyset (cursor) paging.

A cursor is the sort key of the last edge a client saw, base64-encoded so
clients treat it as opaque. Paging continues strictly after that key, so a
page never repeats or skips documents when others are inserted meanwhile.
The sort order always ends with `_id`, which makes every key unique.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import strawberry

from resolvers.errors import UserError
from rules.store.types import Collection

NodeT = TypeVar("NodeT")

DEFAULT_PAGE_SIZE = 50

# The `$type` alias a keyset comparison is guarded with: range operators
# must not compare across types (docs/decisions.md #6).
_BSON_TYPE = {int: "number", float: "number", str: "string"}
_MAX_SAFE_INTEGER = 2**53


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeT]):
    node: NodeT
    cursor: str


@strawberry.type
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo
    # Counting is a separate query, run only when the client asks for it.
    count_matching: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many nodes match, across all pages.")
    async def total_count(self) -> int:
        return await self.count_matching()


@dataclass(frozen=True, kw_only=True)
class SortOrder:
    """Fields to sort on, each with 1 (ascending) or -1 (descending); ends with `_id`."""

    fields: tuple[tuple[str, int], ...]

    def __post_init__(self) -> None:
        if not self.fields or self.fields[-1][0] != "_id":
            raise ValueError("a sort order must end with _id so that cursors are unique")

    def key_of(self, document: dict[str, Any]) -> list[Any]:
        return [document.get(name) for name, _ in self.fields]

    def after(self, key: list[Any]) -> dict[str, Any]:
        """The filter for documents strictly after `key` in this order."""
        alternatives = []
        for position, (name, direction) in enumerate(self.fields):
            value = key[position]
            equal_before = {self.fields[i][0]: key[i] for i in range(position)}
            operator = "$gt" if direction == 1 else "$lt"
            alternatives.append({**equal_before, name: {operator: value, "$type": _BSON_TYPE[type(value)]}})
        return alternatives[0] if len(alternatives) == 1 else {"$or": alternatives}


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def _storable(value: Any) -> bool:
    """A key value a query can carry: forged cursors may hold NaN, 1e400 or ints past 64 bits."""
    return isinstance(value, str) or (math.isfinite(value) and abs(value) <= _MAX_SAFE_INTEGER)


def decode_cursor(cursor: str, order: SortOrder) -> list[Any]:
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except ValueError:
        key = None
    valid = (
        isinstance(key, list)
        and len(key) == len(order.fields)
        and all(type(value) in _BSON_TYPE and _storable(value) for value in key)
    )
    if not valid:
        raise UserError("after: not a cursor returned by this connection")
    return key


def page_size(first: int | None, *, max_page_size: int) -> int:
    if first is None:
        return min(DEFAULT_PAGE_SIZE, max_page_size)
    if first < 0 or first > max_page_size:
        raise UserError(f"first: must be between 0 and {max_page_size}, got {first}")
    return first


async def paginate(
    collection: Collection,
    *,
    match: dict[str, Any],
    order: SortOrder,
    first: int | None,
    after: str | None,
    max_page_size: int,
    to_node: Callable[[dict[str, Any]], NodeT],
) -> Connection[NodeT]:
    """One page of `collection` documents matching `match` (which must filter on `ws`)."""
    size = page_size(first, max_page_size=max_page_size)
    page_match = match if after is None else {"$and": [match, order.after(decode_cursor(after, order))]}
    # One extra document tells whether a next page exists.
    documents = await collection.find(page_match).sort(list(order.fields)).limit(size + 1).to_list()

    async def count_matching() -> int:
        return await collection.count_documents(match)

    return connection_of(documents, size=size, after=after, order=order, to_node=to_node, count_matching=count_matching)


def connection_of(
    documents: list[dict[str, Any]],
    *,
    size: int,
    after: str | None,
    order: SortOrder,
    to_node: Callable[[dict[str, Any]], NodeT],
    count_matching: Callable[[], Awaitable[int]],
) -> Connection[NodeT]:
    """The connection of one page: `documents` in `order`, one more than `size` if a next page exists."""
    edges = [Edge(node=to_node(doc), cursor=encode_cursor(order.key_of(doc))) for doc in documents[:size]]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(documents) > size,
            # A cursor names an edge the client has seen, so something precedes this page.
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        count_matching=count_matching,
    )
