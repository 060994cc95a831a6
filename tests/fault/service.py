"""A real `segments serve` process on the embedded SQLite store, for the
fault tests: started on a free 127.0.0.1 port, optionally armed with a crash
point (`SEGMENTS_FAULT_POINT`, rules/faults.py), killed with SIGKILL and
started again on the same data directory."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from api.settings import Settings
from api.store import open_store
from rules.store.collections import PEOPLE
from rules.faults import FAULT_POINT_VARIABLE
from rules.workspaces import create_workspace
from tests.conftest import HTTP


def create_workspace_in(data_dir: Path, seed: Callable[[Any, str], Any] | None = None) -> dict[str, str]:
    """A workspace in the store under `data_dir`; `seed(db, workspace_id)` (a
    coroutine function) writes its data directly."""

    async def create() -> dict[str, str]:
        store = await open_store(Settings(embedded_engine="sqlite", data_dir=data_dir))
        try:
            created = await create_workspace(store.db, "fault", now=time.time())
            if seed is not None:
                await seed(store.db, created.workspace.id)
            return created.as_json()
        finally:
            await store.close()

    return asyncio.run(create())


def numbered_people(count: int) -> Callable[[Any, str], Any]:
    """A seed of `count` people, cioIds `{i:020x}`, profile ids `u{i}`, attribute `n` = i."""

    async def seed(db: Any, workspace_id: str) -> None:
        people = [
            {"_id": f"{i:020x}", "ws": workspace_id, "id": f"u{i}", "email": None, "emailLower": None,
             "attributes": {"n": i}, "createdAt": 1.0, "updatedAt": 1.0, "suppressed": False}
            for i in range(count)
        ]  # fmt: skip
        for start in range(0, len(people), 1000):
            await db[PEOPLE].insert_many(people[start : start + 1000])

    return seed


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Service:
    def __init__(
        self,
        data_dir: Path,
        workspace: dict[str, str],
        *,
        fault_point: str | None = None,
        start_timeout: float = 60,
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.headers = {"Authorization": f"Bearer {workspace['appApiKey']}"}
        self.track_auth = (workspace["siteId"], workspace["trackApiKey"])
        # Rate limits off: the tests poll faster than a client would. A short
        # work lease: a restart after a kill waits for the dead process's lease
        # to run out before it resumes builds and the scheduler (30 s by default).
        env = {**os.environ, "SEGMENTS_EMBEDDED_ENGINE": "sqlite", "SEGMENTS_DATA_DIR": str(data_dir),
               "SEGMENTS_PORT": str(self.port), "SEGMENTS_RATE_LIMIT_GRAPHQL": "0", "SEGMENTS_RATE_LIMIT_TRACK": "0",
               "SEGMENTS_RATE_LIMIT_APP": "0", "SEGMENTS_WORK_LEASE_SECONDS": "5", **(env or {})}
        env.pop("SEGMENTS_MONGODB_URI", None)
        env.pop(FAULT_POINT_VARIABLE, None)
        if fault_point is not None:
            env[FAULT_POINT_VARIABLE] = fault_point
        segments_cli = Path(sys.executable).parent / "segments"
        self.process = subprocess.Popen([str(segments_cli), "serve"], env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + start_timeout
        while True:
            if self.process.poll() is not None:
                # An armed service may reach its crash point while starting (the
                # scheduler runs at once); the test checks how it died.
                assert fault_point is not None, "segments serve exited"
                return
            assert time.monotonic() < deadline, "segments serve did not start"
            try:
                if HTTP.get(f"{self.base_url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        response = HTTP.post(f"{self.base_url}/graphql", json={"query": query, "variables": variables or {}},
                              headers=self.headers, timeout=120)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        return body["data"]

    def segment(self, segment_id: str) -> dict:
        query = "query($id: ID!) { segment(id: $id) { state memberCount progress { done total } } }"
        return self.graphql(query, {"id": segment_id})["segment"]

    def create_segment(self, name: str, condition: dict | None = None) -> str:
        mutation = """mutation($name: String!, $c: ConditionInput, $type: SegmentType!) {
            createSegment(input: {name: $name, type: $type, condition: $c}) { ... on Segment { id } ... on Error { message } } }"""
        segment_type = "DATA_DRIVEN" if condition is not None else "MANUAL"
        created = self.graphql(mutation, {"name": name, "c": condition, "type": segment_type})["createSegment"]
        assert "id" in created, created
        return created["id"]

    def track(self, method: str, path: str, body: dict) -> httpx.Response:
        return HTTP.request(method, f"{self.base_url}{path}", json=body, auth=self.track_auth, timeout=60)

    def wait_until_dead(self, timeout: float = 60) -> int:
        """The exit status of a process expected to kill itself at its crash point."""
        return self.process.wait(timeout)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        self.process.wait(30)


def all_changes(service: Service, segment_id: str) -> list[dict[str, Any]]:
    """The segment's whole history, oldest first."""
    query = """query($id: ID!, $after: String) { segment(id: $id) { changes(first: 500, after: $after) {
        pageInfo { hasNextPage endCursor } edges { node { kind personCioId at recordedAt } } } } }"""
    changes, after = [], None
    while True:
        page = service.graphql(query, {"id": segment_id, "after": after})["segment"]["changes"]
        changes += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return sorted(changes, key=lambda c: c["at"])
        after = page["pageInfo"]["endCursor"]
