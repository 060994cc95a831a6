"""Values keep their JSON type through the Track API (issue 15): an update
that changes only the type (false -> 0, true -> 1, [false] -> [0]) is
written, re-evaluates the segments that depend on it, and a segment whose
condition changes only in its operand's type is rebuilt."""

from __future__ import annotations

import httpx

from tests.api.track_helpers import person, record_changes, stored
from tests.typed_json import typed

PERSON = 'query($id: String!) { person(id: $id) { attributes segments { segment { name } } } }'
CREATE = """
mutation($input: CreateSegmentInput!) { createSegment(input: $input) { __typename ... on Segment { id } } }"""
UPDATE = """
mutation($id: ID!, $input: UpdateSegmentInput!) {
  updateSegment(id: $id, input: $input) { __typename ... on Segment { state condition } }
}"""


def _ok(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text


def _segment(server, ws, name: str, path: str, value) -> str:
    condition = {"attribute": {"path": path, "op": "EQ", "value": value}}
    created = server.graphql(ws, CREATE, {"input": {"name": name, "condition": condition}})["data"]["createSegment"]
    assert created["__typename"] == "Segment", created
    return created["id"]


def _person(server, ws, profile_id: str) -> tuple[dict, set[str]]:
    found = server.graphql(ws, PERSON, {"id": profile_id})["data"]["person"]
    return found["attributes"], {s["segment"]["name"] for s in found["segments"]}


def test_the_reported_sequence_keeps_the_last_type_sent(server):
    ws = server.create_workspace()
    for name, path, value in (("flag false", "flag", False), ("flag 0", "flag", 0), ("m true", "m", True), ("m 1", "m", 1)):
        _segment(server, ws, name, path, value)
    server.call(lambda services: services.membership.wait_for_builds())
    changes = record_changes(server)
    with server.track(ws) as track:
        _ok(track.put("/api/v1/customers/zz1", json={"flag": False, "n": 1}))
        attributes, segments = _person(server, ws, "zz1")
        assert typed(attributes) == typed({"flag": False, "n": 1}) and segments == {"flag false"}

        _ok(track.put("/api/v1/customers/zz1", json={"flag": 0.0, "n": 1.0, "m": True}))
        attributes, segments = _person(server, ws, "zz1")
        # 1 and 1.0 are the same number (as in MongoDB): `n` did not change.
        assert typed(attributes) == typed({"flag": 0, "n": 1, "m": True}) and segments == {"flag 0", "m true"}
        assert changes[-1][2] == {"attributes", "attribute:flag", "attribute:m"}

        _ok(track.put("/api/v1/customers/zz1", json={"m": 1}))
        attributes, segments = _person(server, ws, "zz1")
        assert typed(attributes) == typed({"flag": 0, "n": 1, "m": 1}) and segments == {"flag 0", "m 1"}
    stored_attributes = person(server, ws, id="zz1")["attributes"]
    assert typed(stored_attributes) == typed({"flag": 0, "n": 1, "m": 1})


def test_type_only_changes_inside_objects_and_arrays_and_on_devices_are_written(server):
    ws = server.create_workspace()
    with server.track(ws) as track:
        _ok(track.put("/api/v1/customers/u1", json={"prefs": {"email": False, "sms": 1}, "tags": [False, 1], "score": 2}))
        first = person(server, ws, id="u1")
        _ok(track.put("/api/v1/customers/u1", json={"prefs": {"email": 0, "sms": True}, "tags": [0, True], "score": 2.0}))
        _ok(track.put("/api/v1/customers/u1/devices", json={"device": {"id": "tok", "platform": "ios", "attributes": {"push": True}}}))
        _ok(track.put("/api/v1/customers/u1/devices", json={"device": {"id": "tok", "platform": "ios", "attributes": {"push": 1}}}))
    second = person(server, ws, id="u1")
    assert typed(second["attributes"]) == typed({"prefs": {"email": 0, "sms": True}, "tags": [0, True], "score": 2})
    assert second["updatedAt"] >= first["updatedAt"]
    (device,) = stored(server, "devices", ws)
    assert typed(device["attributes"]) == typed({"push": 1})


def test_an_update_that_sends_the_same_values_changes_nothing(server):
    ws = server.create_workspace()
    changes = record_changes(server)
    with server.track(ws) as track:
        _ok(track.put("/api/v1/customers/u1", json={"flag": False, "n": 1, "nested": {"a": [True, 2]}}))
        before = person(server, ws, id="u1")
        calls = len(changes)
        _ok(track.put("/api/v1/customers/u1", json={"flag": False, "n": 1.0, "nested": {"a": [True, 2.0]}}))
    assert person(server, ws, id="u1") == before
    assert len(changes) == calls  # nothing changed: nobody is told


def test_a_condition_that_changes_only_its_operand_type_is_rebuilt(server):
    ws = server.create_workspace()
    with server.track(ws) as track:
        _ok(track.put("/api/v1/customers/off", json={"flag": False}))
        _ok(track.put("/api/v1/customers/zero", json={"flag": 0}))
    segment_id = _segment(server, ws, "flag", "flag", False)
    server.call(lambda services: services.membership.wait_for_builds())
    assert _person(server, ws, "off")[1] == {"flag"} and _person(server, ws, "zero")[1] == set()

    zero = {"attribute": {"path": "flag", "op": "EQ", "value": 0}}
    updated = server.graphql(ws, UPDATE, {"id": segment_id, "input": {"condition": zero}})["data"]["updateSegment"]
    assert updated["state"] == "BUILDING"
    assert typed(updated["condition"]) == typed({"attribute": {"path": "flag", "op": "eq", "value": 0}})
    server.call(lambda services: services.membership.wait_for_builds())
    assert _person(server, ws, "off")[1] == set() and _person(server, ws, "zero")[1] == {"flag"}


def test_a_merge_treats_false_and_0_as_values_not_gaps(server):
    ws = server.create_workspace()
    with server.track(ws) as track:
        _ok(track.put("/api/v1/customers/main", json={"flag": False, "n": 0, "empty": ""}))
        _ok(track.put("/api/v1/customers/dup", json={"flag": True, "n": 5, "empty": 0.0, "extra": [False]}))
        _ok(track.post("/api/v1/merge_customers", json={"primary": {"id": "main"}, "secondary": {"id": "dup"}}))
    merged = person(server, ws, id="main")["attributes"]
    assert typed(merged) == typed({"flag": False, "n": 0, "empty": 0.0, "extra": [False]})
