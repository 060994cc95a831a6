"""A running service with two seeded workspaces, A and B, for the
adversarial suites; and how many generated cases they run.

Both workspaces hold a person with the same profile id and email
(`shared`), one person of their own (`only-a` / `only-b`), activity of every
kind, a data-driven and a manual segment with members and history. cioIds
and segment ids are `_id`s, unique across the store, so those exist in one
workspace only by construction.

`SEGMENTS_SECURITY_PROFILE=deep` (or `make test-security-deep`) multiplies
the generated cases.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest

from rules.clock import SystemClock
from tests.conftest import make_settings, start_server

DEEP = os.environ.get("SEGMENTS_SECURITY_PROFILE") == "deep"
GRAPHQL_CASES = 10_000 if DEEP else 600
TRACK_CASES = 5_000 if DEEP else 600

COLLECTIONS = (
    "people", "identities", "events", "devices", "deliveries",
    "segments", "memberships", "membership_changes", "schedules",
    "webhook_endpoints", "webhook_deliveries", "exports",
)  # fmt: skip

CREATE = """mutation($input: CreateSegmentInput!) { createSegment(input: $input) { __typename ... on Segment { id } } }"""
ADD = """mutation($s: ID!, $ids: [String!]!) { addPeopleToSegment(segmentId: $s, ids: $ids) { __typename } }"""
HOOK = """mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { __typename ... on CreatedWebhookEndpoint { endpoint { id } } } }"""
CURSORS = """query($s: ID!) {
  people(first: 1) { pageInfo { endCursor } }
  segment(id: $s) { members(first: 1) { pageInfo { endCursor } } changes(first: 1) { pageInfo { endCursor } } }
  person(id: "shared") { events(first: 1) { pageInfo { endCursor } } deliveries(first: 1) { pageInfo { endCursor } } }
}"""


@dataclass
class Tenant:
    name: str
    workspace: dict[str, str]  # workspaceId, siteId, trackApiKey, appApiKey
    cio_ids: dict[str, str] = field(default_factory=dict)  # profile id -> cioId
    segment_ids: dict[str, str] = field(default_factory=dict)  # "data" / "manual" -> id
    cursors: list[str] = field(default_factory=list)
    endpoint_ids: list[str] = field(default_factory=list)  # webhook endpoints

    @property
    def own_id(self) -> str:
        return f"only-{self.name}"

    @property
    def own_email(self) -> str:
        return f"only-{self.name}@example.com"

    @property
    def markers(self) -> set[str]:
        """Strings that only this workspace holds: seeing one from the other key is a leak."""
        return {
            self.own_id, self.own_email, f"token-of-{self.name}", f"event-of-{self.name}",
            f"/page-of-{self.name}", f"secret-of-{self.name}", *self.cio_ids.values(), *self.segment_ids.values(),
            *self.endpoint_ids,
        }  # fmt: skip


def seed(server, name: str) -> Tenant:
    """A workspace filled through the Track API and GraphQL, as a client would."""
    tenant = Tenant(name, server.create_workspace(name))
    with server.track(tenant.workspace) as track:
        for profile_id in ("shared", tenant.own_id):
            email = "shared@example.com" if profile_id == "shared" else tenant.own_email
            attributes = {"email": email, "plan": "pro", "note": f"secret-of-{name}", "lifetime_value": 30000}
            assert track.put(f"/api/v1/customers/{profile_id}", json=attributes).status_code == 200
            events = f"/api/v1/customers/{profile_id}/events"
            assert track.post(events, json={"name": f"event-of-{name}", "data": {"secret": f"secret-of-{name}"}}).status_code == 200
            assert track.post(events, json={"name": f"/page-of-{name}", "type": "page"}).status_code == 200
            device = {"device": {"id": f"token-of-{name}-{profile_id}", "platform": "ios"}}
            assert track.put(f"/api/v1/customers/{profile_id}/devices", json=device).status_code == 200
        delivery = {
            "type": "delivery", "action": "sent", "identifiers": {"id": f"secret-of-{name}-delivery"},
            "person": {"id": "shared"}, "attributes": {"message_id": "m1", "channel": "email"},
        }  # fmt: skip
        assert track.post("/api/v2/entity", json=delivery).status_code == 200
    people = server.graphql(tenant.workspace, "{ people(first: 10) { edges { node { cioId id } } } }")
    tenant.cio_ids = {edge["node"]["id"]: edge["node"]["cioId"] for edge in people["data"]["people"]["edges"]}
    condition = {"attribute": {"path": "plan", "op": "EQ", "value": "pro"}}
    for kind, draft in (
        ("data", {"name": f"secret-of-{name} pro", "condition": condition}),
        ("manual", {"name": f"secret-of-{name} manual", "type": "MANUAL"}),
    ):
        created = server.graphql(tenant.workspace, CREATE, {"input": draft})["data"]["createSegment"]
        tenant.segment_ids[kind] = created["id"]
    added = server.graphql(tenant.workspace, ADD, {"s": tenant.segment_ids["manual"], "ids": ["shared", tenant.own_id]})
    assert added["data"]["addPeopleToSegment"]["__typename"] == "PeopleAddedToSegment", added
    hook = {"url": f"http://127.0.0.1:9/hook/secret-of-{name}", "enabled": False}
    created = server.graphql(tenant.workspace, HOOK, {"input": hook})["data"]["createWebhookEndpoint"]
    assert created["__typename"] == "CreatedWebhookEndpoint", created
    tenant.endpoint_ids = [created["endpoint"]["id"]]
    server.call(lambda services: services.membership.wait_for_builds())
    found = server.graphql(tenant.workspace, CURSORS, {"s": tenant.segment_ids["data"]})["data"]
    tenant.cursors = sorted(
        {
            found["people"]["pageInfo"]["endCursor"],
            found["segment"]["members"]["pageInfo"]["endCursor"],
            found["segment"]["changes"]["pageInfo"]["endCursor"],
            found["person"]["events"]["pageInfo"]["endCursor"],
            found["person"]["deliveries"]["pageInfo"]["endCursor"],
        }
        - {None}
    )
    return tenant


def store_contents(server, tenant: Tenant) -> dict[str, list[dict]]:
    """Every document of the workspace, in a stable order."""
    ws = tenant.workspace["workspaceId"]

    async def read(services):
        return {name: await services.db[name].find({"ws": ws}).sort("_id", 1).to_list() for name in COLLECTIONS}

    return server.call(read)


@pytest.fixture(scope="module")
def two_workspaces():
    running, stop = start_server(make_settings(), SystemClock())
    try:
        yield running, seed(running, "a"), seed(running, "b")
    finally:
        stop()
