"""Benchmark: the dashboard read (segment list with counts + first member
page) under concurrent clients, from a separate process, against one or
more `segments serve` processes sharing one embedded sqlite data directory.

The demo data set is written into a fresh data directory, the service
processes are started on it (each on its own 127.0.0.1 port; the build and
the scheduler are shared through leases, rules/store/leases.py), and this process
runs the clients on threads, spread round-robin over the services. Figures
only; nothing is asserted.

Then one request is profiled (bench/dashboard_profile.py): its store calls
(how many, how long each) and whose code the rest of its time is.

    python -m bench.dashboard [--people 2000] [--clients 50] [--workers 1 2] [--profile-requests 50]
    python -m bench.dashboard --data-dir .bench-scale/100000-default   # the store of `make bench-scale`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bench.dashboard_profile import profile_dashboard
from api.settings import Settings
from api.store import open_store
from bench.scale import BENCH_PREFIX, LOADED_MARKER, machine
from rules.workspaces import KeyKind, NewWorkspace, find_workspace, rotate_keys
from rules.demo import load_demo
from tests.fault.service import Service, create_workspace_in

HIGH_VALUE = {"attribute": {"path": "lifetime_value", "op": "GT", "value": 25000}}
DASHBOARD = """query($id: ID!) { segments { id memberCount }
  segment(id: $id) { members(first: 20) { totalCount edges { node { enteredAt id email } } } } }"""


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def run_clients(urls: list[str], app_key: str, segment_id: str, clients: int, per_client: int) -> tuple[list[float], float]:
    def client(index: int) -> list[float]:
        with httpx.Client(base_url=urls[index % len(urls)], headers={"Authorization": f"Bearer {app_key}"}, timeout=120) as http:
            times = []
            for _ in range(per_client):
                started = time.perf_counter()
                response = http.post("/graphql", json={"query": DASHBOARD, "variables": {"id": segment_id}})
                times.append(time.perf_counter() - started)
                assert response.status_code == 200 and "errors" not in response.json(), response.text
            return times

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        times = [t for run in pool.map(client, range(clients)) for t in run]
    return times, time.perf_counter() - started


def summary(times: list[float], wall: float) -> str:
    ms = [t * 1000 for t in times]
    return (f"p50 {statistics.median(ms):.0f} ms, p99 {percentile(ms, 99):.0f} ms, max {max(ms):.0f} ms; "
            f"{len(times) / wall:.0f} requests/s")


def scale_workspace(data_dir: Path) -> tuple[dict[str, str], str]:
    """The workspace of a store loaded by bench.scale, with new keys (the old
    ones stop working), and its `bench: high value` segment."""

    async def keys() -> tuple[dict[str, str], str]:
        workspace_id = json.loads((data_dir / LOADED_MARKER).read_text())["workspaceId"]
        store = await open_store(Settings(embedded_engine="sqlite", data_dir=data_dir))
        try:
            workspace = await find_workspace(store.db, workspace_id)
            new = {key.kind: key.value for key in await rotate_keys(store.db, workspace_id, list(KeyKind), now=time.time())}
            segment = await store.db["segments"].find_one({"ws": workspace_id, "name": BENCH_PREFIX + "high value"})
            if segment is None:
                raise SystemExit(f"{data_dir} has no '{BENCH_PREFIX}high value' segment: run bench.scale on it first")
            keyed = NewWorkspace(workspace=workspace, track_api_key=new[KeyKind.TRACK], app_api_key=new[KeyKind.APP])
            return keyed.as_json(), segment["_id"]
        finally:
            await store.close()

    return asyncio.run(keys())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--per-client", type=int, default=10)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="numbers of serve processes to measure")
    parser.add_argument("--profile-requests", type=int, default=50, help="requests profiled at the end (0: none)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="a store loaded and built by bench.scale (e.g. .bench-scale/100000-default) instead of a fresh demo")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    segment_id = None
    if args.data_dir is not None:
        data_dir = args.data_dir
        workspace, segment_id = scale_workspace(data_dir)
        print(f"the store of bench.scale in {data_dir}, its workspace {workspace['workspaceId']}")
    else:
        data_dir = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))

        async def seed(db, workspace_id):
            print(f"demo data: {await load_demo(db, workspace_id, now=time.time(), people=args.people)}")

        workspace = create_workspace_in(data_dir, seed)
    for workers in args.workers:
        services = [Service(data_dir, workspace) for _ in range(workers)]
        try:
            if segment_id is None:
                segment_id = services[0].create_segment("High value", HIGH_VALUE)
                while services[0].segment(segment_id)["state"] == "BUILDING":
                    time.sleep(0.2)
            urls = [s.base_url for s in services]
            key = workspace["appApiKey"]
            print(f"\n{workers} serve process(es) on one sqlite file, clients in this separate process:")
            times, wall = run_clients(urls, key, segment_id, 1, 50)
            print(f"  1 client x 50:   {summary(times, wall)}")
            times, wall = run_clients(urls, key, segment_id, args.clients, args.per_client)
            print(f"  {args.clients} clients x {args.per_client}: {summary(times, wall)}  (target p99 < 50 ms)")
        finally:
            for service in services:
                service.stop()
    if args.profile_requests:
        profile_dashboard(data_dir, workspace, segment_id, DASHBOARD, args.profile_requests)


if __name__ == "__main__":
    main()
