"""`Segment.members(asOf)`, `memberCount(asOf)` and `countHistory` checked
against the live membership observed at each step of a replay on a fake clock."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from tests.webhooks.helpers import create_segment, gql

PRO = {"attribute": {"path": "plan", "op": "EQ", "value": "pro"}}
MEMBERS = """query($id: ID!, $asOf: DateTime, $after: String) { segment(id: $id) {
  memberCount(asOf: $asOf) members(first: 3, after: $after, asOf: $asOf) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } } }"""
SERIES = """query($id: ID!, $from: DateTime!, $to: DateTime!, $interval: CountInterval!) {
  segment(id: $id) { countHistory(from: $from, to: $to, interval: $interval) { at count } } }"""


def _clock(service, advance: float = 0) -> float:
    async def move(services):
        return services.clock.advance(advance)

    return service.call(move)


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat()


def _members(service, ws, segment_id, as_of: str | None) -> tuple[set[str], int, int]:
    ids, after = set(), None
    while True:
        segment = gql(service, ws, MEMBERS, {"id": segment_id, "asOf": as_of, "after": after})["segment"]
        ids |= {edge["node"]["id"] for edge in segment["members"]["edges"]}
        if not segment["members"]["pageInfo"]["hasNextPage"]:
            return ids, segment["memberCount"], segment["members"]["totalCount"]
        after = segment["members"]["pageInfo"]["endCursor"]


def test_members_as_of_any_moment_match_what_was_live_then(service):
    ws = service.create_workspace("history")
    segment_id = create_segment(service, ws, "Pro", PRO)
    rng = random.Random(7)
    start = _clock(service)
    observed: list[tuple[float, set[str]]] = []
    with service.track(ws) as track:
        for step in range(8):
            now = _clock(service, 60)
            for person in rng.sample(range(8), 3):
                plan = rng.choice(["pro", "free"])
                assert track.put(f"/api/v1/customers/p{person}", json={"plan": plan}).status_code == 200
            live, count, total = _members(service, ws, segment_id, None)
            assert count == total == len(live)
            observed.append((now, live))
    assert len({frozenset(members) for _, members in observed}) > 3, "the replay should change membership"

    for at, live in observed:
        as_of, count, total = _members(service, ws, segment_id, _iso(at))
        assert as_of == live and count == total == len(live)
    assert _members(service, ws, segment_id, _iso(start))[0] == set()

    series = gql(service, ws, SERIES, {"id": segment_id, "from": _iso(start), "to": _iso(observed[-1][0]), "interval": "MINUTE"})
    points = series["segment"]["countHistory"]
    assert [p["count"] for p in points] == [0] + [len(live) for _, live in observed]

    too_many = service.graphql(ws, SERIES, {"id": segment_id, "from": _iso(start), "to": _iso(start + 86400 * 3), "interval": "MINUTE"})
    assert "interval:" in too_many["errors"][0]["message"] and "at most 1000" in too_many["errors"][0]["message"]
    backwards = service.graphql(ws, SERIES, {"id": segment_id, "from": _iso(start), "to": _iso(start - 60), "interval": "HOUR"})
    assert backwards["errors"][0]["message"] == "to: must not be before from"
    bad_interval = service.graphql(ws, SERIES, {"id": segment_id, "from": _iso(start), "to": _iso(start), "interval": "FORTNIGHT"})
    assert "FORTNIGHT" in bad_interval["errors"][0]["message"]


def test_as_of_the_shown_moment_of_a_change_includes_it(service):
    """Stored times are finer than a DateTime: a change at ...123456.3 µs is
    shown as ...123456 µs, and that value passed back as asOf still counts it."""
    ws = service.create_workspace("rounding")
    segment_id = create_segment(service, ws, "Pro", PRO)
    _clock(service, 10.1234563)
    with service.track(ws) as track:
        assert track.put("/api/v1/customers/ann", json={"plan": "pro"}).status_code == 200
    changes = gql(service, ws, """query($id: ID!) { segment(id: $id) { changes(first: 1) { edges { node { at } } } } }""",
                  {"id": segment_id})["segment"]["changes"]["edges"]
    shown = changes[0]["node"]["at"]
    assert ".123456" in shown, shown  # rounded down
    assert _members(service, ws, segment_id, shown)[1] == 1
