"""Errors a client is meant to see.

Two kinds, as Strawberry's error guide recommends:
- `UserError`: raised by a resolver for a bad request (a wrong argument, a
  page size over the cap). The error masker in api/graphql_app.py lets it
  through with its message; any other exception raised while resolving is
  masked as "Unexpected error.".
- Error result types for mutation unions (`Segment | ValidationError |
  NotFoundError`): errors as data, each a type whose name ends in `Error`
  and that carries a `message` (CONTRACT 3.2).
"""

from __future__ import annotations

import strawberry
from graphql import GraphQLError


class UserError(Exception):
    """A problem with the request, reported to the client verbatim.

    `extensions` (e.g. a list of validation problems) reach the client in
    the error's `extensions`, as GraphQL carries them from the original error."""

    def __init__(self, message: str, *, extensions: dict | None = None) -> None:
        super().__init__(message)
        if extensions is not None:
            self.extensions = extensions


def should_mask_error(error: GraphQLError) -> bool:
    # Errors without a path come from parsing, validation (depth and token
    # limits included) or variable coercion: they describe the request and
    # are safe to show. Errors raised while resolving are masked unless a
    # resolver raised them on purpose.
    return error.path is not None and not isinstance(error.original_error, UserError)


@strawberry.interface(description="Implemented by every error member of a mutation result union.")
class Error:
    message: str


@strawberry.type(description="The object named in the request does not exist in this workspace.")
class NotFoundError(Error):
    pass


@strawberry.type(description="One problem found in an input, located by a JSON pointer.")
class ValidationProblem:
    path: str = strawberry.field(description="JSON pointer into the input, e.g. /condition/all/0/attribute/op.")
    code: str
    message: str


@strawberry.type(description="The input was rejected; every problem found is listed.")
class ValidationError(Error):
    problems: list[ValidationProblem]


# Types that no field references yet are still part of the schema, so that
# mutation unions across domain packages share one shape.
ERROR_TYPES: tuple[type, ...] = (NotFoundError, ValidationError)
