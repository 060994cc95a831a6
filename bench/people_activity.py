"""Benchmark: a page of people with their nested activity, through real HTTP.

Starts the service on a free port of 127.0.0.1, loads the demo data set
(2,000 people) into a workspace, creates a few segments, then times GraphQL
queries that read people with nested fields: the query of issue #14
(`people(first: 200) { ... events(first: 5) ... }`) and one that asks for
every nested field. Each query is run `--runs` times; the median and the
range are printed.

    python -m bench.people_activity [--engine memory|sqlite] [--people 2000] [--runs 5]

Figures depend on the machine; nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from api.settings import Settings
from bench.ingest import _machine as machine
from bench.ingest import _Server as Server
from rules.demo import load_demo
from rules.workspaces import create_workspace

QUERIES = {
    "people(first: 200) { events(first: 5) }": """{
      people(first: 200) { edges { node { cioId email events(first: 5) { edges { node { name timestamp } } } } } } }""",
    "people(first: 200) { every nested field }": """{
      people(first: 200) { totalCount edges { node { cioId email attributes
        events(first: 5, type: PAGE) { totalCount edges { node { name timestamp } } }
        deliveries(first: 3) { edges { node { deliveryId metrics { opened } } } }
        devices { platform lastUsed }
        segments { segment { name } enteredAt } } } } }""",
}
SEGMENTS = {
    "Pro plan": {"attribute": {"path": "plan", "op": "EQ", "value": "pro"}},
    "Buyers": {"event": {"name": "purchase"}},
    "Offer viewers": {"pageView": {"url": {"op": "STARTS_WITH", "value": "/offers/"}}},
}
CREATE = "mutation($input: CreateSegmentInput!) { createSegment(input: $input) { __typename } }"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["memory", "sqlite"], default="memory")
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(embedded_engine=args.engine, data_dir=Path(data_dir), database="bench_people")
        with Server(settings) as server:
            async def prepare(db):
                created = await create_workspace(db, "bench", now=time.time())
                await load_demo(db, created.workspace.id, now=time.time(), people=args.people)
                return created.as_json()

            ws = server.call(prepare)
            headers = {"Authorization": f"Bearer {ws['appApiKey']}"}
            with httpx.Client(base_url=server.base_url, headers=headers, timeout=600) as client:
                for name, condition in SEGMENTS.items():
                    client.post("/graphql", json={"query": CREATE, "variables": {"input": {"name": name, "condition": condition}}})
                server.call(lambda db: server.app.state.services.membership.wait_for_builds())
                print(f"{machine()}; {args.engine} engine, demo data with {args.people} people")
                for label, query in QUERIES.items():
                    times = []
                    for _ in range(args.runs):
                        started = time.perf_counter()
                        response = client.post("/graphql", json={"query": query})
                        times.append(time.perf_counter() - started)
                        body = response.json()
                        assert "errors" not in body, body["errors"]
                        assert len(body["data"]["people"]["edges"]) == min(200, args.people)
                    print(
                        f"  {label}: median {statistics.median(times) * 1000:.0f} ms"
                        f" (runs {min(times) * 1000:.0f}-{max(times) * 1000:.0f} ms)"
                    )


if __name__ == "__main__":
    main()
