"""`segments serve` killed (SIGKILL) in each gap between the writes that
keep a time window's membership moving (docs/segments.md, "Crash safety"):
after a restart the person still leaves the "purchased in the last few
seconds" segment, once, dated when the window closed.

The process kills itself at a named crash point (`SEGMENTS_FAULT_POINT`,
rules/faults.py). Before the fix, a kill after the delete of
delete-then-insert schedules, or after `run_due` deleted a due entry,
left the person in the segment for good."""

from __future__ import annotations

import time
from datetime import datetime

import httpx
import pytest

from rules.store.collections import EVENTS, PEOPLE
from tests.fault.service import Service, all_changes, create_workspace_in

WINDOW_SECONDS = 3
BOUGHT_RECENTLY = {"event": {"name": "purchase", "window": {"within": {"seconds": WINDOW_SECONDS}}}}
# long enough for a build on a busy machine to start while she is in it
LONGER_WINDOW_SECONDS = 15
BOUGHT_IN_LONGER_WINDOW = {"event": {"name": "purchase", "window": {"within": {"seconds": LONGER_WINDOW_SECONDS}}}}
KILLED = -9


def _seconds(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def _buy(service: Service, bought_at: float) -> None:
    """ann, a new person, buys at `bought_at`."""
    assert service.track("PUT", "/api/v1/customers/ann", {"plan": "pro"}).status_code == 200
    response = service.track("POST", "/api/v1/customers/ann/events", {"name": "purchase", "timestamp": bought_at})
    assert response.status_code == 200, response.text


def _assert_left_when_the_window_closed(service: Service, segment_id: str, bought_at: float) -> None:
    deadline = time.monotonic() + 30
    while len(changes := all_changes(service, segment_id)) < 2:
        assert time.monotonic() < deadline, f"ann never left: {changes}"
        time.sleep(0.2)
    assert [c["kind"] for c in changes] == ["ENTERED", "EXITED"], changes
    entered, exited = changes
    assert bought_at <= _seconds(entered["at"]) < bought_at + WINDOW_SECONDS
    assert _seconds(exited["at"]) == pytest.approx(bought_at + WINDOW_SECONDS, abs=1e-3)
    assert _seconds(exited["recordedAt"]) >= _seconds(exited["at"])
    assert service.segment(segment_id)["memberCount"] == 0
    members = 'query($id: ID!) { segment(id: $id) { members(first: 0) { totalCount } } }'
    assert service.graphql(members, {"id": segment_id})["segment"]["members"]["totalCount"] == 0


@pytest.mark.parametrize("crash_point", ["reevaluate.after_due_marks", "reevaluate.after_changes"])
def test_killed_while_ingest_moves_someone_into_a_window(tmp_path, crash_point):
    workspace = create_workspace_in(tmp_path)
    first = Service(tmp_path, workspace, fault_point=crash_point)
    try:
        segment_id = first.create_segment("Bought recently", BOUGHT_RECENTLY)
        bought_at = time.time()
        with pytest.raises(httpx.TransportError):  # the service dies before answering
            _buy(first, bought_at)
        assert first.wait_until_dead() == KILLED
    finally:
        first.stop()
    second = Service(tmp_path, workspace)
    try:
        _assert_left_when_the_window_closed(second, segment_id, bought_at)
    finally:
        second.stop()


@pytest.mark.parametrize(
    "crash_point", ["reevaluate.after_due_marks", "reevaluate.after_changes", "run_due.after_reevaluate"]
)
def test_killed_while_the_window_closes(tmp_path, crash_point):
    workspace = create_workspace_in(tmp_path)
    first = Service(tmp_path, workspace)
    try:
        segment_id = first.create_segment("Bought recently", BOUGHT_RECENTLY)
        bought_at = time.time()
        _buy(first, bought_at)
        assert [c["kind"] for c in all_changes(first, segment_id)] == ["ENTERED"]
    finally:
        first.stop()
    # The scheduler of this one re-evaluates ann when the window closes, and dies in the gap.
    crashing = Service(tmp_path, workspace, fault_point=crash_point)
    try:
        assert crashing.wait_until_dead(timeout=WINDOW_SECONDS + 30) == KILLED
    finally:
        crashing.stop()
    third = Service(tmp_path, workspace)
    try:
        _assert_left_when_the_window_closed(third, segment_id, bought_at)
    finally:
        third.stop()


def test_killed_after_a_build_cleared_its_schedules(tmp_path):
    bought_at = time.time()

    async def ann_bought(db, workspace_id):
        person = {"_id": "ann", "ws": workspace_id, "id": "ann", "email": None, "emailLower": None,
                  "attributes": {}, "createdAt": bought_at, "updatedAt": bought_at, "suppressed": False}
        await db[PEOPLE].insert_many([person])
        await db[EVENTS].insert_many([{"_id": "purchase-1", "ws": workspace_id, "personId": "ann", "anonymousId": None,
                                       "type": "event", "name": "purchase", "data": {}, "ts": bought_at,
                                       "receivedAt": bought_at}])

    workspace = create_workspace_in(tmp_path, ann_bought)
    crashing = Service(tmp_path, workspace, fault_point="build.after_schedules_cleared")
    try:
        try:
            segment_id = crashing.create_segment("Bought recently", BOUGHT_IN_LONGER_WINDOW)
        except httpx.TransportError:
            pytest.fail("the build ran before createSegment answered")
        assert crashing.wait_until_dead() == KILLED
    finally:
        crashing.stop()
    third = Service(tmp_path, workspace)
    try:
        deadline = time.monotonic() + LONGER_WINDOW_SECONDS + 30
        while third.segment(segment_id)["state"] != "READY" or third.segment(segment_id)["memberCount"] != 0:
            assert time.monotonic() < deadline, third.segment(segment_id)
            time.sleep(0.2)
        changes = all_changes(third, segment_id)
        # Rebuilt at the restart: inside the window (she leaves when it closes)
        # or past it (the rebuild finds her out); either way out, once.
        assert [c["kind"] for c in changes] == ["ENTERED", "EXITED"], changes
        assert _seconds(changes[-1]["at"]) >= bought_at + LONGER_WINDOW_SECONDS - 1e-3
    finally:
        third.stop()
