"""Benchmark: webhook delivery through real HTTP.

Starts the service (embedded memory engine by default) and three receivers
on 127.0.0.1, creates 20 data-driven segments and 3 endpoints following all
of them, then measures:

1. latency from the Track API's 200 to the receiver's 200 for the change it
   caused (an identify that moves a person into or out of some segments;
   every endpoint counts separately);
2. changes delivered per second during a bulk build: 2,000 people already
   stored, a new segment that all of them enter, until every endpoint has
   all 2,000 entries.

    python -m bench.webhooks [--engine memory|sqlite] [--moves 100] [--people 2000]

Figures depend on the machine; nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from api.settings import Settings
from bench.ingest import _machine as machine
from bench.ingest import _Server as Server
from bench.membership import GraphQLClient, summary
from rules.workspaces import create_workspace

SEGMENTS = {f"score >= {k * 5}": {"attribute": {"path": "score", "op": "GTE", "value": k * 5}} for k in range(20)}
CREATE_SEGMENT = """mutation($name: String!, $c: ConditionInput!) {
  createSegment(input: {name: $name, condition: $c}) { ... on Segment { id } ... on Error { message } } }"""
CREATE_ENDPOINT = """mutation($url: String!) { createWebhookEndpoint(input: {url: $url}) {
  ... on CreatedWebhookEndpoint { endpoint { id } } ... on Error { message } } }"""


class Receiver:
    """Answers 200 and notes when each (person id, segment id) change arrived (monotonic time)."""

    def __init__(self) -> None:
        self.arrivals: dict[tuple[str, str, str], float] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()
                now = time.monotonic()
                with receiver.lock:
                    for change in body["data"]:
                        receiver.arrivals.setdefault((change["person"]["id"], change["segment"]["id"], change["changeId"]), now)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self, person_prefix: str = "") -> int:
        with self.lock:
            return sum(1 for (person, _, _) in self.arrivals if person and person.startswith(person_prefix))

    def first_arrival(self, person: str, after: float) -> float | None:
        with self.lock:
            times = [t for (p, _, _), t in self.arrivals.items() if p == person and t >= after]
        return min(times) if times else None


def wait_until(condition, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("deliveries did not arrive")
        time.sleep(0.002)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", choices=["memory", "sqlite"], default="memory")
    parser.add_argument("--moves", type=int, default=100)
    parser.add_argument("--people", type=int, default=2000)
    args = parser.parse_args(argv)
    data_dir = Path(tempfile.mkdtemp(prefix="segments-bench-"))
    settings = Settings(embedded_engine=args.engine, data_dir=data_dir, database="bench_webhooks")
    receivers = [Receiver() for _ in range(3)]
    print(f"machine: {machine()}; engine: {args.engine}")
    with Server(settings) as server:
        workspace = server.call(lambda db: create_workspace(db, "bench", now=time.time())).as_json()
        graphql = GraphQLClient(server.base_url, workspace["appApiKey"])
        for name, condition in SEGMENTS.items():
            graphql(CREATE_SEGMENT, {"name": name, "c": condition})
        for receiver in receivers:
            graphql(CREATE_ENDPOINT, {"url": receiver.url})
        server.call(lambda db: server.app.state.services.membership.wait_for_builds())

        latencies: list[float] = []
        with httpx.Client(base_url=server.base_url, auth=(workspace["siteId"], workspace["trackApiKey"]), timeout=30) as track:
            for move in range(args.moves):
                person = f"mover{move}"
                response = track.put(f"/api/v1/customers/{person}", json={"score": 50})  # enters 11 segments
                answered = time.monotonic()
                response.raise_for_status()
                for receiver in receivers:
                    wait_until(lambda: receiver.first_arrival(person, 0) is not None, timeout=60)
                    latencies.append(receiver.first_arrival(person, 0) - answered)
        print(f"Track API 200 -> receiver 200 (20 segments, 3 endpoints): {summary(latencies)}")

        people = [{"id": f"bulk{i}", "score": 1000, "bulk": True} for i in range(args.people)]
        with httpx.Client(base_url=server.base_url, auth=(workspace["siteId"], workspace["trackApiKey"]), timeout=300) as track:
            for start in range(0, len(people), 500):
                batch = [{"type": "person", "action": "identify", "identifiers": {"id": p["id"]}, "attributes": {"bulk": True}}
                         for p in people[start : start + 500]]
                track.post("/api/v2/batch", json={"batch": batch}).raise_for_status()
        server.call(lambda db: server.app.state.services.membership.wait_for_builds())
        before = [r.count("bulk") for r in receivers]
        started = time.monotonic()
        graphql(CREATE_SEGMENT, {"name": "bulk", "c": {"attribute": {"path": "bulk", "op": "EQ", "value": True}}})
        server.call(lambda db: server.app.state.services.membership.wait_for_builds())
        built = time.monotonic() - started
        for receiver, already in zip(receivers, before):
            wait_until(lambda: receiver.count("bulk") >= already + args.people)
        elapsed = time.monotonic() - started
        delivered = sum(r.count("bulk") - b for r, b in zip(receivers, before))
        print(
            f"bulk build of {args.people} entries: all delivered to 3 endpoints in {elapsed:.2f} s "
            f"({delivered / elapsed:,.0f} changes delivered/s, {args.people / elapsed:,.0f} per endpoint); "
            f"the build itself took {built:.2f} s"
        )
    for receiver in receivers:
        receiver.server.shutdown()


if __name__ == "__main__":
    main()
