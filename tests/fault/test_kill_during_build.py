"""`segments serve` killed (SIGKILL) while a large segment is BUILDING comes
back with consistent membership and history: members are exactly the
matching people, each with one ENTERED change and no duplicates."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

from api.settings import Settings
from api.store import open_store
from rules.collections import PEOPLE
from rules.workspaces import create_workspace

PEOPLE_COUNT = 1500
CONDITION = {"attribute": {"path": "n", "op": "GTE", "value": 500}}
EXPECTED_MEMBERS = PEOPLE_COUNT - 500


def _seed(data_dir: Path, people_count: int = PEOPLE_COUNT) -> dict[str, str]:
    async def seed() -> dict[str, str]:
        store = await open_store(Settings(embedded_engine="sqlite", data_dir=data_dir))
        try:
            created = await create_workspace(store.db, "fault", now=time.time())
            ws = created.workspace.id
            people = [
                {"_id": f"{i:020x}", "ws": ws, "id": f"u{i}", "email": None, "emailLower": None,
                 "attributes": {"n": i}, "createdAt": 1.0, "updatedAt": 1.0, "suppressed": False}
                for i in range(people_count)
            ]
            for start in range(0, len(people), 1000):
                await store.db[PEOPLE].insert_many(people[start : start + 1000])
            return created.as_json()
        finally:
            await store.close()

    return asyncio.run(seed())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Service:
    def __init__(self, data_dir: Path, workspace: dict[str, str], *, env: dict[str, str] | None = None) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.headers = {"Authorization": f"Bearer {workspace['appApiKey']}"}
        env = {**os.environ, "SEGMENTS_EMBEDDED_ENGINE": "sqlite", "SEGMENTS_DATA_DIR": str(data_dir),
               "SEGMENTS_PORT": str(self.port), "SEGMENTS_RATE_LIMIT_GRAPHQL": "0", **(env or {})}
        env.pop("SEGMENTS_MONGODB_URI", None)
        segments_cli = Path(sys.executable).parent / "segments"
        self.process = subprocess.Popen([str(segments_cli), "serve"], env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            assert self.process.poll() is None, "segments serve exited"
            assert time.monotonic() < deadline, "segments serve did not start"
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        response = httpx.post(f"{self.url}/graphql", json={"query": query, "variables": variables or {}},
                              headers=self.headers, timeout=60)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        return body["data"]

    def segment(self, segment_id: str) -> dict:
        query = "query($id: ID!) { segment(id: $id) { state memberCount progress { done total } } }"
        return self.graphql(query, {"id": segment_id})["segment"]

    def stop(self, sig: int = signal.SIGTERM) -> None:
        self.process.send_signal(sig)
        self.process.wait(30)


def _all_changes(service: Service, segment_id: str) -> list[tuple[str, str]]:
    query = """query($id: ID!, $after: String) { segment(id: $id) { changes(first: 500, after: $after) {
        pageInfo { hasNextPage endCursor } edges { node { kind personCioId } } } } }"""
    changes, after = [], None
    while True:
        page = service.graphql(query, {"id": segment_id, "after": after})["segment"]["changes"]
        changes += [(e["node"]["personCioId"], e["node"]["kind"]) for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return changes
        after = page["pageInfo"]["endCursor"]


def test_killed_during_a_build_the_service_comes_back_consistent(tmp_path):
    workspace = _seed(tmp_path)
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
