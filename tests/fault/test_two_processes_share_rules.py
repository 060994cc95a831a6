"""Two `segments serve` processes on one embedded sqlite data directory see
each other's segment edits: a condition changed or a segment deleted on one
is what the other evaluates ingested people with at once (the workspace's
rules version, rules/segments/records.py), and a build under way in one when
the other changes the condition does not end READY with the old members
(the segment's generation supersedes it, rules/membership/engine.py). Both
ingesting for the same people at once record each change once (the
membership row decides, rules/membership/journal.py). docs/decisions.md #22."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from api.settings import Settings
from api.store import open_store
from rules.store.collections import MEMBERSHIP_CHANGES, MEMBERSHIPS
from tests.fault.service import Service, all_changes, create_workspace_in, numbered_people

ENV = {"SEGMENTS_WORK_LEASE_SECONDS": "4"}
UPDATE = """mutation($id: ID!, $c: ConditionInput) { updateSegment(id: $id, input: {condition: $c}) {
    ... on Segment { id } ... on Error { message } } }"""
DELETE = "mutation($id: ID!) { deleteSegment(id: $id) { ... on DeletedSegment { id } ... on Error { message } } }"
PERSON = "query($id: String) { person(id: $id) { cioId } }"
MEMBERS = "query($id: ID!) { segment(id: $id) { state members(first: 500) { edges { node { id } } } } }"


def _n(op: str, value: int) -> dict:
    return {"attribute": {"path": "n", "op": op, "value": value}}


def _eventually(check: Callable[[], object], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def _ready_members(service: Service, segment_id: str) -> set[str] | None:
    """The profile ids of the segment's members, None while it builds."""
    segment = service.graphql(MEMBERS, {"id": segment_id})["segment"]
    if segment["state"] != "READY":
        return None
    return {edge["node"]["id"] for edge in segment["members"]["edges"]}


def _identify(service: Service, profile_id: str, n: int) -> None:
    response = service.track("PUT", f"/api/v1/customers/{profile_id}", {"n": n})
    assert response.status_code == 200, response.text


def _stored_rows_of(data_dir: Path, segment_id: str) -> dict[str, list[dict]]:
    """What the store holds for a segment, read directly (a deleted segment has no API)."""

    async def read() -> dict[str, list[dict]]:
        store = await open_store(Settings(embedded_engine="sqlite", data_dir=data_dir))
        try:
            return {
                name: await store.db[name].find({"segmentId": segment_id}).to_list()
                for name in (MEMBERSHIPS, MEMBERSHIP_CHANGES)
            }
        finally:
            await store.close()

    return asyncio.run(read())


def test_an_edit_on_one_process_is_what_the_other_evaluates_ingested_people_with(tmp_path):
    workspace = create_workspace_in(tmp_path)
    editor = Service(tmp_path, workspace, env=ENV)
    ingester = Service(tmp_path, workspace, env=ENV)
    try:
        for i in range(30):
            _identify(ingester, f"u{i}", i)
        edited = editor.create_segment("Large n", _n("GTE", 100))
        deleted = editor.create_segment("Large n too", _n("GTE", 100))
        for segment_id in (edited, deleted):
            _eventually(lambda: _ready_members(ingester, segment_id) == set(), "the segments were not built")
        # The ingester evaluates both segments now, and has their rules cached.
        _identify(ingester, "u1", 150)
        _eventually(lambda: _ready_members(editor, deleted) == {"u1"}, "u1 did not enter on the ingester")

        changed = editor.graphql(UPDATE, {"id": edited, "c": _n("LT", 10)})["updateSegment"]
        assert changed == {"id": edited}, changed
        everyone_below_10 = {f"u{i}" for i in range(10)} - {"u1"}  # u1 has n = 150 now
        _eventually(lambda: _ready_members(editor, edited) == everyone_below_10, "the edited segment was not rebuilt")
        removed = editor.graphql(DELETE, {"id": deleted})["deleteSegment"]
        assert removed == {"id": deleted}, removed

        # Under the old condition u2 (n = 150) would stay and u20 (n = 5) stay out;
        # under the new one u2 leaves and u20 enters. u3 (n = 300) matched the deleted segment.
        for profile_id, n in (("u2", 150), ("u20", 5), ("u3", 300)):
            _identify(ingester, profile_id, n)
        expected = (everyone_below_10 - {"u2", "u3"}) | {"u20"}
        _eventually(lambda: _ready_members(editor, edited) == expected, "the ingester evaluated the old condition")
        cio_ids = {p: editor.graphql(PERSON, {"id": p})["person"]["cioId"] for p in ("u2", "u20")}
        changes = [(c["personCioId"], c["kind"]) for c in all_changes(editor, edited)]
        assert changes.count((cio_ids["u20"], "ENTERED")) == 1 and changes.count((cio_ids["u2"], "EXITED")) == 1, changes

        # The deleted segment got no new rows from the ingester.
        assert _stored_rows_of(tmp_path, deleted) == {MEMBERSHIPS: [], MEMBERSHIP_CHANGES: []}
    finally:
        editor.stop()
        ingester.stop()


def test_a_condition_edited_during_another_processs_build_is_built_again(tmp_path):
    count = 3000
    workspace = create_workspace_in(tmp_path, numbered_people(count))
    builder = Service(tmp_path, workspace, env=ENV)
    editor = Service(tmp_path, workspace, env=ENV)
    try:
        segment_id = builder.create_segment("Everyone", _n("GTE", 0))
        deadline = time.monotonic() + 60
        while not 0 < (progress := builder.segment(segment_id)["progress"])["done"] < progress["total"]:
            assert time.monotonic() < deadline, f"the build ended before the edit: {progress}"
            time.sleep(0.02)
        changed = editor.graphql(UPDATE, {"id": segment_id, "c": _n("LT", 1000)})["updateSegment"]
        assert changed == {"id": segment_id}, changed

        deadline = time.monotonic() + 120
        while (state := editor.segment(segment_id))["state"] != "READY":
            assert time.monotonic() < deadline, f"segment {segment_id} did not become READY: {state}"
            time.sleep(0.1)
        assert state["memberCount"] == 1000, state
        # The history replayed gives the same members: each person's changes
        # alternate, starting with ENTERED, and end in the segment only for n < 1000.
        history: dict[str, list[str]] = {}
        for change in all_changes(editor, segment_id):
            history.setdefault(change["personCioId"], []).append(change["kind"])
        for person, kinds in history.items():
            assert kinds == ["ENTERED", "EXITED"][: len(kinds)], (person, kinds)
        members = {person for person, kinds in history.items() if kinds[-1] == "ENTERED"}
        assert members == {f"{i:020x}" for i in range(1000)}
    finally:
        builder.stop()
        editor.stop()


def _histories(data_dir: Path, segment_id: str, order: str) -> dict[str, list[str]]:
    """Each person's changes in the segment, in `order` (`seq`: as recorded, `at`: as dated)."""
    history: dict[str, list[str]] = {}
    for change in sorted(_stored_rows_of(data_dir, segment_id)[MEMBERSHIP_CHANGES], key=lambda c: c[order]):
        history.setdefault(change["personId"], []).append(change["kind"])
    return history


def test_two_processes_ingesting_the_same_people_at_once_record_each_change_once(tmp_path):
    people, rounds = 12, 8
    workspace = create_workspace_in(tmp_path)
    first = Service(tmp_path, workspace, env=ENV)
    second = Service(tmp_path, workspace, env=ENV)
    try:
        for i in range(people):
            _identify(first, f"p{i}", 0)
        segment_id = first.create_segment("Large n", _n("GTE", 50))
        _eventually(lambda: _ready_members(second, segment_id) == set(), "the segment was not built")

        # Both processes get the same identifies at the same moment, so both
        # evaluate each person from the same membership state: in and out of the segment.
        def send(service: Service, n: int) -> None:
            for i in range(people):
                _identify(service, f"p{i}", n)

        with ThreadPoolExecutor(2) as pool:
            for round_ in range(rounds):
                n = 100 if round_ % 2 == 0 else 0
                list(pool.map(send, (first, second), (n, n)))
                time.sleep(0.3)
        # the last round put everyone out: wait until both processes' evaluations landed
        _eventually(lambda: _ready_members(first, segment_id) == set(), "people stayed in the segment")
        time.sleep(1)

        for order in ("seq", "at"):
            history = _histories(tmp_path, segment_id, order)
            assert len(history) == people
            for person, kinds in history.items():
                assert kinds == ["ENTERED", "EXITED"] * (len(kinds) // 2), (order, person, kinds)
        assert first.segment(segment_id)["memberCount"] == 0
    finally:
        first.stop()
        second.stop()
