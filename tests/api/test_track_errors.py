"""Refused Track API requests: the status, a message naming the field and the
problem, and a store left exactly as it was."""

from __future__ import annotations

import base64

import httpx

from tests.api.track_helpers import snapshot

UNKNOWN_CIO = "cio_0123456789abcdef0123"


def _seeded(server) -> tuple[dict, httpx.Client]:
    ws = server.create_workspace()
    track = server.track(ws)
    for response in (
        track.put("/api/v1/customers/u1", json={"email": "u1@example.com", "plan": "pro"}),
        track.put("/api/v1/customers/taken@example.com", json={}),
        track.post("/api/v1/customers/u1/events", json={"name": "purchase"}),
    ):
        assert response.status_code == 200, response.text
    return ws, track


def _assert_refused(server, ws, send, cases) -> None:
    for method, path, body, status, message in cases:
        before = snapshot(server, ws)
        kwargs = {"content": body} if isinstance(body, bytes) else {"json": body}
        response = send(method, path, **kwargs)
        case = f"{method} {path} {str(body)[:80]}"
        assert response.status_code == status, (case, response.text)
        error = response.json()["meta"]["error"]
        assert message in error, (case, error)
        assert snapshot(server, ws) == before, case


def test_credentials_are_required(server):
    ws, _ = _seeded(server)
    other = server.create_workspace("other")
    url = f"{server.base_url}/api/v1/customers/u1"

    def basic(user: str, password: str) -> dict:
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}

    for headers, message in (
        ({}, "HTTP Basic auth with siteId:trackApiKey is required"),
        ({"Authorization": "Bearer " + ws["trackApiKey"]}, "HTTP Basic auth"),
        ({"Authorization": "Basic !!!"}, "malformed Basic credentials"),
        (basic(ws["siteId"], "wrong"), "unknown siteId or trackApiKey"),
        (basic(ws["siteId"], ws["appApiKey"]), "unknown siteId or trackApiKey"),
        (basic(other["siteId"], ws["trackApiKey"]), "unknown siteId or trackApiKey"),
    ):
        before = snapshot(server, ws)
        response = httpx.put(url, json={"plan": "hacked"}, headers=headers)
        assert response.status_code == 401, headers
        assert message in response.json()["meta"]["error"]
        assert snapshot(server, ws) == before


def test_malformed_bodies_and_wrong_types(server):
    ws, track = _seeded(server)
    _assert_refused(
        server,
        ws,
        track.request,
        [
            ("PUT", "/api/v1/customers/u1", b'{"plan": ', 400, "body: malformed JSON"),
            ("PUT", "/api/v1/customers/u1", [1, 2], 400, "body: must be an object, got array"),
            ("POST", "/api/v1/customers/u1/events", b"", 400, "body: a JSON object is required"),
            ("POST", "/api/v1/customers/u1/events", b'{"name": "x", "data": {"v": NaN}}', 400, "NaN is not valid JSON"),
            ("POST", "/api/v1/customers/u1/events", b'{"name": "\xff"}', 400, "body: not UTF-8"),
            ("POST", "/api/v1/customers/u1/events", b"[" * 50_000, 400, "body: nested too deeply"),
            ("POST", "/api/v1/customers/u1/events", {"name": 5}, 400, "name: must be a string, got number"),
            ("POST", "/api/v1/customers/u1/events", {"name": "x", "timestamp": "yesterday"}, 400, "timestamp: must be a number (Unix seconds), got string"),
            ("POST", "/api/v1/customers/u1/events", {"name": "x", "timestamp": 1_766_000_000_000}, 400, "milliseconds are not accepted"),
            ("POST", "/api/v1/customers/u1/events", {"name": "x", "data": [1]}, 400, "data: must be an object, got array"),
            ("POST", "/api/v1/customers/u1/events", {"name": "x", "type": "click"}, 400, "type: must be one of event, page, screen"),
            ("POST", "/api/v1/customers/u1/events", {"name": "x", "data": {"a": {"$where": 1}}}, 400, "data.a.$where: keys cannot start with '$'"),
            ("POST", "/api/v1/events", {"name": "x"}, 400, "anonymous_id: required"),
            ("PUT", "/api/v1/customers/u1", {"created_at": "2020-01-01"}, 400, "body.created_at: must be a number"),
            ("PUT", "/api/v1/customers/u1", {"_update": "yes"}, 400, "body._update: must be a boolean"),
            ("PUT", "/api/v1/customers/u1", {"plan": 2**70}, 400, "body.plan: integer does not fit in 64 bits"),
            ("PUT", "/api/v1/customers/u1", {"a.b": 1}, 400, "body.a.b: attribute names cannot contain '.'"),
            ("PUT", "/api/v1/customers/u1", {"email": "not-an-email"}, 400, "body.email: is not an email address"),
            ("PUT", "/api/v1/customers/u1/devices", {"device": {"id": "tok"}}, 400, "device.platform: must be a string, got null"),
            ("PUT", "/api/v1/customers/u1/devices", {}, 400, "device: must be an object, got null"),
            ("POST", "/api/v1/merge_customers", {"primary": {"id": "u1", "email": "u1@example.com"}, "secondary": {"id": "x"}}, 400, "primary: must hold exactly one of id, email, cio_id"),
            ("POST", "/api/v2/entity", {"type": "object", "action": "identify"}, 400, "type: objects are not supported"),
            ("POST", "/api/v2/entity", {"type": "person", "action": "add_relationship", "identifiers": {"id": "u1"}}, 400, "action: add_relationship is not supported"),
            ("POST", "/api/v2/entity", {"type": "delivery", "action": "event", "name": "read", "identifiers": {"id": "d"}}, 400, "name: must be a delivery metric"),
            ("POST", "/api/v2/batch", {"batch": []}, 400, "batch: must not be empty"),
        ],
    )


def test_customer_io_limits(server):
    ws, track = _seeded(server)
    _assert_refused(
        server,
        ws,
        track.request,
        [
            ("PUT", "/api/v1/customers/u1", {f"a{i}": i for i in range(301)}, 400, "body: at most 300 attributes per request, got 301"),
            ("PUT", "/api/v1/customers/u1", {"n" * 151: 1}, 400, "attribute names must be at most 150 bytes"),
            ("PUT", "/api/v1/customers/u1", {"bio": "é" * 501}, 400, "body.bio: attribute values must be at most 1000 bytes"),
            ("POST", "/api/v1/customers/u1/events", {"name": "e" * 101}, 400, "name: must be at most 100 bytes"),
            ("POST", "/api/v1/customers/u1/events", {"name": "big", "data": {"blob": "x" * 100_000}}, 400, "data: must be at most 100000 bytes"),
            ("PUT", "/api/v1/customers/" + "i" * 151, {}, 400, "identifier: must be at most 150 bytes"),
            ("POST", "/api/v2/entity", {"type": "person", "action": "identify", "identifiers": {"id": "u1"}, "attributes": {"pad": "x" * 33_000}}, 400, "body: larger than 32000 bytes"),
            ("POST", "/api/v2/batch", {"batch": [{"type": "person", "action": "event", "identifiers": {"id": "u1"}, "name": "e", "attributes": {"pad": "x" * 90_000}}] * 6}, 400, "body: larger than 500000 bytes"),
        ],
    )


def test_unknown_people_and_conflicts_write_nothing(server):
    ws, track = _seeded(server)
    good = {"type": "person", "action": "identify", "identifiers": {"id": "new-person"}, "attributes": {"plan": "free"}}
    _assert_refused(
        server,
        ws,
        track.request,
        [
            ("POST", f"/api/v1/customers/{UNKNOWN_CIO}/events", {"name": "x"}, 404, "identifier: no person with cio_id '0123456789abcdef0123'"),
            ("PUT", f"/api/v1/customers/{UNKNOWN_CIO}", {"plan": "x"}, 404, "no person with cio_id"),
            ("PUT", "/api/v1/customers/cio_xyz", {}, 400, "identifier: is not a cio id"),
            ("POST", "/api/v1/customers/nobody@example.com/suppress", None, 404, "identifier: no person with email 'nobody@example.com'"),
            ("POST", "/api/v1/merge_customers", {"primary": {"id": "u1"}, "secondary": {"email": "nobody@example.com"}}, 404, "secondary: no person with email"),
            ("POST", "/api/v1/merge_customers", {"primary": {"id": "u1"}, "secondary": {"email": "U1@example.com"}}, 400, "secondary: is the same person as primary"),
            ("PUT", "/api/v1/customers/u1", {"email": "taken@example.com", "plan": "x"}, 400, "body.email: 'taken@example.com' already belongs to another person"),
            ("PUT", "/api/v1/customers/u1", {"id": "u2"}, 400, "body.id: differs from the id in the path"),
            ("PUT", "/api/v1/customers/u9", {"email": "u1@example.com"}, 400, "identifier: the person the body names already has the id 'u1'"),
            ("POST", "/api/v2/entity", {"type": "delivery", "action": "sent", "identifiers": {"id": "d1"}, "attributes": {"channel": "email"}}, 400, "person: required when a delivery is first reported"),
            ("POST", "/api/v2/entity", {"type": "delivery", "action": "sent", "identifiers": {"id": "d1"}, "person": {"id": "nobody"}, "attributes": {"channel": "email"}}, 404, "person: no person with id 'nobody'"),
            # One bad operation refuses the whole batch, whether found by validation or against the store.
            ("POST", "/api/v2/batch", {"batch": [good, {"type": "person", "action": "event", "identifiers": {"id": "u1"}, "name": 7}, good]}, 400, "batch[1].name: must be a string"),
            ("POST", "/api/v2/batch", {"batch": [good, {"type": "person", "action": "event", "identifiers": {"cio_id": UNKNOWN_CIO[4:]}, "name": "x"}]}, 400, "batch[1].identifiers: no person with cio_id"),
        ],
    )


def test_a_batch_reports_every_invalid_operation(server):
    ws, track = _seeded(server)
    response = track.post("/api/v2/batch", json={"batch": [{"type": "person"}, {"type": "person", "action": "page", "identifiers": {"id": "u1"}}]})
    assert response.status_code == 400
    body = response.json()
    assert body["meta"]["error"] == "batch[0].action: must be a string, got null (and 1 more)"
    assert [e["field"] for e in body["errors"]] == ["batch[0].action", "batch[1].name"]


def test_people_of_another_workspace_cannot_be_addressed(server):
    ws, track = _seeded(server)
    other, _ = _seeded(server)
    stranger = snapshot(server, other)["people"][0]["_id"]
    _assert_refused(
        server,
        ws,
        track.request,
        [
            ("POST", f"/api/v1/customers/cio_{stranger}/events", {"name": "x"}, 404, f"no person with cio_id '{stranger}'"),
            ("POST", "/api/v1/merge_customers", {"primary": {"id": "u1"}, "secondary": {"cio_id": stranger}}, 404, "secondary: no person with cio_id"),
        ],
    )
    assert snapshot(server, other)["people"][0]["_id"] == stranger
