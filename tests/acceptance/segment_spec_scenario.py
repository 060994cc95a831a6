"""One Segment-spec scenario sent by each analytics SDK (segment-analytics-python,
rudder-sdk-python, @segment/analytics-node), and what GraphQL must then show.

Steps, in one batch: an anonymous track by anon-7; identify u1 (merging anon-7,
with a device in its context); a track sent twice with the same messageId; a
page; a screen; alias anon-8 to u1; group u1 into acme. A data-driven segment
on the track event exists before; u1 must be in it within a second of the
SDK's flush returning.
"""

from __future__ import annotations

import time
from typing import Any

ORDER_SEGMENT = {"event": {"name": "Order Completed", "filters": [{"path": "total", "op": "GTE", "value": 40}]}}
CREATE = """mutation($input: CreateSegmentInput!) { createSegment(input: $input) {
  __typename ... on Segment { id } ... on ValidationError { message } } }"""
MEMBERS = """query($id: ID!) { segment(id: $id) { memberCount members(first: 5) { edges { node { id } } } } }"""
PERSON = """query { person(id: "u1") {
  id email attributes
  devices { token platform attributes }
  events(first: 20) { totalCount edges { node { type name data context } } } } }"""
EXPECTED_EVENTS = sorted(
    [
        ("EVENT", "Viewed Offer", repr({"offer": 7})),
        ("EVENT", "Order Completed", repr({"total": 42})),
        ("PAGE", "https://shop.example/offers/7", repr({"url": "https://shop.example/offers/7", "name": "Offer"})),
        ("SCREEN", "Home", repr({"tab": "feed"})),
        ("EVENT", "group", repr({"group_id": "acme", "traits": {"name": "Acme"}})),
    ]
)


def create_order_segment(server: Any, workspace: dict) -> str:
    created = server.graphql(workspace, CREATE, {"input": {"name": "Big orders", "type": "DATA_DRIVEN", "condition": ORDER_SEGMENT}})
    return created["data"]["createSegment"]["id"]


def send_with_python_sdk(client: Any) -> None:
    """The scenario through segment-analytics-python's or rudder-sdk-python's Client (same API)."""
    client.track(anonymous_id="anon-7", event="Viewed Offer", properties={"offer": 7})
    client.identify("u1", {"email": "u1@example.com", "plan": "pro"}, anonymous_id="anon-7",
                    context={"device": {"id": "dev-u1", "type": "ios", "model": "iPhone15,2"}})
    for _ in range(2):  # a retried call: the same messageId is one event
        client.track("u1", "Order Completed", {"total": 42}, message_id="order-1")
    client.page("u1", name="Offer", properties={"url": "https://shop.example/offers/7"})
    client.screen("u1", name="Home", properties={"tab": "feed"})
    client.alias(previous_id="anon-8", user_id="u1")
    client.group("u1", "acme", {"name": "Acme"})


def check_member_within_a_second(server: Any, workspace: dict, segment_id: str, flushed_at: float) -> float:
    """Polls the segment until u1 is a member; returns the seconds it took after the flush."""
    while True:
        segment = server.graphql(workspace, MEMBERS, {"id": segment_id})["data"]["segment"]
        if segment["memberCount"] == 1:
            waited = time.monotonic() - flushed_at
            assert [e["node"]["id"] for e in segment["members"]["edges"]] == ["u1"]
            assert waited <= 1.0, f"u1 entered {waited:.2f}s after the flush"
            return waited
        assert time.monotonic() - flushed_at <= 1.0, f"u1 not in the segment 1 s after the flush: {segment}"
        time.sleep(0.02)


def check_graphql(server: Any, workspace: dict) -> None:
    """GraphQL shows exactly what the SDK sent."""
    person = server.graphql(workspace, PERSON)["data"]["person"]
    assert (person["id"], person["email"], person["attributes"]) == ("u1", "u1@example.com", {"plan": "pro"})
    assert person["devices"] == [{"token": "dev-u1", "platform": "ios", "attributes": {"model": "iPhone15,2"}}]
    events = [edge["node"] for edge in person["events"]["edges"]]
    assert person["events"]["totalCount"] == len(EXPECTED_EVENTS)
    assert sorted((e["type"], e["name"], repr(e["data"])) for e in events) == EXPECTED_EVENTS
    for event in events:  # the SDK's context is kept: it names itself
        assert isinstance(event["context"]["library"]["name"], str), event
