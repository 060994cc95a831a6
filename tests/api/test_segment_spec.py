"""Segment-spec ingestion over real HTTP: auth by write key, gzip bodies,
the 32 KB / 500 KB limits, messageId de-duplication, clock-skew
correction, anonymous ids merged on identify, context and devices kept."""

from __future__ import annotations

import gzip
import json
import time
from datetime import datetime, timezone

import httpx
import pytest

from tests.api.track_helpers import stored


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat().replace("+00:00", "Z")


@pytest.fixture
def spec(server):
    ws = server.create_workspace("segment spec")
    client = httpx.Client(base_url=server.base_url, auth=(ws["trackApiKey"], ""), timeout=30)
    return server, ws, client


def test_a_batch_of_every_message_type_is_stored_as_the_mapping_says(spec):
    server, ws, client = spec
    context = {"ip": "203.0.113.9", "library": {"name": "test", "version": "1"},
               "device": {"id": "dev-1", "type": "ios", "model": "iPhone15,2"}, "os": {"name": "iOS", "version": "17.1"}}
    batch = [
        {"type": "track", "anonymousId": "anon-9", "event": "Viewed Pricing", "properties": {"plan": "pro"}, "messageId": "m1"},
        {"type": "identify", "userId": "u1", "anonymousId": "anon-9", "traits": {"email": "U1@Example.com", "plan": "pro", "createdAt": "2024-05-01T00:00:00Z"}, "messageId": "m2", "context": context},
        {"type": "track", "userId": "u1", "event": "Order Completed", "properties": {"total": 99.5}, "messageId": "m3", "context": context},
        {"type": "page", "userId": "u1", "name": "Pricing", "properties": {"url": "https://example.com/pricing", "title": "Pricing"}, "messageId": "m4"},
        {"type": "page", "userId": "u1", "properties": {}, "context": {"page": {"url": "https://example.com/from-context"}}, "messageId": "m5"},
        {"type": "screen", "userId": "u1", "name": "Home", "properties": {"tab": "feed"}, "messageId": "m6"},
        {"type": "group", "userId": "u1", "groupId": "acme", "traits": {"name": "Acme", "employees": 50}, "messageId": "m7"},
        {"type": "alias", "userId": "u1", "previousId": "anon-10", "messageId": "m8"},
        {"type": "track", "anonymousId": "anon-10", "event": "Came Back", "messageId": "m9"},
    ]
    response = client.post("/v1/batch", json={"batch": batch, "context": {"locale": "nb-NO"}})
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True}

    (person,) = stored(server, "people", ws)
    assert (person["id"], person["email"], person["attributes"]) == ("u1", "U1@Example.com", {"plan": "pro"})
    assert person["createdAt"] == datetime(2024, 5, 1, tzinfo=timezone.utc).timestamp()
    events = {e["_id"].split("|", 1)[1]: e for e in stored(server, "events", ws)}
    assert {k: (e["personId"], e["type"], e["name"], e["data"]) for k, e in events.items()} == {
        "m1": (person["_id"], "event", "Viewed Pricing", {"plan": "pro"}),  # adopted on identify
        "m3": (person["_id"], "event", "Order Completed", {"total": 99.5}),
        "m4": (person["_id"], "page", "https://example.com/pricing", {"url": "https://example.com/pricing", "title": "Pricing", "name": "Pricing"}),
        "m5": (person["_id"], "page", "https://example.com/from-context", {}),
        "m6": (person["_id"], "screen", "Home", {"tab": "feed"}),
        "m7": (person["_id"], "event", "group", {"group_id": "acme", "traits": {"name": "Acme", "employees": 50}}),
        "m9": (person["_id"], "event", "Came Back", {}),  # anon-10 was aliased to u1
    }
    # Context is kept as sent, the batch's own context merged under each message's.
    assert events["m3"]["context"] == {"locale": "nb-NO", **context}
    assert events["m1"]["context"] == {"locale": "nb-NO"}
    (device,) = stored(server, "devices", ws)
    assert (device["personId"], device["token"], device["platform"], device["attributes"]) == (person["_id"], "dev-1", "ios", {"model": "iPhone15,2"})


def test_message_ids_deduplicate_and_gzip_bodies_are_read(spec):
    server, ws, client = spec
    message = {"type": "track", "userId": "u1", "event": "Clicked", "messageId": "same-id"}
    body = gzip.compress(json.dumps({"batch": [message, message]}).encode())
    for _ in range(2):
        response = client.post("/v1/batch", content=body, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})
        assert response.status_code == 200, response.text
    assert client.post("/v1/track", json=message).status_code == 200
    assert len(stored(server, "events", ws)) == 1
    bad = client.post("/v1/batch", content=b"\x1f\x8b not gzip", headers={"Content-Encoding": "gzip"})
    assert bad.status_code == 400 and "gzip" in bad.json()["message"]
    assert client.post("/v1/batch", content=b"{}", headers={"Content-Encoding": "br"}).status_code == 400


def test_times_are_corrected_for_the_senders_clock_skew(spec):
    server, ws, client = spec
    now = time.time()
    skew = 3600  # the device's clock is an hour ahead
    batch = [
        {"type": "track", "userId": "u1", "event": "skewed", "originalTimestamp": iso(now + skew - 30), "messageId": "a"},
        {"type": "track", "userId": "u1", "event": "historical", "timestamp": "2020-01-01T00:00:00Z", "sentAt": iso(now), "messageId": "b"},
    ]
    assert client.post("/v1/batch", json={"batch": batch, "sentAt": iso(now + skew)}).status_code == 200
    assert client.post("/v1/track", json={"userId": "u1", "event": "as given", "timestamp": "2021-06-01T12:00:00+02:00", "messageId": "c"}).status_code == 200
    assert client.post("/v1/track", json={"userId": "u1", "event": "now", "messageId": "d"}).status_code == 200
    events = {e["name"]: e for e in stored(server, "events", ws)}
    # Received when parsed; `receivedAt` is stamped when written, a moment later (the group commit).
    assert events["skewed"]["ts"] == pytest.approx(events["skewed"]["receivedAt"] - 30, abs=1)
    assert events["historical"]["ts"] == pytest.approx(datetime(2020, 1, 1, tzinfo=timezone.utc).timestamp(), abs=30)
    assert events["as given"]["ts"] == datetime(2021, 6, 1, 10, tzinfo=timezone.utc).timestamp()
    assert events["now"]["ts"] == events["now"]["receivedAt"]


def test_write_key_authenticates_by_header_or_body(spec):
    server, ws, client = spec
    identify = {"userId": "u1", "traits": {"plan": "pro"}}
    assert httpx.post(f"{server.base_url}/v1/identify", json={**identify, "writeKey": ws["trackApiKey"]}).status_code == 200
    for auth in (None, ("wrong-key", ""), (ws["appApiKey"], "")):
        response = httpx.post(f"{server.base_url}/v1/identify", json=identify, auth=auth)
        assert response.status_code == 401 and response.json()["code"] == "unauthorized"
    other = server.create_workspace("other")
    other_client = httpx.Client(base_url=server.base_url, auth=(other["trackApiKey"], ""))
    assert other_client.post("/v1/identify", json={"userId": "u1", "traits": {"plan": "free"}}).status_code == 200
    (mine,) = stored(server, "people", ws)
    assert mine["attributes"] == {"plan": "pro"}


@pytest.mark.parametrize(
    ("batch", "field"),
    [
        ([{"type": "track", "event": "no one"}], "batch[0].userId"),
        ([{"type": "bogus", "userId": "u1"}], "batch[0].type"),
        ([{"type": "track", "userId": "u1"}], "batch[0].event"),
        ([{"type": "track", "userId": "u1", "event": ""}], "batch[0].event"),
        ([{"type": "track", "userId": "u1", "event": "e", "messageId": {"x": 1}}], "batch[0].messageId"),
        ([{"type": "page", "userId": "u1", "properties": {"url": 7}}], "batch[0].properties.url"),
        ([{"type": "screen", "userId": "u1", "name": "n" * 101}], "batch[0].name"),
        ([{"type": "identify", "anonymousId": "a1", "traits": {"plan": "x"}}], "batch[0].userId"),
        ([{"type": "page", "userId": "u1", "properties": {"title": "no url"}}], "batch[0].properties.url"),
        ([{"type": "alias", "userId": "u1"}], "batch[0].previousId"),
        ([{"type": "group", "userId": "u1"}], "batch[0].groupId"),
        ([{"type": "track", "userId": "u1", "event": "e", "timestamp": "yesterday"}], "batch[0].timestamp"),
        ([{"type": "track", "userId": "u1", "event": "e", "properties": {"$bad": 1}}], "batch[0].properties.$bad"),
        ([{"type": "identify", "userId": "u1", "traits": {"a.b": 1}}], "batch[0].traits.a.b"),
        ([{"type": "track", "userId": "u1", "event": "ok"}, {"type": "track", "userId": "u1", "event": "e", "properties": {"blob": "x" * 33_000}}], "batch[1]"),
    ],
)
def test_an_invalid_message_rejects_its_batch_naming_the_field(spec, batch, field):
    server, ws, client = spec
    response = client.post("/v1/batch", json={"batch": [{"type": "identify", "userId": "first", "traits": {}}, *batch]})
    assert response.status_code == 400, response.text
    shifted = field.replace("batch[0]", "batch[1]", 1) if field.startswith("batch[0]") else field.replace("batch[1]", "batch[2]", 1)
    assert response.json()["code"] == "invalid_request"
    assert response.json()["message"].startswith(shifted), response.json()
    assert stored(server, "people", ws) == [] and stored(server, "events", ws) == []


def test_size_limits_are_segments(spec):
    server, ws, client = spec
    big = {"userId": "u1", "event": "big", "properties": {"blob": "x" * (32 * 1024)}}
    response = client.post("/v1/track", json=big)
    assert response.status_code == 400 and "larger than 32768 bytes" in response.json()["message"]
    message = {"type": "track", "userId": "u1", "event": "e", "properties": {"blob": "x" * 20_000}}
    response = client.post("/v1/batch", json={"batch": [message] * 26})  # ~520 KB
    assert response.status_code == 400 and "larger than 512000 bytes" in response.json()["message"]
    zipped = gzip.compress(json.dumps({"batch": [message] * 26}).encode())  # small on the wire, too big inside
    response = client.post("/v1/batch", content=zipped, headers={"Content-Encoding": "gzip"})
    assert response.status_code == 400 and "once decompressed" in response.json()["message"]
    assert client.post("/v1/batch", json={"batch": [message] * 24}).status_code == 200
    for body in (b"", b"[", b'{"batch": {}}', b'{"batch": []}'):
        response = client.post("/v1/batch", content=body)
        assert response.status_code == 400, body
    assert len(stored(server, "events", ws)) == 24


def test_single_message_routes_take_their_type_from_the_path(spec):
    server, ws, client = spec
    calls = [
        ("/v1/identify", {"userId": "u1", "traits": {"plan": "pro"}}),
        ("/v1/track", {"userId": "u1", "event": "Signed Up", "messageId": "t1"}),
        ("/v1/page", {"userId": "u1", "properties": {"url": "https://example.com/"}, "messageId": "p1"}),
        ("/v1/screen", {"userId": "u1", "name": "Settings", "messageId": "s1"}),
        ("/v1/group", {"userId": "u1", "groupId": 42, "messageId": "g1"}),
        ("/v1/alias", {"userId": "u1", "previousId": "anon-1"}),
        # The path decides: a body's own `type` does not turn a track into an identify.
        ("/v1/track", {"type": "identify", "userId": "u1", "event": "Typed", "messageId": "t2"}),
    ]
    for path, body in calls:
        response = client.post(path, json=body)
        assert response.status_code == 200 and response.json() == {"success": True}, (path, response.text)
    (person,) = stored(server, "people", ws)
    assert person["attributes"] == {"plan": "pro"}
    events = {e["_id"].split("|", 1)[1]: (e["type"], e["name"], e["data"]) for e in stored(server, "events", ws)}
    assert events == {
        "t1": ("event", "Signed Up", {}),
        "p1": ("page", "https://example.com/", {"url": "https://example.com/"}),
        "s1": ("screen", "Settings", {}),
        "g1": ("event", "group", {"group_id": "42", "traits": {}}),
        "t2": ("event", "Typed", {}),
    }
    identities = sorted(i["_id"].split("|", 1)[1] for i in stored(server, "identities", ws))
    assert identities == ["anon|anon-1", "id|u1"]
