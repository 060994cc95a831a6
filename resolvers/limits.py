"""Request limits of the GraphQL endpoint that Strawberry has no extension
for: the size of the query document in bytes (a validation rule, so the
answer is an ordinary GraphQL error naming the limit; the token limit has
already bounded the parsing) and the size of an uploaded CSV file.
Aliases, depth and tokens use Strawberry's own limiters (resolvers/schema.py),
page sizes `Settings.max_page_size` (resolvers/pagination.py)."""

from __future__ import annotations

from typing import Any, Protocol

from graphql import GraphQLError, ValidationContext, ValidationRule
from strawberry.extensions import AddValidationRules


class GraphQLLimits(Protocol):
    """The limits `build_schema` applies (api.settings.Settings has them)."""

    @property
    def graphql_max_depth(self) -> int: ...
    @property
    def graphql_max_tokens(self) -> int: ...
    @property
    def graphql_max_query_bytes(self) -> int: ...
    @property
    def graphql_max_aliases(self) -> int: ...


def max_query_bytes_limiter(max_bytes: int) -> AddValidationRules:
    class MaxQueryBytes(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            location = context.document.loc
            size = len(location.source.body.encode()) if location is not None else 0
            if size > max_bytes:
                context.report_error(
                    GraphQLError(f"query: the document is {size} bytes; at most {max_bytes} are allowed (SEGMENTS_GRAPHQL_MAX_QUERY_BYTES)")
                )

    return AddValidationRules([MaxQueryBytes])


def upload_size(binary: Any) -> int:
    """Bytes in an uploaded file (spooled by Starlette), read from its end."""
    position = binary.tell()
    size = binary.seek(0, 2)
    binary.seek(position)
    return size
