"""Two `segments serve` processes on one embedded sqlite data directory share
the work that must run once: a segment's build and the time-window
re-evaluations are claimed with a lease in the store (rules/store/leases.py). The
history says whether anything ran twice: each person has exactly one ENTERED
per build and one EXITED per window that ran out. A killed holder's build is
finished by the other process once its lease runs out."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter

from api.settings import Settings
from api.store import open_store
from rules.store.collections import PEOPLE
from tests.fault.service import Service, all_changes, create_workspace_in, numbered_people

PEOPLE_COUNT = 3000
LEASE_SECONDS = 4
ENV = {"SEGMENTS_WORK_LEASE_SECONDS": str(LEASE_SECONDS)}
EVERYONE = {"attribute": {"path": "n", "op": "GTE", "value": 0}}


def _wait_until_ready(service: Service, segment_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while (state := service.segment(segment_id))["state"] == "BUILDING":
        assert time.monotonic() < deadline, f"segment {segment_id} is still BUILDING"
        time.sleep(0.1)
    return state


def _kinds_per_person(service: Service, segment_id: str) -> dict[str, Counter]:
    kinds: dict[str, Counter] = {}
    for change in all_changes(service, segment_id):
        kinds.setdefault(change["personCioId"], Counter())[change["kind"]] += 1
    return kinds


def _everyone_entered_once(service: Service, segment_id: str) -> None:
    kinds = _kinds_per_person(service, segment_id)
    assert set(kinds) == {f"{i:020x}" for i in range(PEOPLE_COUNT)}
    assert all(k == Counter({"ENTERED": 1}) for k in kinds.values()), [k for k in kinds.values() if k != Counter({"ENTERED": 1})][:5]


def test_a_build_runs_once_and_a_killed_builder_is_taken_over(tmp_path):
    workspace = create_workspace_in(tmp_path, numbered_people(PEOPLE_COUNT))
    first = Service(tmp_path, workspace, env=ENV)
    second = Service(tmp_path, workspace, env=ENV)
    try:
        # Both alive: the second finds the segment BUILDING every second and
        # tries to build it too; the lease lets only the first one.
        shared = first.create_segment("Everyone", EVERYONE)
        assert _wait_until_ready(second, shared)["memberCount"] == PEOPLE_COUNT
        _everyone_entered_once(second, shared)

        # The builder killed half-way: the other finishes after the lease runs out.
        interrupted = first.create_segment("Everyone again", EVERYONE)
        deadline = time.monotonic() + 60
        while not 0 < (progress := first.segment(interrupted)["progress"])["done"] < progress["total"]:
            assert time.monotonic() < deadline, f"the build ended before it could be interrupted: {progress}"
            time.sleep(0.02)
        first.stop(signal.SIGKILL)
        assert _wait_until_ready(second, interrupted)["memberCount"] == PEOPLE_COUNT
        _everyone_entered_once(second, interrupted)
    finally:
        first.stop(signal.SIGKILL)
        second.stop()


def _set_seen(data_dir, workspace_id: str, seen: float) -> None:
    async def write() -> None:
        store = await open_store(Settings(embedded_engine="sqlite", data_dir=data_dir))
        try:
            await store.db[PEOPLE].update_many({"ws": workspace_id}, {"$set": {"attributes.seen": seen}})
        finally:
            await store.close()

    asyncio.run(write())


def test_a_time_window_runs_out_once_with_two_schedulers(tmp_path):
    count = 300
    workspace = create_workspace_in(tmp_path, numbered_people(count))
    first = Service(tmp_path, workspace, env=ENV)
    second = Service(tmp_path, workspace, env=ENV)
    try:
        window = 6
        _set_seen(tmp_path, workspace["workspaceId"], time.time())
        recent = {"attribute": {"path": "seen", "op": "WITHIN_LAST", "value": {"seconds": window}}}
        segment_id = second.create_segment("Seen lately", recent)
        assert _wait_until_ready(first, segment_id)["memberCount"] == count
        # Both schedulers poll every second; the one holding the lease re-evaluates.
        deadline = time.monotonic() + window + 30
        while first.segment(segment_id)["memberCount"] > 0:
            assert time.monotonic() < deadline, "the window ran out but people stayed members"
            time.sleep(0.2)
        time.sleep(2)  # a second scheduler round, if one ran twice, would have written by now
        kinds = _kinds_per_person(first, segment_id)
        assert len(kinds) == count
        assert all(k == Counter({"ENTERED": 1, "EXITED": 1}) for k in kinds.values()), [k for k in kinds.values()][:5]
    finally:
        first.stop()
        second.stop()
