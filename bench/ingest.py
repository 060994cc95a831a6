"""Benchmark: Track API ingestion through real HTTP on the embedded store.

Starts the service (embedded store, memory engine by default) on a free
port of 127.0.0.1, pre-loads the demo data set topped up to 100,000 stored
events (or to each of several sizes in turn), then sends `/api/v2/batch` requests of events for existing people
and reports events/s (median of several runs). Also measures the
single-event route sequentially and with concurrent clients (where the
group-commit writer batches them), and profiles one batch run on the
server's thread to show where the time goes.

    python -m bench.ingest [--engine memory|sqlite] [--stored 100000 [1000000 ...]] [--batch 500] [--batches 10] [--runs 5]

Figures depend on the machine; nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import platform
import pstats
import random
import socket
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from api.app import create_app
from api.settings import Settings
from rules.clock import SystemClock
from rules.store.collections import EVENTS
from rules.demo import load_demo
from rules.store.documents import event_document, event_id
from rules.workspaces import create_workspace

DEMO_PEOPLE = 2000
FILLER_CHUNK = 5000


class _Server:
    """The service on a free port, on its own thread and event loop."""

    def __init__(self, settings: Settings) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        self.app = create_app(Settings(**{**settings.__dict__, "port": port}), clock=SystemClock())
        self._server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=port, log_level="warning"))
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._ready.set()
        self.loop.run_until_complete(self._server.serve())

    def __enter__(self) -> _Server:
        self._thread.start()
        self._ready.wait()
        while not self._server.started:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.should_exit = True
        self._thread.join(60)

    def call(self, coroutine_function) -> Any:
        """Run `coroutine_function(db)` on the server's loop."""
        db = self.app.state.services.db
        return asyncio.run_coroutine_threadsafe(coroutine_function(db), self.loop).result()


def _machine() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, mongoeco {version('mongoeco')}"


async def _preload(db: Any, workspace_id: str, stored: int) -> int:
    """The demo data set (loaded on the first call), topped up with page views of its people to `stored` events."""
    now = time.time()
    if await db["people"].find_one({"ws": workspace_id}, {"_id": 1}) is None:
        await load_demo(db, workspace_id, now=now, people=DEMO_PEOPLE)
    have = await db[EVENTS].count_documents({"ws": workspace_id})
    people = [doc["_id"] async for doc in db["people"].find({"ws": workspace_id}, {"_id": 1})]
    rng = random.Random(1)
    for start in range(have, stored, FILLER_CHUNK):
        chunk = [
            event_document(
                workspace_id,
                doc_id=event_id(workspace_id, f"filler-{n}"),
                person_id=rng.choice(people),
                anonymous_id=None,
                type="page",
                name=f"/blog/{rng.randint(1, 500)}",
                data={},
                ts=now - rng.uniform(0, 90 * 86_400),
                received_at=now,
            )
            for n in range(start, min(start + FILLER_CHUNK, stored))
        ]
        await db[EVENTS].insert_many(chunk)
    return await db[EVENTS].count_documents({})


def _batch(rng: random.Random, size: int) -> dict:
    operations = []
    for _ in range(size):
        who = {"id": f"user-{rng.randrange(DEMO_PEOPLE):06d}"}
        if rng.random() < 0.3:
            operations.append({"type": "person", "action": "page", "identifiers": who, "name": f"/offers/{rng.randint(1, 20)}"})
        else:
            name = rng.choice(("purchase", "add_to_cart", "signed_in"))
            operations.append({"type": "person", "action": "event", "identifiers": who, "name": name, "attributes": {"amount": rng.randint(1, 300)}})
    return {"batch": operations}


def _batch_run(client: httpx.Client, rng: random.Random, batches: int, size: int) -> tuple[float, float]:
    """(events/s of wall time, events per second of this process's CPU time).

    On a machine shared with other work the wall rate falls with the load;
    the CPU rate (server, engine thread and client together, as they share
    this process) is about what an unloaded core would give."""
    payloads = [_batch(rng, size) for _ in range(batches)]
    started, cpu_started = time.perf_counter(), time.process_time()
    for payload in payloads:
        response = client.post("/api/v2/batch", json=payload)
        response.raise_for_status()
    return batches * size / (time.perf_counter() - started), batches * size / (time.process_time() - cpu_started)


def _single_events(server: _Server, workspace: dict, *, clients: int, per_client: int) -> tuple[float, float]:
    """(events/s, median request latency in ms) for v1 single-event requests from `clients` threads."""

    def send(index: int) -> list[float]:
        latencies = []
        with httpx.Client(base_url=server.base_url, auth=(workspace["siteId"], workspace["trackApiKey"])) as client:
            for n in range(per_client):
                started = time.perf_counter()
                client.post(f"/api/v1/customers/user-{(index * per_client + n) % DEMO_PEOPLE:06d}/events", json={"name": "signed_in"}).raise_for_status()
                latencies.append(time.perf_counter() - started)
        return latencies

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        latencies = [latency for result in pool.map(send, range(clients)) for latency in result]
    elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, statistics.median(latencies) * 1000


# Where the server's time goes: (label, file suffix, function) of the calls to add up.
PROFILE_BUCKETS = (
    ("store: find_one (by _id)", "mongoeco/api/_async/collection.py", "find_one"),
    ("store: insert_many", "mongoeco/api/_async/collection.py", "insert_many"),
    ("store: bulk_write", "mongoeco/api/_async/collection.py", "bulk_write"),
    ("parsing and validating the batch", "rules/ingest/parse.py", "v2_batch"),
    ("change listeners (membership engine)", "rules/ingest/group_commit.py", "_tell_listeners"),
)


def _profile_batch_run(server: _Server, client: httpx.Client, rng: random.Random, batches: int, size: int, top: int) -> str:
    profiler = cProfile.Profile()

    async def switch(db: Any, on: bool) -> None:  # started from the server's loop; Python 3.12+ profiles every thread
        profiler.enable() if on else profiler.disable()

    server.call(lambda db: switch(db, True))
    _batch_run(client, rng, batches, size)
    server.call(lambda db: switch(db, False))
    stats = pstats.Stats(profiler)
    lines = [f"{stats.total_tt:.2f} s profiled in all (the profiler slows everything down about 3x), of which:"]
    for label, suffix, function in PROFILE_BUCKETS:
        seconds = sum(row[3] for (file, _, name), row in stats.stats.items() if file.endswith(suffix) and name == function)
        lines.append(f"  {label:40s} {seconds:7.2f} s")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    lines.append(f"\ntop {top} functions by own time:")
    lines.append(out.getvalue().split("\n", 6)[-1].rstrip())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=("memory", "sqlite"), default="memory")
    parser.add_argument("--stored", type=int, nargs="+", default=[100_000],
                        help="events stored before measuring; several: measured at each, loading up in steps")
    parser.add_argument("--batch", type=int, default=500, help="events per /api/v2/batch request")
    parser.add_argument("--batches", type=int, default=10, help="requests per run")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--top", type=int, default=20, help="profile entries to show")
    args = parser.parse_args(argv)

    print(f"machine: {_machine()}")
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(
            embedded_engine=args.engine,
            data_dir=Path(data_dir),
            database="bench_ingest",
            # The benchmark measures ingestion, not the per-key rate limit.
            rate_limit_track=0,
        )
        with _Server(settings) as server:
            workspace = server.call(lambda db: create_workspace(db, "bench", now=time.time())).as_json()
            rng = random.Random(7)
            with httpx.Client(base_url=server.base_url, auth=(workspace["siteId"], workspace["trackApiKey"]), timeout=120) as client:
                for level, stored_target in enumerate(sorted(args.stored)):
                    print(f"\nstore: embedded {args.engine}; the demo data set topped up to {stored_target:,} events ...", flush=True)
                    started = time.perf_counter()
                    stored = server.call(lambda db: _preload(db, workspace["workspaceId"], stored_target))
                    print(f"  {stored:,} events stored ({time.perf_counter() - started:.1f} s to load this step; load average "
                          f"{os.getloadavg()[0]:.1f})")

                    print(f"/api/v2/batch, {args.batches} requests of {args.batch} events per run, with {stored:,} events stored:")
                    rates, cpu_rates = [], []
                    for run in range(1, args.runs + 1):
                        rate, cpu_rate = _batch_run(client, rng, args.batches, args.batch)
                        rates.append(rate)
                        cpu_rates.append(cpu_rate)
                        print(f"  run {run}: {rate:,.0f} events/s, {cpu_rate:,.0f} events per CPU-second (load average {os.getloadavg()[0]:.1f})")
                    print(f"  median: {statistics.median(rates):,.0f} events/s, {statistics.median(cpu_rates):,.0f} events per CPU-second"
                          "  (target: 5,000 events/s)", flush=True)

                    if level == 0:
                        print("\n/api/v1/customers/{id}/events, one event per request:")
                        for clients, per_client in ((1, 20), (8, 10)):
                            rate, latency = _single_events(server, workspace, clients=clients, per_client=per_client)
                            print(f"  {clients} client(s): {rate:,.0f} events/s, median latency {latency:.0f} ms")

                    print(f"\nprofile of one batch run ({args.batches} x {args.batch} events) with {stored:,} events stored:")
                    print(_profile_batch_run(server, client, rng, args.batches, args.batch, args.top), flush=True)
            final = server.call(lambda db: db[EVENTS].count_documents({}))
            print(f"events stored at the end: {final:,}")

if __name__ == "__main__":
    main()
