"""`segments serve` killed (SIGKILL) while a large segment is BUILDING comes
back with consistent membership and history: members are exactly the
matching people, each with one ENTERED change and no duplicates."""

from __future__ import annotations

import signal
import time
from collections import Counter

from tests.fault.service import Service, all_changes, create_workspace_in, numbered_people

PEOPLE_COUNT = 1500
CONDITION = {"attribute": {"path": "n", "op": "GTE", "value": 500}}
EXPECTED_MEMBERS = PEOPLE_COUNT - 500


def _all_changes(service: Service, segment_id: str) -> list[tuple[str, str]]:
    return [(c["personCioId"], c["kind"]) for c in all_changes(service, segment_id)]


def test_killed_during_a_build_the_service_comes_back_consistent(tmp_path):
    workspace = create_workspace_in(tmp_path, numbered_people(PEOPLE_COUNT))
    first = Service(tmp_path, workspace)
    try:
        created = first.graphql(
            'mutation($c: ConditionInput!) { createSegment(input: {name: "Large", condition: $c}) { ... on Segment { id } } }',
            {"c": CONDITION},
        )
        segment_id = created["createSegment"]["id"]
        # Kill once some, not all, of the changes are written.
        deadline = time.monotonic() + 60
        while True:
            state = first.segment(segment_id)
            assert state["state"] == "BUILDING", f"the build ended before it could be interrupted: {state}"
            if 0 < state["progress"]["done"] < state["progress"]["total"]:
                break
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        first.stop(signal.SIGKILL)

    second = Service(tmp_path, workspace)
    try:
        deadline = time.monotonic() + 120
        while (state := second.segment(segment_id))["state"] == "BUILDING":
            assert time.monotonic() < deadline, "the interrupted build did not finish after the restart"
            time.sleep(0.2)
        assert state["state"] == "READY"
        members_query = 'query($id: ID!) { segment(id: $id) { members(first: 0) { totalCount } } }'
        preview_query = 'query($c: ConditionInput!) { previewSegment(condition: $c) { count } }'
        assert second.graphql(members_query, {"id": segment_id})["segment"]["members"]["totalCount"] == EXPECTED_MEMBERS
        assert second.graphql(preview_query, {"c": CONDITION})["previewSegment"]["count"] == EXPECTED_MEMBERS
        assert state["memberCount"] == EXPECTED_MEMBERS

        changes = _all_changes(second, segment_id)
        entered = Counter(person for person, kind in changes if kind == "ENTERED")
        assert all(kind == "ENTERED" for _, kind in changes)
        assert len(entered) == EXPECTED_MEMBERS and set(entered.values()) == {1}
        assert set(entered) == {f"{i:020x}" for i in range(500, PEOPLE_COUNT)}
    finally:
        second.stop()
