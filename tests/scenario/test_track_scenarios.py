"""Membership over time through the Track API on a fake clock: waiting out
an `atMost` window, segment references following through time, merges;
the live membership always equals what the compiled pipelines compute."""

from __future__ import annotations

DAY = 86_400.0
CREATE = """mutation($name: String!, $c: ConditionInput!) {
  createSegment(input: {name: $name, condition: $c}) { ... on Segment { id } } }"""
STATE = """query($id: ID!, $c: ConditionInput!) {
  segment(id: $id) { memberCount members(first: 100) { edges { node { id } } } }
  previewSegment(condition: $c) { count sample { id } } }"""


def members(server, ws, segment_id: str, condition: dict) -> set[str]:
    """Live members, checked against a fresh bulk computation of the same condition."""
    data = server.graphql(ws, STATE, {"id": segment_id, "c": condition})["data"]
    live = {edge["node"]["id"] for edge in data["segment"]["members"]["edges"]}
    assert data["segment"]["memberCount"] == len(live)
    assert live == {person["id"] for person in data["previewSegment"]["sample"]}
    return live


def test_waiting_out_a_window_enters_and_referring_segments_follow(fake_clock_server):
    server, clock = fake_clock_server, fake_clock_server.clock
    ws = server.create_workspace()
    t0 = clock.now()
    engine = lambda services: services.membership  # noqa: E731
    with server.track(ws) as track:
        for person in ("ann", "bob", "cy"):
            assert track.put(f"/api/v1/customers/{person}", json={"vip": person != "cy"}).status_code == 200
        assert track.post("/api/v1/customers/ann/events", json={"name": "login", "timestamp": t0 - DAY}).status_code == 200

        quiet = {"event": {"name": "login", "count": {"op": "AT_MOST", "value": 0}, "window": {"within": {"days": 3}}}}
        quiet_id = server.graphql(ws, CREATE, {"name": "Quiet", "c": quiet})["data"]["createSegment"]["id"]
        quiet_vips = {"all": [{"segment": {"id": quiet_id}}, {"attribute": {"path": "vip", "op": "EQ", "value": True}}]}
        vips_id = server.graphql(ws, CREATE, {"name": "Quiet VIPs", "c": quiet_vips})["data"]["createSegment"]["id"]
        server.call(lambda services: engine(services).wait_for_builds())
        assert members(server, ws, quiet_id, quiet) == {"bob", "cy"}
        assert members(server, ws, vips_id, quiet_vips) == {"bob"}

        clock.set(t0 + 2 * DAY - 1)  # ann's login is still inside the window
        server.call(lambda services: engine(services).run_due())
        assert members(server, ws, vips_id, quiet_vips) == {"bob"}
        clock.set(t0 + 2 * DAY)
        server.call(lambda services: engine(services).run_due())
        assert members(server, ws, quiet_id, quiet) == {"ann", "bob", "cy"}
        assert members(server, ws, vips_id, quiet_vips) == {"ann", "bob"}

        clock.advance(60)
        assert track.post("/api/v1/customers/bob/events", json={"name": "login", "timestamp": clock.now()}).status_code == 200
        assert members(server, ws, vips_id, quiet_vips) == {"ann"}

        # ann merged into bob: ann's profile is gone, bob keeps his own login.
        merge = {"primary": {"id": "bob"}, "secondary": {"id": "ann"}}
        assert track.post("/api/v1/merge_customers", json=merge).status_code == 200
        assert members(server, ws, quiet_id, quiet) == {"cy"}
        assert members(server, ws, vips_id, quiet_vips) == set()

        # Three days after bob's login, bob is quiet again.
        clock.set(t0 + 2 * DAY + 60 + 3 * DAY)
        server.call(lambda services: engine(services).run_due())
        assert members(server, ws, vips_id, quiet_vips) == {"bob"}
