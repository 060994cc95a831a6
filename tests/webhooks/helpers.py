"""GraphQL calls of the webhook tests."""

from __future__ import annotations

from typing import Any

CREATE_SEGMENT = """mutation($input: CreateSegmentInput!) { createSegment(input: $input) { ... on Segment { id } ... on Error { message } } }"""

CREATE_ENDPOINT = """
mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) {
    __typename
    ... on CreatedWebhookEndpoint { secret endpoint { id url segmentIds kinds enabled timeoutSeconds } }
    ... on ValidationError { message problems { path code message } }
  }
}
"""

DELIVERIES = """
query { webhookEndpoints { id enabled disabledReason
  deliveries(first: 100) { totalCount edges { node {
    id status changeCount nextAttemptAt deliveredAt attempts { at statusCode latencyMs error manual } } } } } }
"""

HISTORY = """
query($id: ID!, $after: String) { segment(id: $id) { changes(first: 500, after: $after) {
  pageInfo { hasNextPage endCursor } edges { node { changeId cursor kind personCioId } } } } }
"""


def gql(server: Any, ws: dict, query: str, variables: dict | None = None) -> dict:
    body = server.graphql(ws, query, variables)
    assert "errors" not in body, body
    return body["data"]


def create_segment(server: Any, ws: dict, name: str, condition: dict | None = None) -> str:
    segment_input = {"name": name, "type": "MANUAL"} if condition is None else {"name": name, "condition": condition}
    created = gql(server, ws, CREATE_SEGMENT, {"input": segment_input})["createSegment"]
    assert "id" in created, created
    return created["id"]


def create_endpoint(server: Any, ws: dict, **fields: Any) -> dict:
    created = gql(server, ws, CREATE_ENDPOINT, {"input": fields})["createWebhookEndpoint"]
    assert created["__typename"] == "CreatedWebhookEndpoint", created
    return created


def history(server: Any, ws: dict, segment_id: str) -> list[dict]:
    """The segment's recorded changes, oldest first."""
    changes, after = [], None
    while True:
        page = gql(server, ws, HISTORY, {"id": segment_id, "after": after})["segment"]["changes"]
        changes += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return sorted(changes, key=lambda c: int(c["cursor"]))
        after = page["pageInfo"]["endCursor"]


def deliveries(server: Any, ws: dict) -> list[dict]:
    """Every delivery of the workspace's only endpoint, oldest first, and the endpoint."""
    (endpoint,) = gql(server, ws, DELIVERIES)["webhookEndpoints"]
    return [edge["node"] for edge in reversed(endpoint["deliveries"]["edges"])], endpoint
