"""Benchmark: 20 representative conditions over the demo data set on the
embedded in-memory store.

For each condition: the median time of the compiled pipelines
(`matching_person_ids`) over a few runs, the member count, and the time the
reference evaluator needs for all people once their data is in memory (a
check that both agree is part of the run). Then a cProfile of the slowest
condition shows where its time goes.

    python -m bench.conditions [--people 2000] [--runs 3] [--top 15]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import statistics
import time

from api.settings import Settings
from api.store import open_store
from rules.clock import FakeClock
from rules.store.collections import DELIVERIES, DEVICES, EVENTS, MEMBERSHIPS, PEOPLE
from rules.conditions.compile import matching_person_ids
from rules.demo import load_demo
from rules.conditions.evaluate import PersonData, evaluate
from rules.conditions.parse import parse_condition

WORKSPACE = "ws_bench_conditions"
HIGH_VALUE_SEGMENT = "seg_bench_high_value"
WEEK = {"within": {"days": 7}}
MONTH = {"within": {"days": 30}}

CONDITIONS: dict[str, dict] = {
    "lifetime_value > 25000": {"attribute": {"path": "lifetime_value", "op": "gt", "value": 25000}},
    "plan is pro or enterprise": {"attribute": {"path": "plan", "op": "in", "value": ["pro", "enterprise"]}},
    "tagged vip": {"attribute": {"path": "tags", "op": "contains", "value": "vip"}},
    "first name matches ^[AG]": {"attribute": {"path": "first_name", "op": "matches", "value": "^[AG]"}},
    "no lifetime_value": {"attribute": {"path": "lifetime_value", "op": "notExists"}},
    "purchased": {"event": {"name": "purchase"}},
    "3+ purchases": {"event": {"name": "purchase", "count": {"op": "atLeast", "value": 3}}},
    "no purchase in 30 days": {"event": {"name": "purchase", "count": {"op": "exactly", "value": 0}, "window": MONTH}},
    "big purchase (amount >= 100)": {"event": {"name": "purchase", "filters": [{"path": "amount", "op": "gte", "value": 100}]}},
    "signed in with google this month": {"event": {"name": "signed_in", "window": MONTH, "filters": [{"path": "method", "op": "eq", "value": "google"}]}},
    "brief: same offer 5x in a week, no purchase": {
        "all": [
            {"pageView": {"url": {"op": "startsWith", "value": "/offers/"}, "count": {"op": "atLeast", "value": 5}, "window": WEEK, "sameUrl": True}},
            {"not": {"event": {"name": "purchase"}}},
        ]
    },
    "viewed pricing": {"pageView": {"url": {"op": "eq", "value": "/pricing"}}},
    "offer pages from google, 3+": {"pageView": {"url": {"op": "startsWith", "value": "/offers/"}, "filters": [{"path": "referrer", "op": "eq", "value": "google"}], "count": {"op": "atLeast", "value": 3}}},
    "ios device used this month": {"device": {"platform": "ios", "lastUsed": MONTH}},
    "push-enabled app 4.x": {"device": {"filters": [{"path": "app_version", "op": "startsWith", "value": "4."}, {"path": "push_enabled", "op": "eq", "value": True}]}},
    "opened the spring sale": {"message": {"metric": "opened", "campaignId": "cmp_spring_sale"}},
    "sent but never opened": {"all": [{"message": {"metric": "sent"}}, {"not": {"message": {"metric": "opened"}}}]},
    "clicked email this month": {"message": {"metric": "clicked", "channel": "email", "window": MONTH}},
    "in the high-value segment, not in FR": {
        "all": [{"segment": {"id": HIGH_VALUE_SEGMENT}}, {"attribute": {"path": "country", "op": "ne", "value": "FR"}}]
    },
    "nested: (pro and cart) or (vip, no device)": {
        "any": [
            {"all": [{"attribute": {"path": "plan", "op": "eq", "value": "pro"}}, {"event": {"name": "add_to_cart", "window": MONTH}}]},
            {"all": [{"attribute": {"path": "tags", "op": "contains", "value": "vip"}}, {"not": {"device": {}}}]},
        ]
    },
}


async def _people_in_memory(db) -> list[PersonData]:
    by_person: dict[str, dict[str, list]] = {}
    profiles = await db[PEOPLE].find({"ws": WORKSPACE}).to_list()
    for profile in profiles:
        by_person[profile["_id"]] = {EVENTS: [], DEVICES: [], DELIVERIES: [], MEMBERSHIPS: []}
    for collection in (EVENTS, DEVICES, DELIVERIES, MEMBERSHIPS):
        async for doc in db[collection].find({"ws": WORKSPACE}):
            if doc.get("personId") in by_person:
                by_person[doc["personId"]][collection].append(doc)
    return [
        PersonData(
            profile=profile,
            events=by_person[profile["_id"]][EVENTS],
            devices=by_person[profile["_id"]][DEVICES],
            deliveries=by_person[profile["_id"]][DELIVERIES],
            segment_ids=frozenset(m["segmentId"] for m in by_person[profile["_id"]][MEMBERSHIPS]),
        )
        for profile in profiles
    ]


async def main(people: int, runs: int, top: int) -> None:
    store = await open_store(Settings(embedded_engine="memory", database="bench_conditions"))
    db = store.db
    now = FakeClock().now()
    started = time.perf_counter()
    written = await load_demo(db, WORKSPACE, now=now, people=people, seed=7)
    print(f"demo data: {written} in {time.perf_counter() - started:.1f} s (embedded memory store)")

    high_value = await matching_person_ids(db, parse_condition(CONDITIONS["lifetime_value > 25000"]), workspace_id=WORKSPACE, now=now)
    await db[MEMBERSHIPS].insert_many(
        [{"_id": f"{HIGH_VALUE_SEGMENT}|{p}", "ws": WORKSPACE, "segmentId": HIGH_VALUE_SEGMENT, "personId": p, "enteredAt": now} for p in high_value]
    )
    loaded = await _people_in_memory(db)

    print(f"\n{'condition':<46} {'pipelines ms':>12} {'members':>8} {'evaluator ms':>13}")
    timings: dict[str, float] = {}
    for name, data in CONDITIONS.items():
        condition = parse_condition(data)
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            members = await matching_person_ids(db, condition, workspace_id=WORKSPACE, now=now)
            samples.append(time.perf_counter() - started)
        timings[name] = statistics.median(samples)
        started = time.perf_counter()
        accepted = {p.profile["_id"] for p in loaded if evaluate(condition, p, now=now).holds}
        evaluator_seconds = time.perf_counter() - started
        agreement = "" if accepted == members else "  DISAGREES with the evaluator"
        print(f"{name:<46} {timings[name] * 1000:>12.1f} {len(members):>8} {evaluator_seconds * 1000:>13.1f}{agreement}")
    print(f"\ntotal (medians): {sum(timings.values()) * 1000:.0f} ms over {len(loaded)} people, {runs} runs each")

    slowest = max(timings, key=timings.get)
    print(f"\nwhere the time goes, slowest condition: {slowest!r}")
    profiler = cProfile.Profile()
    condition = parse_condition(CONDITIONS[slowest])
    profiler.enable()
    await matching_person_ids(db, condition, workspace_id=WORKSPACE, now=now)
    profiler.disable()
    report = io.StringIO()
    pstats.Stats(profiler, stream=report).sort_stats("tottime").print_stats(top)
    print(report.getvalue())
    await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--top", type=int, default=15)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.people, arguments.runs, arguments.top))
