"""Benchmark: Segment-spec `/v1/batch` next to the Track API's `/api/v2/batch`,
on the same server and the same run, with the same events.

Starts the service on the embedded store (as bench/ingest.py does), pre-loads
the demo data set topped up to `--stored` events, then alternates runs of the
routes: each request carries `--batch` messages (500 by default, Segment's
and Customer.io's batch size), 70% tracks and 30% page views of existing
people. The Segment-spec messages are what an SDK sends: ISO timestamps, a
`sentAt`, a `messageId` each and a `context`. The Track API batch runs
twice, without and with a client id per event: Segment messages always carry
a `messageId`, and the de-duplication lookup it costs is a large part of the
difference. Prints events/s per run and the medians; nothing passes or fails.

    python -m bench.segment_spec [--engine memory|sqlite] [--stored 50000] [--batch 500] [--batches 10] [--runs 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import httpx

from api.settings import Settings
from bench.ingest import DEMO_PEOPLE, _machine, _preload, _Server
from rules.store.collections import EVENTS
from rules.workspaces import create_workspace

CONTEXT = {"library": {"name": "bench", "version": "1.0"}, "ip": "203.0.113.7", "locale": "en-US"}


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat()


def _events(rng: random.Random, size: int) -> list[tuple[str, str, str, int]]:
    """(kind, person, name or URL, amount) for one request."""
    events = []
    for _ in range(size):
        person = f"user-{rng.randrange(DEMO_PEOPLE):06d}"
        if rng.random() < 0.3:
            events.append(("page", person, f"https://shop.example/offers/{rng.randint(1, 20)}", 0))
        else:
            events.append(("track", person, rng.choice(("purchase", "add_to_cart", "signed_in")), rng.randint(1, 300)))
    return events


def _v2_body(events: list[tuple[str, str, str, int]], *, event_ids: bool = False) -> dict:
    """The Track API's batch; `event_ids` gives each event a client id, as every Segment message has."""
    operations = []
    for kind, person, name, amount in events:
        who = {"id": person}
        if kind == "page":
            operation = {"type": "person", "action": "page", "identifiers": who, "name": name}
        else:
            operation = {"type": "person", "action": "event", "identifiers": who, "name": name, "attributes": {"amount": amount}}
        if event_ids:
            operation["id"] = str(uuid.uuid4())
        operations.append(operation)
    return {"batch": operations}


def _segment_body(events: list[tuple[str, str, str, int]]) -> dict:
    now = time.time()
    messages = []
    for kind, person, name, amount in events:
        common = {"userId": person, "messageId": str(uuid.uuid4()), "timestamp": _iso(now), "context": CONTEXT}
        if kind == "page":
            messages.append({"type": "page", "properties": {"url": name}, **common})
        else:
            messages.append({"type": "track", "event": name, "properties": {"amount": amount}, **common})
    return {"batch": messages, "sentAt": _iso(now)}


def _run(client: httpx.Client, path: str, bodies: list[dict], size: int) -> float:
    started = time.perf_counter()
    for body in bodies:
        client.post(path, json=body).raise_for_status()
    return len(bodies) * size / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=("memory", "sqlite"), default="memory")
    parser.add_argument("--stored", type=int, default=50_000, help="events stored before measuring")
    parser.add_argument("--batch", type=int, default=500, help="messages per request")
    parser.add_argument("--batches", type=int, default=10, help="requests per run")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    print(f"machine: {_machine()}")
    with tempfile.TemporaryDirectory() as data_dir:
        # The benchmark measures ingestion, not the per-key rate limit.
        settings = Settings(embedded_engine=args.engine, data_dir=Path(data_dir), database="bench_segment_spec", rate_limit_track=0)
        with _Server(settings) as server:
            workspace = server.call(lambda db: create_workspace(db, "bench", now=time.time())).as_json()
            print(f"store: embedded {args.engine}; pre-loading the demo data set topped up to {args.stored:,} events ...", flush=True)
            stored = server.call(lambda db: _preload(db, workspace["workspaceId"], args.stored))
            print(f"  {stored:,} events stored")
            rng = random.Random(7)
            routes = ("/api/v2/batch", "/api/v2/batch with event ids", "/v1/batch")
            rates: dict[str, list[float]] = {route: [] for route in routes}
            track = httpx.Client(base_url=server.base_url, auth=(workspace["siteId"], workspace["trackApiKey"]), timeout=120)
            segment = httpx.Client(base_url=server.base_url, auth=(workspace["trackApiKey"], ""), timeout=120)
            print(f"\n{args.batches} requests of {args.batch} messages per run, the routes alternating:")
            with track, segment:
                for run in range(1, args.runs + 1):
                    requests = [_events(rng, args.batch) for _ in range(args.batches)]
                    rates[routes[0]].append(_run(track, "/api/v2/batch", [_v2_body(r) for r in requests], args.batch))
                    rates[routes[1]].append(_run(track, "/api/v2/batch", [_v2_body(r, event_ids=True) for r in requests], args.batch))
                    rates[routes[2]].append(_run(segment, "/v1/batch", [_segment_body(r) for r in requests], args.batch))
                    print(f"  run {run}: " + ", ".join(f"{route} {rates[route][-1]:,.0f}" for route in routes) + " events/s")
            medians = {route: statistics.median(rates[route]) for route in routes}
            print("  median: " + ", ".join(f"{route} {medians[route]:,.0f}" for route in routes) + " events/s")
            print(f"  /v1/batch against /api/v2/batch: {medians[routes[2]] / medians[routes[0]]:.2f}x; "
                  f"against /api/v2/batch with event ids: {medians[routes[2]] / medians[routes[1]]:.2f}x")
            final = server.call(lambda db: db[EVENTS].count_documents({}))
            print(f"events stored at the end: {final:,}")


if __name__ == "__main__":
    main()
