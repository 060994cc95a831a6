"""Membership changes reach a real receiver, signed (verified with the
`standardwebhooks` package), once each after de-duplication, in order per
person: from Track API data, a CSV import and windows expiring on a fake clock."""

from __future__ import annotations

from tests.api.manual_helpers import import_csv
from tests.webhooks.helpers import create_endpoint, create_segment, history
from tests.webhooks.receiver import per_person_sequences

HOUR = 3600.0


def _advance(service, seconds: float) -> None:
    service.call(lambda s: _async(s.clock.advance(seconds)))


async def _async(value):
    return value


def test_changes_from_track_csv_and_windows_arrive_signed_once_in_order(service, receiver):
    ws = service.create_workspace("hooks")
    pro = create_segment(service, ws, "Pro", {"attribute": {"path": "plan", "op": "EQ", "value": "pro"}})
    visitors = create_segment(service, ws, "Visited this hour", {"event": {"name": "visit", "window": {"within": {"hours": 1}}}})
    vip = create_segment(service, ws, "VIP")
    created = create_endpoint(service, ws, url=receiver.url)
    receiver.secret = created["secret"]
    assert created["secret"].startswith("whsec_")
    assert created["endpoint"]["segmentIds"] is None and set(created["endpoint"]["kinds"]) == {"ENTERED", "EXITED"}

    with service.track(ws) as track:
        for i in range(6):
            assert track.put(f"/api/v1/customers/u{i}", json={"email": f"u{i}@example.com", "plan": "pro" if i % 2 else "free"}).status_code == 200
        # u1 leaves and comes back: its order must hold
        for plan in ("free", "pro", "free"):
            assert track.put("/api/v1/customers/u1", json={"plan": plan}).status_code == 200
        for i in (0, 2):
            assert track.post(f"/api/v1/customers/u{i}/events", json={"name": "visit"}).status_code == 200
        imported = import_csv(service, ws, vip, b"email\nu3@example.com\nu4@example.com\nu5@example.com\n")
        assert imported["added"] == 3
        removed = track.post(f"/api/v1/segments/{vip}/remove_customers?id_type=email", json={"ids": ["u4@example.com"]})
        assert removed.status_code == 200
    _advance(service, 2 * HOUR)  # the visits leave the window: u0 and u2 exit

    recorded = {segment: history(service, ws, segment) for segment in (pro, visitors, vip)}
    assert [c["kind"] for c in recorded[visitors]].count("ENTERED") == 2
    receiver.wait_for(lambda: [c["kind"] for c in receiver.changes() if c["segment"]["id"] == visitors].count("EXITED") == 2)
    recorded = {segment: history(service, ws, segment) for segment in (pro, visitors, vip)}
    expected = [c for changes in recorded.values() for c in changes]
    receiver.wait_for(lambda: len(receiver.changes()) >= len(expected))

    received = receiver.changes()
    assert receiver.rejected_signatures == 0
    assert sorted(c["changeId"] for c in received) == sorted(c["changeId"] for c in expected)
    # nothing arrived twice, not even as a second delivery of the same message
    assert len(received) == sum(len(body["data"]) for body in receiver.accepted)
    assert len(set(receiver.message_ids)) == len(receiver.message_ids)
    # per (segment, person): the recorded order, alternating ENTERED / EXITED
    recorded_sequences: dict = {}
    for segment, changes in recorded.items():
        for change in changes:
            recorded_sequences.setdefault((segment, change["personCioId"]), []).append(change["kind"])
    assert per_person_sequences(received) == recorded_sequences
    u1 = [c for c in received if c["person"]["id"] == "u1" and c["segment"]["id"] == pro]
    assert [c["kind"] for c in u1] == ["ENTERED", "EXITED", "ENTERED", "EXITED"]
    assert [int(c["cursor"]) for c in u1] == sorted(int(c["cursor"]) for c in u1)
    # the payload names segment and person
    exits = [c for c in received if c["segment"]["id"] == visitors and c["kind"] == "EXITED"]
    assert {(c["segment"]["name"], c["person"]["email"]) for c in exits} == {
        ("Visited this hour", "u0@example.com"),
        ("Visited this hour", "u2@example.com"),
    }
    assert {c["person"]["id"] for c in received if c["segment"]["id"] == vip} == {"u3", "u4", "u5"}


def test_an_endpoint_gets_only_the_segments_and_kinds_it_follows(service, receiver):
    ws = service.create_workspace("filters")
    pro = create_segment(service, ws, "Pro", {"attribute": {"path": "plan", "op": "EQ", "value": "pro"}})
    create_segment(service, ws, "Rich", {"attribute": {"path": "ltv", "op": "GT", "value": 100}})
    receiver.secret = create_endpoint(service, ws, url=receiver.url, segmentIds=[pro], kinds=["EXITED"])["secret"]
    with service.track(ws) as track:
        assert track.put("/api/v1/customers/a", json={"plan": "pro", "ltv": 500}).status_code == 200
        assert track.put("/api/v1/customers/a", json={"plan": "free", "ltv": 5}).status_code == 200
        # b's exit is recorded after a's changes: once it arrived, anything else for this endpoint would have
        assert track.put("/api/v1/customers/b", json={"plan": "pro"}).status_code == 200
        assert track.put("/api/v1/customers/b", json={"plan": "free"}).status_code == 200
    receiver.wait_for(lambda: len(receiver.changes()) >= 2)
    received = receiver.changes()
    assert [(c["segment"]["id"], c["kind"], c["person"]["id"]) for c in received] == [(pro, "EXITED", "a"), (pro, "EXITED", "b")]
