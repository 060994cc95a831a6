"""The product brief's two examples, end to end: data through the Track API,
segments and answers through GraphQL, time on a fake clock."""

from __future__ import annotations

DAY = 86_400.0
CREATE = """mutation($name: String!, $c: ConditionInput!) {
  createSegment(input: {name: $name, condition: $c}) { ... on Segment { id } ... on Error { message } } }"""
MEMBERS = """query($id: ID!) { segment(id: $id) { memberCount state
  members(first: 50) { totalCount edges { node { id } } } } }"""
CHANGES = """query($id: ID!) { segment(id: $id) {
  changes(first: 50) { edges { node { kind at person { id } } } } } }"""
OFFER_VIEWERS = {
    "all": [
        {"pageView": {"url": {"op": "STARTS_WITH", "value": "/offers/"}, "sameUrl": True,
                      "count": {"op": "AT_LEAST", "value": 5}, "window": {"within": {"days": 7}}}},
        {"not": {"event": {"name": "purchase"}}},
    ]
}


def create_segment(server, ws, name: str, condition: dict) -> str:
    segment_id = server.graphql(ws, CREATE, {"name": name, "c": condition})["data"]["createSegment"]["id"]
    server.call(lambda services: services.membership.wait_for_builds())
    return segment_id


def member_ids(server, ws, segment_id: str) -> set[str]:
    segment = server.graphql(ws, MEMBERS, {"id": segment_id})["data"]["segment"]
    ids = {edge["node"]["id"] for edge in segment["members"]["edges"]}
    assert segment["memberCount"] == segment["members"]["totalCount"] == len(ids)
    return ids


def history(server, ws, segment_id: str) -> list[tuple[str, str, str]]:
    edges = server.graphql(ws, CHANGES, {"id": segment_id})["data"]["segment"]["changes"]["edges"]
    # A deleted person's changes stay on record, with `person` null.
    return [((e["node"]["person"] or {}).get("id"), e["node"]["kind"], e["node"]["at"]) for e in reversed(edges)]


def ok(response) -> None:
    assert response.status_code == 200, response.text


def test_lifetime_value_over_25000_is_live_at_the_200(server):
    ws = server.create_workspace()
    with server.track(ws) as track:
        ok(track.put("/api/v1/customers/early", json={"lifetime_value": 40000}))
        segment_id = create_segment(
            server, ws, "High value", {"attribute": {"path": "lifetime_value", "op": "GT", "value": 25000}}
        )
        assert member_ids(server, ws, segment_id) == {"early"}

        ok(track.put("/api/v1/customers/ann", json={"email": "ann@example.com", "lifetime_value": 30000}))
        ok(track.put("/api/v1/customers/bob", json={"lifetime_value": 25000}))
        ok(track.put("/api/v1/customers/cat", json={"lifetime_value": "30000"}))  # a string is not a number
        assert member_ids(server, ws, segment_id) == {"early", "ann"}

        ok(track.put("/api/v1/customers/ann", json={"lifetime_value": 20000}))
        ok(track.put("/api/v1/customers/bob", json={"lifetime_value": 25000.5}))
        assert member_ids(server, ws, segment_id) == {"early", "bob"}
        ok(track.delete("/api/v1/customers/early"))
        assert member_ids(server, ws, segment_id) == {"bob"}
    assert [(person, kind) for person, kind, _ in history(server, ws, segment_id)] == [
        (None, "ENTERED"), ("ann", "ENTERED"), ("ann", "EXITED"), ("bob", "ENTERED"), (None, "EXITED"),
    ]


def test_offer_page_viewers_who_did_not_purchase_leave_after_a_week(fake_clock_server):
    server, clock = fake_clock_server, fake_clock_server.clock
    ws = server.create_workspace()
    t0 = clock.now()
    segment_id = create_segment(server, ws, "Hot offer, no purchase", OFFER_VIEWERS)

    def view(track, person: str, url: str, at: float) -> None:
        ok(track.post(f"/api/v1/customers/{person}/events", json={"name": url, "type": "page", "timestamp": at}))

    with server.track(ws) as track:
        for person in ("ann", "bob", "cat"):
            ok(track.put(f"/api/v1/customers/{person}", json={"created_at": t0 - 30 * DAY}))
        for n in range(5):
            view(track, "ann", "/offers/gold", t0 - 10 + n)
            view(track, "bob", "/offers/silver", t0 - 10 + n)
            view(track, "cat", "/offers/gold" if n < 3 else "/offers/silver", t0 - 10 + n)  # 3 + 2: not the same page
            if n == 3:
                assert member_ids(server, ws, segment_id) == set()
        assert member_ids(server, ws, segment_id) == {"ann", "bob"}

        clock.advance(DAY)
        ok(track.post("/api/v1/customers/bob/events", json={"name": "purchase", "timestamp": clock.now()}))
        assert member_ids(server, ws, segment_id) == {"ann"}

        # A week after ann's first view it slides out of the window.
        clock.set(t0 - 10 + 7 * DAY - 1)
        server.call(lambda services: services.membership.run_due())
        assert member_ids(server, ws, segment_id) == {"ann"}
        clock.set(t0 - 10 + 7 * DAY)
        server.call(lambda services: services.membership.run_due())
        assert member_ids(server, ws, segment_id) == set()

    # Both entered at the same (fake) moment: order by time, then person.
    changes = sorted(history(server, ws, segment_id), key=lambda change: (change[2], change[0]))
    assert [(person, kind) for person, kind, _ in changes] == [
        ("ann", "ENTERED"), ("bob", "ENTERED"), ("bob", "EXITED"), ("ann", "EXITED"),
    ]
    assert changes[-1][2] == "2026-01-07T23:59:50+00:00"
    since = """query($id: ID!, $since: DateTime!) { segment(id: $id) {
        changes(since: $since) { totalCount edges { node { kind person { id } } } } } }"""
    recent = server.graphql(ws, since, {"id": segment_id, "since": changes[2][2]})["data"]["segment"]["changes"]
    assert recent["totalCount"] == 2
    assert [(e["node"]["person"]["id"], e["node"]["kind"]) for e in recent["edges"]] == [("ann", "EXITED"), ("bob", "EXITED")]
