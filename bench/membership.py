"""Benchmark: live segment membership on the demo data, through real HTTP.

Starts the service (embedded store, memory engine by default) on a free
port of 127.0.0.1, loads the demo data set, creates 20 segments of every
kind, waits for their builds, then measures:

1. Track API 200 -> membership change visible in GraphQL (identify calls
   that move a person in or out of "lifetime_value > 25000");
2. how late windowed exits happen: people enter "bench_ping in the last
   N seconds" and the real scheduler loop must let them out when the
   window passes (lateness = change time - the moment the window passed);
3. `previewSegment` time for a few conditions;
4. `segments { memberCount }` plus a first member page under 50
   concurrent clients.

    python -m bench.membership [--engine memory|sqlite] [--people 2000] [--moves 100] [--clients 50]

Figures depend on the machine; nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from api.settings import Settings
from bench.ingest import _machine as machine
from bench.ingest import _Server as Server
from rules.demo import load_demo
from rules.workspaces import create_workspace

HIGH_VALUE = {"attribute": {"path": "lifetime_value", "op": "GT", "value": 25000}}
OFFER_VIEWERS = {
    "all": [
        {"pageView": {"url": {"op": "STARTS_WITH", "value": "/offers/"}, "sameUrl": True,
                      "count": {"op": "AT_LEAST", "value": 5}, "window": {"within": {"days": 7}}}},
        {"not": {"event": {"name": "purchase"}}},
    ]
}
# The other 18 active segments: every condition kind, windows, references.
OTHER_SEGMENTS: dict[str, dict[str, Any]] = {
    "Pro plan": {"attribute": {"path": "plan", "op": "EQ", "value": "pro"}},
    "Enterprise in Europe": {"all": [{"attribute": {"path": "plan", "op": "EQ", "value": "enterprise"}},
                                     {"attribute": {"path": "country", "op": "IN", "value": ["GB", "DE", "FR"]}}]},
    "VIP tag": {"attribute": {"path": "tags", "op": "CONTAINS", "value": "vip"}},
    "Newsletter": {"attribute": {"path": "newsletter", "op": "EQ", "value": True}},
    "No lifetime value": {"attribute": {"path": "lifetime_value", "op": "NOT_EXISTS"}},
    "Buyers": {"event": {"name": "purchase"}},
    "Repeat buyers 90d": {"event": {"name": "purchase", "count": {"op": "AT_LEAST", "value": 2},
                                    "window": {"within": {"days": 90}}}},
    "Big baskets": {"event": {"name": "purchase", "filters": [{"path": "amount", "op": "GTE", "value": 100}]}},
    "Cart, no purchase 30d": {"all": [{"event": {"name": "add_to_cart", "window": {"within": {"days": 30}}}},
                                      {"not": {"event": {"name": "purchase", "window": {"within": {"days": 30}}}}}]},
    "Quiet for a month": {"event": {"name": "signed_in", "count": {"op": "AT_MOST", "value": 0},
                                    "window": {"within": {"days": 30}}}},
    "Pricing visitors": {"pageView": {"url": {"op": "EQ", "value": "/pricing"}}},
    "iOS users": {"device": {"platform": "ios"}},
    "Active app 14d": {"device": {"lastUsed": {"within": {"days": 14}}}},
    "Opened welcome": {"message": {"metric": "OPENED", "campaignId": "cmp_welcome"}},
    "Clicked in 60d": {"message": {"metric": "CLICKED", "window": {"within": {"days": 60}}}},
    "Free, many carts": {"all": [{"attribute": {"path": "plan", "op": "EQ", "value": "free"}},
                                 {"event": {"name": "add_to_cart", "count": {"op": "AT_LEAST", "value": 3}}}]},
    "Google sign-ins": {"event": {"name": "signed_in", "filters": [{"path": "method", "op": "EQ", "value": "google"}]}},
}
CREATE = """mutation($name: String!, $c: ConditionInput!) {
  createSegment(input: {name: $name, condition: $c}) { ... on Segment { id } ... on Error { message } } }"""
PERSON_SEGMENTS = "query($id: String!) { person(id: $id) { segments { segment { id } } } }"
DASHBOARD = """query($id: ID!) { segments { id memberCount }
  segment(id: $id) { members(first: 20) { totalCount edges { node { enteredAt id email } } } } }"""
PREVIEW = "query($c: ConditionInput!) { previewSegment(condition: $c) { count } }"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(values: list[float], unit: str = "ms", scale: float = 1000) -> str:
    return (
        f"p50 {percentile(values, 50) * scale:.1f} {unit}, p99 {percentile(values, 99) * scale:.1f} {unit}, "
        f"max {max(values) * scale:.1f} {unit} (n={len(values)})"
    )


class GraphQLClient:
    def __init__(self, base_url: str, app_key: str) -> None:
        self.http = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {app_key}"}, timeout=120)

    def __call__(self, query: str, variables: dict | None = None) -> dict:
        response = self.http.post("/graphql", json={"query": query, "variables": variables or {}})
        response.raise_for_status()
        body = response.json()
        if "errors" in body:
            raise RuntimeError(body["errors"])
        return body["data"]


def create_segments(server: Server, graphql: GraphQLClient, conditions: dict[str, dict]) -> dict[str, str]:
    ids = {}
    for name, condition in conditions.items():
        result = graphql(CREATE, {"name": name, "c": condition})["createSegment"]
        if "id" not in result:
            raise RuntimeError(f"{name}: {result}")
        ids[name] = result["id"]
    server.call(lambda db: server.app.state.services.membership.wait_for_builds())
    return ids


def visibility_latency(workspace: dict, base_url: str, graphql: GraphQLClient, segment_id: str, moves: int) -> tuple[list[float], list[float]]:
    """Identify calls that move people across 25000; time to 200, then 200 -> visible."""
    to_200, to_visible = [], []
    with httpx.Client(base_url=base_url, auth=(workspace["siteId"], workspace["trackApiKey"]), timeout=60) as track:
        for n in range(moves):
            person = f"user-{n % 200:06d}"
            enter = n % 2 == 0
            sent = time.perf_counter()
            track.put(f"/api/v1/customers/{person}", json={"lifetime_value": 30000 if enter else 10}).raise_for_status()
            answered = time.perf_counter()
            while True:
                segments = graphql(PERSON_SEGMENTS, {"id": person})["person"]["segments"]
                if (segment_id in {s["segment"]["id"] for s in segments}) == enter:
                    break
            to_200.append(answered - sent)
            to_visible.append(time.perf_counter() - answered)
    return to_200, to_visible


def exit_lateness(workspace: dict, base_url: str, graphql: GraphQLClient, window_seconds: int, people: int) -> list[float]:
    """People enter a short window; lateness of their exits by the real scheduler."""
    condition = {"event": {"name": "bench_ping", "window": {"within": {"seconds": window_seconds}}}}
    segment_id = graphql(CREATE, {"name": "Pinged recently", "c": condition})["createSegment"]["id"]
    time.sleep(1)  # its (empty) build
    pinged_at = {}
    with httpx.Client(base_url=base_url, auth=(workspace["siteId"], workspace["trackApiKey"]), timeout=60) as track:
        for n in range(people):
            person = f"user-{n:06d}"
            at = time.time()
            track.post(f"/api/v1/customers/{person}/events", json={"name": "bench_ping", "timestamp": at}).raise_for_status()
            pinged_at[person] = at
    query = """query($id: ID!) { segment(id: $id) { memberCount changes(first: 500) {
        edges { node { kind at person { id } } } } } }"""
    deadline = time.time() + window_seconds + 90
    while graphql(query, {"id": segment_id})["segment"]["memberCount"] > 0 and time.time() < deadline:
        time.sleep(0.5)
    edges = graphql(query, {"id": segment_id})["segment"]["changes"]["edges"]
    return [
        datetime.fromisoformat(e["node"]["at"]).timestamp() - (pinged_at[e["node"]["person"]["id"]] + window_seconds)
        for e in edges
        if e["node"]["kind"] == "EXITED"
    ]


def preview_times(graphql: GraphQLClient, conditions: list[dict], runs: int = 3) -> list[tuple[int, float]]:
    results = []
    for condition in conditions:
        times, count = [], 0
        for _ in range(runs):
            started = time.perf_counter()
            count = graphql(PREVIEW, {"c": condition})["previewSegment"]["count"]
            times.append(time.perf_counter() - started)
        results.append((count, statistics.median(times)))
    return results


def dashboard_under_load(base_url: str, app_key: str, segment_id: str, clients: int, per_client: int) -> tuple[list[float], float]:
    """Request times, and the wall time of the whole run."""
    def client_run(_: int) -> list[float]:
        graphql = GraphQLClient(base_url, app_key)
        times = []
        for _ in range(per_client):
            started = time.perf_counter()
            graphql(DASHBOARD, {"id": segment_id})
            times.append(time.perf_counter() - started)
        return times

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        times = [t for run in pool.map(client_run, range(clients)) for t in run]
    return times, time.perf_counter() - started


def unlimited_settings(engine: str, prefix: str) -> Settings:
    """A fresh data directory and no per-key rate limits: the benchmarks measure
    membership, not the limits."""
    return Settings(
        embedded_engine=engine,
        data_dir=Path(tempfile.mkdtemp(prefix=prefix)),
        rate_limit_app=0,
        rate_limit_track=0,
        rate_limit_graphql=0,
    )


def demo_workspace(server: Server, people: int) -> tuple[dict[str, str], dict[str, Any]]:
    """A new workspace in the server's store with `people` demo people: (its keys, what was loaded)."""
    created = server.call(lambda db: create_workspace(db, "bench", now=time.time()))
    loaded = server.call(lambda db: load_demo(db, created.workspace.id, now=time.time(), people=people))
    return created.as_json(), loaded


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=("memory", "sqlite"), default="memory")
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--moves", type=int, default=100, help="identify calls that move someone in or out")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--window", type=int, default=5, help="seconds of the windowed-exit segment")
    args = parser.parse_args(argv)

    print(f"Machine: {machine()}")
    print(f"Store: embedded {args.engine}; demo data, {args.people} people\n")
    settings = unlimited_settings(args.engine, "bench-membership-")
    with Server(settings) as server:
        workspace, loaded = demo_workspace(server, args.people)
        print(f"Loaded: {loaded['people']} people, {loaded['events']} events, {loaded['pageViews']} page views, "
              f"{loaded['devices']} devices, {loaded['deliveries']} deliveries")
        graphql = GraphQLClient(server.base_url, workspace["appApiKey"])

        started = time.perf_counter()
        segment_ids = create_segments(server, graphql, {"High value": HIGH_VALUE, "Hot offer": OFFER_VIEWERS, **OTHER_SEGMENTS})
        high_value = segment_ids["High value"]
        followers = {"High value, not pro": {"all": [{"segment": {"id": high_value}},
                                                     {"not": {"segment": {"id": segment_ids["Pro plan"]}}}]}}
        segment_ids |= create_segments(server, graphql, followers)
        print(f"Built {len(segment_ids)} segments in {time.perf_counter() - started:.1f} s (sequential creates + background builds)")
        counts = {s["id"]: s["memberCount"] for s in graphql("{ segments { id memberCount } }")["segments"]}
        print("  members: " + ", ".join(f"{name} {counts[sid]}" for name, sid in segment_ids.items()) + "\n")

        to_200, to_visible = visibility_latency(workspace, server.base_url, graphql, high_value, args.moves)
        print("1. Track API identify that moves a person in/out of 'High value' (20 active segments):")
        print(f"   request -> 200:        {summary(to_200)}")
        print(f"   200 -> visible in GraphQL: {summary(to_visible)}  (target p99 < 1000 ms)\n")

        late = exit_lateness(workspace, server.base_url, graphql, args.window, people=20)
        print(f"2. Windowed exits ({args.window} s window, real scheduler polling every second):")
        print(f"   lateness: {summary(late, 's', 1)}  (target < 60 s)\n")

        print("3. previewSegment (median of 3):")
        for (count, seconds), name in zip(
            preview_times(graphql, [HIGH_VALUE, OFFER_VIEWERS, OTHER_SEGMENTS["Cart, no purchase 30d"]]),
            ("High value", "Hot offer", "Cart, no purchase 30d"),
        ):
            print(f"   {name}: {count} people in {seconds * 1000:.0f} ms  (target < 2000 ms)")

        per_client = 10
        print("\n4. segments { memberCount } + first member page (20 members with their people):")
        alone, _ = dashboard_under_load(server.base_url, workspace["appApiKey"], high_value, 1, 50)
        print(f"   1 client x 50:              {summary(alone)}")
        times, wall = dashboard_under_load(server.base_url, workspace["appApiKey"], high_value, args.clients, per_client)
        print(f"   {args.clients} concurrent clients x {per_client}: {summary(times)}  (target p99 < 50 ms)")
        print(f"   throughput {len(times) / wall:.0f} requests/s (one event loop, clients on threads of the same process)")


if __name__ == "__main__":
    main()
