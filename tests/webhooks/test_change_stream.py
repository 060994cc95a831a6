"""The resumable change stream: `membershipChanges(segmentId, after)` over a
real websocket and `GET /api/v1/segments/{id}/changes`, in one process and
across two `segments serve` processes on one store."""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import contextmanager

import httpx
from websockets.sync.client import connect

from api.settings import Settings
from api.store import open_store
from rules.workspaces import create_workspace
from tests.fault.service import Service
from tests.webhooks.helpers import create_segment

SUBSCRIBE = """subscription($id: ID!, $after: String) {
  membershipChanges(segmentId: $id, after: $after) { kind cursor changeId person { id } } }"""
PRO = {"attribute": {"path": "plan", "op": "EQ", "value": "pro"}}


@contextmanager
def _subscribe(base_url: str, ws: dict, segment_id: str, after: str | None = None):
    url = base_url.replace("http://", "ws://") + "/graphql"
    with connect(url, subprotocols=["graphql-transport-ws"], open_timeout=10) as socket:
        socket.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {ws['appApiKey']}"}}))
        assert json.loads(socket.recv(10))["type"] == "connection_ack"
        payload = {"query": SUBSCRIBE, "variables": {"id": segment_id, "after": after}}
        socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        yield socket


def _next(socket) -> dict:
    message = json.loads(socket.recv(10))
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message
    return message["payload"]["data"]["membershipChanges"]


def _set_plan(base_url: str, ws: dict, person: str, plan: str) -> None:
    response = httpx.put(f"{base_url}/api/v1/customers/{person}", json={"plan": plan}, auth=(ws["siteId"], ws["trackApiKey"]))
    assert response.status_code == 200, response.text


def _followers(service, ws, segment_id) -> int:
    async def count(services):
        return services.webhooks.signal.follower_count(ws["workspaceId"], segment_id)

    return service.call(count)


def test_a_subscriber_that_reconnects_with_its_cursor_gets_exactly_the_missed_changes(service):
    ws = service.create_workspace("stream")
    segment_id = create_segment(service, ws, "Pro", PRO)
    with _subscribe(service.base_url, ws, segment_id) as socket:
        deadline = time.monotonic() + 10
        while _followers(service, ws, segment_id) == 0:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        _set_plan(service.base_url, ws, "ann", "pro")
        _set_plan(service.base_url, ws, "bob", "pro")
        seen = [_next(socket), _next(socket)]
    assert [(c["person"]["id"], c["kind"]) for c in seen] == [("ann", "ENTERED"), ("bob", "ENTERED")]
    last_cursor = seen[-1]["cursor"]

    # while disconnected
    _set_plan(service.base_url, ws, "ann", "free")
    _set_plan(service.base_url, ws, "cy", "pro")

    with _subscribe(service.base_url, ws, segment_id, after=last_cursor) as socket:
        missed = [_next(socket), _next(socket)]
        assert [(c["person"]["id"], c["kind"]) for c in missed] == [("ann", "EXITED"), ("cy", "ENTERED")]
        _set_plan(service.base_url, ws, "dee", "pro")
        live = _next(socket)  # the next one is the new change, not a repeat
        assert (live["person"]["id"], live["kind"]) == ("dee", "ENTERED")
    cursors = [int(c["cursor"]) for c in seen + missed + [live]]
    assert cursors == sorted(cursors) and len(set(cursors)) == len(cursors)

    # replaying from the start gives the whole history, in order
    with _subscribe(service.base_url, ws, segment_id, after="0") as socket:
        replay = [_next(socket) for _ in range(5)]
    assert [c["changeId"] for c in replay] == [c["changeId"] for c in seen + missed + [live]]

    with _subscribe(service.base_url, ws, segment_id, after="not-a-cursor") as socket:
        refused = json.loads(socket.recv(10))
        assert "after: not a change cursor" in refused["payload"]["errors"][0]["message"]


def test_http_changes_after_a_cursor(service):
    ws, other = service.create_workspace("http"), service.create_workspace("other")
    segment_id = create_segment(service, ws, "Pro", PRO)
    for person, plan in (("ann", "pro"), ("bob", "pro"), ("ann", "free")):
        _set_plan(service.base_url, ws, person, plan)
    url = f"{service.base_url}/api/v1/segments/{segment_id}/changes"
    auth = {"Authorization": f"Bearer {ws['appApiKey']}"}

    first = httpx.get(url, params={"limit": 2}, headers=auth)
    assert first.status_code == 200, first.text
    page = first.json()
    assert [(c["person"]["id"], c["kind"]) for c in page["changes"]] == [("ann", "ENTERED"), ("bob", "ENTERED")]
    assert page["cursor"] == page["changes"][-1]["cursor"]
    rest = httpx.get(url, params={"after": page["cursor"]}, headers=auth).json()
    assert [(c["person"]["id"], c["kind"], c["segment"]["name"]) for c in rest["changes"]] == [("ann", "EXITED", "Pro")]
    # nothing new: an empty answer with a cursor to come back with; `wait` holds it open until a change
    empty = httpx.get(url, params={"after": rest["cursor"]}, headers=auth).json()
    assert empty["changes"] == []
    started = time.monotonic()
    _set_plan(service.base_url, ws, "bob", "free")
    waited = httpx.get(url, params={"after": empty["cursor"], "wait": 10}, headers=auth, timeout=15).json()
    assert [(c["person"]["id"], c["kind"]) for c in waited["changes"]] == [("bob", "EXITED")]
    assert time.monotonic() - started < 5

    assert httpx.get(url, params={"after": "x1"}, headers=auth).status_code == 400
    assert httpx.get(url, params={"limit": "0"}, headers=auth).json()["errors"][0]["message"].startswith("limit:")
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Authorization": f"Bearer {other['appApiKey']}"}).status_code == 404


def _workspace(data_dir) -> dict[str, str]:
    async def create() -> dict[str, str]:
        store = await open_store(Settings(embedded_engine="sqlite", data_dir=data_dir))
        try:
            return (await create_workspace(store.db, "two", now=time.time())).as_json()
        finally:
            await store.close()

    return asyncio.run(create())


def test_changes_written_by_one_process_reach_subscribers_of_another(tmp_path):
    ws = _workspace(tmp_path)
    env = {"SEGMENTS_CHANGE_POLL_SECONDS": "0.1"}
    writer = Service(tmp_path, ws, env=env)
    reader = Service(tmp_path, ws, env=env)
    try:
        created = writer.graphql(
            'mutation($c: ConditionInput!) { createSegment(input: {name: "Pro", condition: $c}) { ... on Segment { id } } }',
            {"c": PRO},
        )
        segment_id = created["createSegment"]["id"]
        _set_plan(writer.base_url, ws, "ann", "pro")
        with _subscribe(reader.base_url, ws, segment_id, after="0") as socket:
            assert (_next(socket)["person"]["id"]) == "ann"
            _set_plan(writer.base_url, ws, "bob", "pro")
            live = _next(socket)
            assert (live["person"]["id"], live["kind"]) == ("bob", "ENTERED")
        _set_plan(writer.base_url, ws, "ann", "free")
        polled = httpx.get(
            f"{reader.base_url}/api/v1/segments/{segment_id}/changes",
            params={"after": live["cursor"], "wait": 10},
            headers=reader.headers,
            timeout=15,
        ).json()
        assert [(c["person"]["id"], c["kind"]) for c in polled["changes"]] == [("ann", "EXITED")]
    finally:
        writer.stop()
        reader.stop()
