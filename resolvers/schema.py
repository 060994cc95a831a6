"""The GraphQL schema, composed from the domain packages.

To add a domain: create resolvers/<domain>/ with its types and a root class
per operation kind (e.g. `SegmentsQuery`, `SegmentsMutation`,
`SegmentsSubscription`), then append those classes to the tuples below and
run `make schema`.
"""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from resolvers.errors import ERROR_TYPES, should_mask_error
from resolvers.limits import GraphQLLimits, max_query_bytes_limiter
from resolvers.people.queries import PeopleQuery
from resolvers.segments.manual import ManualSegmentsMutation
from resolvers.segments.mutations import SegmentsMutation
from resolvers.segments.queries import SegmentsQuery
from resolvers.segments.subscriptions import SegmentsSubscription
from resolvers.webhooks.mutations import WebhooksMutation
from resolvers.webhooks.queries import WebhooksQuery
from resolvers.workspace.mutations import WorkspacesMutation
from resolvers.workspace.queries import WorkspaceQuery

QUERIES: tuple[type, ...] = (PeopleQuery, SegmentsQuery, WorkspaceQuery, WebhooksQuery)
MUTATIONS: tuple[type, ...] = (SegmentsMutation, ManualSegmentsMutation, WorkspacesMutation, WebhooksMutation)
SUBSCRIPTIONS: tuple[type, ...] = (SegmentsSubscription,)


def _merged(name: str, roots: tuple[type, ...]) -> type | None:
    # GraphQL forbids a root type without fields: leave it out until a domain adds one.
    return merge_types(name, roots) if roots else None


class SegmentsSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        # Log only the server's faults, not a client's bad request.
        super().process_errors([error for error in errors if should_mask_error(error)], execution_context)


def build_schema(limits: GraphQLLimits) -> strawberry.Schema:
    # The limits' validation rules are built once: the validation cache's key
    # holds the rule classes, and a limiter built per operation makes new ones.
    limiters = [
        QueryDepthLimiter(max_depth=limits.graphql_max_depth),
        max_query_bytes_limiter(limits.graphql_max_query_bytes),
        MaxAliasesLimiter(max_alias_count=limits.graphql_max_aliases),
    ]
    limit_rules = [rule for limiter in limiters for rule in limiter.validation_rules]
    return SegmentsSchema(
        query=merge_types("Query", QUERIES),  # never empty: every domain has queries
        mutation=_merged("Mutation", MUTATIONS),
        subscription=_merged("Subscription", SUBSCRIPTIONS),
        types=ERROR_TYPES,
        # Factories: Strawberry builds fresh extensions for every operation.
        extensions=[
            lambda: AddValidationRules(limit_rules),
            lambda: MaxTokensLimiter(max_token_count=limits.graphql_max_tokens),
            lambda: MaskErrors(should_mask_error=should_mask_error),
            # Clients send the same few documents again and again: parsing and
            # validating one took 17 of the 30 ms of the dashboard query
            # (docs/scaling.md). Bounded caches (128 documents each).
            lambda: ParserCache(),
            lambda: ValidationCache(),
        ],
    )
