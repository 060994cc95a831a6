"""`membershipChanges` over graphql-transport-ws with a real websocket client,
fed by Track API calls."""

from __future__ import annotations

import json
import time
from contextlib import contextmanager

from websockets.sync.client import connect

SUBSCRIBE = "subscription($id: ID!) { membershipChanges(segmentId: $id) { kind segmentId person { id } } }"
CREATE = """mutation($c: ConditionInput!) { createSegment(input: {name: "Big", condition: $c}) { ... on Segment { id } } }"""


@contextmanager
def _subscribe(server, ws, segment_id: str):
    url = server.base_url.replace("http://", "ws://") + "/graphql"
    with connect(url, subprotocols=["graphql-transport-ws"], open_timeout=10) as socket:
        socket.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {ws['appApiKey']}"}}))
        assert json.loads(socket.recv(10))["type"] == "connection_ack"
        subscribe = {"query": SUBSCRIBE, "variables": {"id": segment_id}}
        socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))
        yield socket


def _subscribers(server, ws, segment_id: str) -> int:
    async def count(services):
        return services.webhooks.signal.follower_count(ws["workspaceId"], segment_id)

    return server.call(count)


def test_changes_caused_by_track_calls_arrive_over_the_websocket(server):
    ws, other = server.create_workspace("a"), server.create_workspace("b")
    condition = {"attribute": {"path": "lifetime_value", "op": "GT", "value": 25000}}
    segment_id = server.graphql(ws, CREATE, {"c": condition})["data"]["createSegment"]["id"]
    server.call(lambda services: services.membership.wait_for_builds())

    with _subscribe(server, ws, segment_id) as socket:
        deadline = time.monotonic() + 10
        while _subscribers(server, ws, segment_id) == 0:
            assert time.monotonic() < deadline, "the subscription never started"
            time.sleep(0.02)
        with server.track(ws) as track:
            assert track.put("/api/v1/customers/ann", json={"lifetime_value": 30000}).status_code == 200
            assert track.put("/api/v1/customers/bob", json={"lifetime_value": 10}).status_code == 200
            assert track.put("/api/v1/customers/ann", json={"lifetime_value": 10}).status_code == 200
        received = [json.loads(socket.recv(10)) for _ in range(2)]
        assert [m["type"] for m in received] == ["next", "next"]
        assert [m["payload"]["data"]["membershipChanges"] for m in received] == [
            {"kind": "ENTERED", "segmentId": segment_id, "person": {"id": "ann"}},
            {"kind": "EXITED", "segmentId": segment_id, "person": {"id": "ann"}},
        ]

    # Another workspace cannot subscribe to this segment.
    with _subscribe(server, other, segment_id) as socket:
        refused = json.loads(socket.recv(10))
        assert refused["type"] == "next" and "does not exist" in refused["payload"]["errors"][0]["message"]
