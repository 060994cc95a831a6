"""Track API routes over real HTTP, checked against what the store holds."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.api.track_helpers import person, record_changes, stored

T0 = 1_767_225_600.0  # the fake clock's start


def _ok(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    assert response.json() == {}


def test_identify_creates_updates_and_removes_attributes(fake_clock_server):
    server = fake_clock_server
    ws = server.create_workspace()
    changes = record_changes(server)
    with server.track(ws) as track:
        _ok(track.put("/api/v1/customers/u1", json={"email": "Ada@Example.com", "plan": "pro", "ltv": 30, "created_at": 1_700_000_000}))
        created = person(server, ws, id="u1")
        assert created["email"] == "Ada@Example.com" and created["emailLower"] == "ada@example.com"
        assert created["attributes"] == {"plan": "pro", "ltv": 30}
        assert created["createdAt"] == 1_700_000_000 and created["updatedAt"] == T0 and created["suppressed"] is False
        assert len(created["_id"]) == 20

        server.clock.advance(60)
        # Addressed by email, case-insensitively; null removes an attribute.
        _ok(track.put("/api/v1/customers/ADA@example.com", json={"ltv": None, "address": {"city": "Paris"}}))
        # `_update: true` never creates anybody.
        _ok(track.put("/api/v1/customers/nobody", json={"_update": True, "plan": "free"}))

    updated = person(server, ws, id="u1")
    assert updated["_id"] == created["_id"]
    assert updated["attributes"] == {"plan": "pro", "address": {"city": "Paris"}}
    assert updated["updatedAt"] == T0 + 60
    assert [doc["_id"] for doc in stored(server, "people", ws)] == [created["_id"]]
    identities = sorted(doc["_id"].split("|", 1)[1] for doc in stored(server, "identities", ws))
    assert identities == ["email|ada@example.com", "id|u1"]
    ws_id, person_ids, topics = changes[-1]
    assert (ws_id, person_ids) == (ws["workspaceId"], [created["_id"]])
    assert topics == {"attributes", "attribute:ltv", "attribute:address"}
    assert "created" in changes[0][2]


def test_identifiers_change_only_through_cio_id(server):
    ws = server.create_workspace()
    with server.track(ws) as track:
        _ok(track.put("/api/v1/customers/u1", json={"email": "old@example.com"}))
        cio_id = person(server, ws, id="u1")["_id"]
        # By id the email may change (freeing the old one) ...
        _ok(track.put("/api/v1/customers/u1", json={"email": "new@example.com"}))
        # ... and by cio_ id the profile id too.
        _ok(track.put(f"/api/v1/customers/cio_{cio_id}", json={"id": "u1-renamed"}))
        _ok(track.put("/api/v1/customers/old@example.com", json={"plan": "free"}))
    renamed = person(server, ws, _id=cio_id)
    assert (renamed["id"], renamed["email"]) == ("u1-renamed", "new@example.com")
    newcomer = person(server, ws, email="old@example.com")
    assert newcomer["_id"] != cio_id and newcomer["attributes"] == {"plan": "free"}
    identities = {doc["_id"].split("|", 1)[1]: doc["personId"] for doc in stored(server, "identities", ws)}
    assert identities == {
        "id|u1-renamed": cio_id,
        "email|new@example.com": cio_id,
        "email|old@example.com": newcomer["_id"],
    }


def test_a_new_path_identifier_joins_the_person_its_body_names(server):
    ws = server.create_workspace()
    with server.track(ws) as track:
        _ok(track.put("/api/v1/customers/ada@example.com", json={"plan": "pro"}))
        # Customer.io: the path id belongs to nobody, the body's email does: that person gets the id.
        _ok(track.put("/api/v1/customers/u7", json={"email": "ada@example.com", "age": 36}))
    (only,) = stored(server, "people", ws)
    assert (only["id"], only["email"], only["attributes"]) == ("u7", "ada@example.com", {"plan": "pro", "age": 36})


def test_events_pages_and_screens_with_deduplication(fake_clock_server):
    server = fake_clock_server
    ws = server.create_workspace()
    changes = record_changes(server)
    with server.track(ws) as track:
        # An event for an id nobody has creates that person (as Customer.io does).
        _ok(track.post("/api/v1/customers/u1/events", json={"name": " purchase ", "data": {"amount": 25.5}, "timestamp": 1_766_000_000, "id": "evt-1"}))
        _ok(track.post("/api/v1/customers/u1/events", json={"name": "purchase", "data": {"amount": 99}, "id": "evt-1"}))
        _ok(track.post("/api/v1/customers/u1/events", json={"type": "page", "name": "/offers/7", "data": {"ref": "mail"}}))
        _ok(track.post("/api/v1/customers/u1/events", json={"type": "screen", "name": "Cart"}))
    owner = person(server, ws, id="u1")
    assert owner["attributes"] == {} and owner["createdAt"] == T0
    events = {(e["type"], e["name"]): e for e in stored(server, "events", ws)}
    assert set(events) == {("event", "purchase"), ("page", "/offers/7"), ("screen", "Cart")}
    purchase = events[("event", "purchase")]
    assert purchase["_id"] == f"{ws['workspaceId']}|evt-1"
    assert (purchase["data"], purchase["ts"], purchase["receivedAt"]) == ({"amount": 25.5}, 1_766_000_000, T0)
    assert events[("page", "/offers/7")]["ts"] == T0 and events[("screen", "Cart")]["data"] == {}
    assert all(e["personId"] == owner["_id"] and e["anonymousId"] is None for e in events.values())
    assert [topics for _, _, topics in changes] == [{"created", "event:purchase"}, {"page"}, {"screen:Cart"}]


def test_anonymous_events_are_kept_and_merged_when_identified(server):
    ws = server.create_workspace()
    changes = record_changes(server)
    with server.track(ws) as track:
        _ok(track.post("/api/v1/events", json={"anonymous_id": "anon-1", "name": "viewed_pricing"}))
        _ok(track.post("/api/v1/events", json={"anonymous_id": "anon-1", "type": "page", "name": "/pricing"}))
        _ok(track.post("/api/v1/events", json={"anonymous_id": "anon-2", "name": "someone_else"}))
        assert {e["personId"] for e in stored(server, "events", ws)} == {None}
        _ok(track.put("/api/v1/customers/u1", json={"anonymous_id": "anon-1"}))
        # Later anonymous events of the same visitor go straight to the person.
        _ok(track.post("/api/v1/events", json={"anonymous_id": "anon-1", "name": "came_back"}))
    owner = person(server, ws, id="u1")["_id"]
    by_name = {e["name"]: e["personId"] for e in stored(server, "events", ws)}
    assert by_name == {"viewed_pricing": owner, "/pricing": owner, "someone_else": None, "came_back": owner}
    assert changes[0][1:] == ([owner], {"created", "event:viewed_pricing", "page"})


def test_devices_are_added_updated_moved_and_deleted(fake_clock_server):
    server = fake_clock_server
    ws = server.create_workspace()
    with server.track(ws) as track:
        _ok(track.put("/api/v1/customers/u1/devices", json={"device": {"id": "tok-1", "platform": "iOS", "last_used": 1_766_000_000, "attributes": {"app_version": "1.0"}}}))
        _ok(track.put("/api/v1/customers/u1/devices", json={"device": {"id": "tok-1", "platform": "ios", "attributes": {"push_enabled": True}}}))
        _ok(track.put("/api/v1/customers/u1/devices", json={"device": {"id": "tok-2", "platform": "android"}}))
        _ok(track.delete("/api/v1/customers/u1/devices/tok-2"))
        (device,) = stored(server, "devices", ws)
        assert device["_id"] == f"{ws['workspaceId']}|tok-1"
        assert (device["platform"], device["lastUsed"]) == ("ios", T0)
        assert device["attributes"] == {"app_version": "1.0", "push_enabled": True}
        # The same token registered by someone else is now theirs; deleting it under the old owner does nothing.
        _ok(track.put("/api/v1/customers/u2/devices", json={"device": {"id": "tok-1", "platform": "ios"}}))
        _ok(track.delete("/api/v1/customers/u1/devices/tok-1"))
    (device,) = stored(server, "devices", ws)
    assert device["personId"] == person(server, ws, id="u2")["_id"]


def test_delete_removes_the_person_and_all_their_data(server):
    ws = server.create_workspace()
    other = server.create_workspace("other")
    with server.track(ws) as track, server.track(other) as other_track:
        for client in (track, other_track):
            _ok(client.put("/api/v1/customers/u1", json={"email": "a@example.com"}))
            _ok(client.post("/api/v1/customers/u1/events", json={"name": "purchase"}))
        _ok(track.post("/api/v1/events", json={"anonymous_id": "anon-1", "name": "visit"}))
        _ok(track.put("/api/v1/customers/u1", json={"anonymous_id": "anon-1"}))
        _ok(track.put("/api/v1/customers/u1/devices", json={"device": {"id": "tok", "platform": "ios"}}))
        _ok(track.post("/api/v2/entity", json=_delivery("d1", "sent", person={"id": "u1"}, channel="push")))
        _ok(track.request("DELETE", "/api/v1/customers/a@example.com", json={}))
        _ok(track.delete("/api/v1/customers/a@example.com"))  # again: nothing left, still fine
    for collection in ("people", "identities", "events", "devices", "deliveries"):
        assert stored(server, collection, ws) == [], collection
    assert person(server, other, id="u1") is not None and len(stored(server, "events", other)) == 1


def test_suppressed_people_keep_their_profile_and_ignore_new_data(server):
    ws = server.create_workspace()
    with server.track(ws) as track:
        _ok(track.put("/api/v1/customers/u1", json={"plan": "pro"}))
        _ok(track.post("/api/v1/customers/u1/suppress"))
        _ok(track.put("/api/v1/customers/u1", json={"plan": "free"}))
        _ok(track.post("/api/v1/customers/u1/events", json={"name": "purchase"}))
        suppressed = person(server, ws, id="u1")
        assert suppressed["suppressed"] is True and suppressed["attributes"] == {"plan": "pro"}
        assert stored(server, "events", ws) == []
        _ok(track.post("/api/v1/customers/u1/unsuppress", json={}))
        _ok(track.put("/api/v1/customers/u1", json={"plan": "free"}))
    assert person(server, ws, id="u1")["attributes"] == {"plan": "free"}


def test_merge_fills_gaps_moves_activity_and_deletes_the_secondary(server):
    ws = server.create_workspace()
    changes = record_changes(server)
    with server.track(ws) as track:
        _ok(track.put("/api/v1/customers/main", json={"plan": "pro", "city": ""}))
        _ok(track.put("/api/v1/customers/dup@example.com", json={"plan": "free", "city": "Oslo", "age": 40}))
        _ok(track.post("/api/v1/customers/dup@example.com/events", json={"name": "purchase"}))
        _ok(track.put("/api/v1/customers/dup@example.com/devices", json={"device": {"id": "tok", "platform": "android"}}))
        primary, secondary = person(server, ws, id="main")["_id"], person(server, ws, email="dup@example.com")["_id"]
        _ok(track.post("/api/v1/merge_customers", json={"primary": {"id": "main"}, "secondary": {"email": "dup@example.com"}}))
    merged = person(server, ws, _id=primary)
    assert merged["attributes"] == {"plan": "pro", "city": "Oslo", "age": 40}
    assert merged["email"] == "dup@example.com"  # the primary had none: the secondary's fills the gap
    assert person(server, ws, _id=secondary) is None
    assert {e["personId"] for e in stored(server, "events", ws)} == {primary}
    assert {d["personId"] for d in stored(server, "devices", ws)} == {primary}
    assert {i["personId"] for i in stored(server, "identities", ws)} == {primary}
    assert changes[-1][2] == {"deleted", "merged"} and changes[-2][1:] == ([primary], {"merged", "attributes", "attribute:city", "attribute:age", "attribute:email"})


def _delivery(delivery_id: str, metric: str, *, timestamp: float | None = None, person: dict | None = None, **attributes) -> dict:
    op = {"type": "delivery", "action": "event", "name": metric, "identifiers": {"id": delivery_id}, "attributes": attributes}
    if timestamp is not None:
        op["timestamp"] = timestamp
    if person is not None:
        op["person"] = person
    return op


def test_v2_batch_covers_person_and_delivery_operations(fake_clock_server):
    server = fake_clock_server
    ws = server.create_workspace()
    batch = [
        {"type": "person", "action": "identify", "identifiers": {"id": "u1"}, "attributes": {"email": "u1@example.com", "plan": "pro"}},
        {"type": "person", "action": "identify", "identifiers": {"email": "u2@example.com"}, "attributes": {"plan": "free"}},
        {"type": "person", "action": "event", "identifiers": {"id": "u1"}, "name": "purchase", "id": "p-1", "timestamp": 1_766_000_000, "attributes": {"amount": 10}},
        {"type": "person", "action": "page", "identifiers": {"id": "u1"}, "name": "/offers/1"},
        {"type": "person", "action": "screen", "identifiers": {"email": "u2@example.com"}, "name": "Home"},
        {"type": "person", "action": "add_device", "identifiers": {"id": "u1"}, "device": {"token": "tok-a", "platform": "ios", "last_used": 1_766_000_100}},
        {"type": "person", "action": "add_device", "identifiers": {"id": "u1"}, "device": {"token": "tok-b", "platform": "android"}},
        {"type": "person", "action": "delete_device", "identifiers": {"id": "u1"}, "device": {"token": "tok-b"}},
        _delivery("dlv-1", "sent", timestamp=1_766_000_200, person={"email": "u1@example.com"}, campaign_id=12, message_id="msg-1", channel="email"),
        {"type": "delivery", "action": "opened", "identifiers": {"id": "dlv-1"}, "timestamp": 1_766_000_500},
        _delivery("dlv-1", "opened", timestamp=1_766_000_900),  # a later repeat keeps the first time
        {"type": "person", "action": "suppress", "identifiers": {"email": "u2@example.com"}},
        {"type": "person", "action": "identify", "identifiers": {"id": "u3"}, "attributes": {"age": 30}},
        {"type": "person", "action": "merge", "primary": {"id": "u1"}, "secondary": {"id": "u3"}},
        {"type": "person", "action": "identify", "identifiers": {"id": "gone"}},
        {"type": "person", "action": "delete", "identifiers": {"id": "gone"}},
    ]
    with server.track(ws) as track:
        _ok(track.post("/api/v2/batch", json={"batch": batch}))
        _ok(track.post("/api/v2/entity", json={"type": "person", "action": "unsuppress", "identifiers": {"email": "u2@example.com"}}))
    u1, u2 = person(server, ws, id="u1"), person(server, ws, email="u2@example.com")
    assert u1["attributes"] == {"plan": "pro", "age": 30} and u1["email"] == "u1@example.com"
    assert u2["attributes"] == {"plan": "free"} and u2["suppressed"] is False
    assert {p["id"] for p in stored(server, "people", ws)} == {"u1", None}
    events = {(e["type"], e["name"], e["personId"], e["ts"]) for e in stored(server, "events", ws)}
    assert events == {("event", "purchase", u1["_id"], 1_766_000_000), ("page", "/offers/1", u1["_id"], T0), ("screen", "Home", u2["_id"], T0)}
    (device,) = stored(server, "devices", ws)
    assert (device["token"], device["lastUsed"], device["personId"]) == ("tok-a", 1_766_000_100, u1["_id"])
    (delivery,) = stored(server, "deliveries", ws)
    assert delivery == {
        "_id": f"{ws['workspaceId']}|dlv-1",
        "ws": ws["workspaceId"],
        "personId": u1["_id"],
        "deliveryId": "dlv-1",
        "messageId": "msg-1",
        "campaignId": "12",
        "broadcastId": None,
        "channel": "email",
        "metrics": {"sent": 1_766_000_200, "opened": 1_766_000_500},
        "createdAt": 1_766_000_200,
    }


def test_concurrent_requests_are_all_written(server):
    ws = server.create_workspace()

    def send(index: int) -> int:
        with server.track(ws) as track:
            return track.post(f"/api/v1/customers/u{index % 5}/events", json={"name": "tick", "data": {"n": index}}).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(send, range(40)))
    assert statuses == [200] * 40
    assert sorted(e["data"]["n"] for e in stored(server, "events", ws)) == list(range(40))
    assert len(stored(server, "people", ws)) == 5
