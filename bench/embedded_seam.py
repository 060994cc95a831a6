"""Benchmark: the rules of the embedded-engine seam (api/embedded_store.py),
each measured with and without the seam on the embedded memory engine
(`--engine sqlite` for the sqlite engine, on a temporary file). The same
query both ways; "mongoeco directly" is what the domain's plain MongoDB
calls cost on the engine as it is (`SEGMENTS_EMBEDDED_SEAM=off`).

1. A lone insert into a collection of --stored events.
   A batch insert of --batch events (the cost of the wrapper itself).
2. A person's events by `{"ws", "personId"}` (the natural order).
3. People by `{"ws", "_id": {"$in": ids}}` (--ids of them), one person by
   `{"ws", "_id"}` (hit), and an identity that does not exist (miss).
4. --keys people's events by `{"ws", "personId": {"$in": keys}}`, sorted.
5. `delete_many` of --ids schedules by `{"ws", "_id": {"$in": ids}}`.
6. `distinct("personId")` over a workspace's --distinct-events events (the
   engine's own `distinct` is slow enough to keep this small).
7. A person's events in a window where `(ws, personId, name, ts)` is
   declared: created as it is, or as the seam creates it.
8. A `bulk_write` of --ids schedule upserts by `_id`, half of them new.

    python -m bench.embedded_seam [--engine memory|sqlite] [--stored 20000] [--ids 100] [--keys 200] [--distinct-events 1000]

Figures depend on the machine; nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from importlib.metadata import version
from pathlib import Path

from mongoeco import AsyncMongoClient
from mongoeco.engines.memory import MemoryEngine
from pymongo import UpdateOne

from api.embedded_sqlite import SharedFileSQLiteEngine
from api.embedded_store import EmbeddedDatabase
from rules.store.collections import EVENTS, IDENTITIES, PEOPLE, SCHEDULES, ensure_indexes

WS = "ws_bench"
PEOPLE_COUNT = 2000


def _event(i: int, tag: str) -> dict:
    return {"_id": f"{WS}|{tag}{i}", "ws": WS, "personId": f"p{i % PEOPLE_COUNT}", "type": "event", "name": "visit", "ts": float(i)}


async def _median_ms(action: Callable[[], Awaitable[object]], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        await action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def _report(rule: str, raw_ms: float, seam_ms: float) -> None:
    print(f"{rule:<58} mongoeco directly {raw_ms:9.1f} ms   through the seam {seam_ms:8.1f} ms")


def _engine(name: str, directory: Path):
    return SharedFileSQLiteEngine(path=str(directory / "bench.sqlite")) if name == "sqlite" else MemoryEngine()


async def main(engine_name: str, stored: int, batch: int, ids: int, keys: int, distinct_events: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        async with AsyncMongoClient(_engine(engine_name, Path(directory))) as client:
            raw = client["bench"]
            seam = EmbeddedDatabase(raw, engine=engine_name)
            await ensure_indexes(seam)
            for start in range(0, stored, 1000):
                await raw[EVENTS].insert_many([_event(i, "stored") for i in range(start, min(stored, start + 1000))])
            people = [{"_id": f"p{i}", "ws": WS, "email": f"p{i}@example.com"} for i in range(stored)]
            for start in range(0, stored, 1000):
                await raw[PEOPLE].insert_many(people[start : start + 1000])
                await raw[SCHEDULES].insert_many([{**p, "_id": f"s{p['_id']}", "at": 1.0} for p in people[start : start + 1000]])
            await raw[IDENTITIES].insert_many(
                [{"_id": f"{WS}|email|{p['email']}", "ws": WS, "personId": p["_id"], "key": f"email|{p['email']}"} for p in people]
            )
            print(
                f"{stored:,} events, people, identities and schedules stored; embedded {engine_name} engine; "
                f"Python {platform.python_version()}, mongoeco {version('mongoeco')}, {platform.machine()}\n"
            )
            counter = iter(range(10**9))

            async def lone(db) -> None:
                await db[EVENTS].insert_one(_event(next(counter), "lone"))

            _report("1. lone insert (median)", await _median_ms(lambda: lone(raw), runs), await _median_ms(lambda: lone(seam), runs))

            async def batch_insert(db) -> None:
                tag = f"b{next(counter)}-"
                await db[EVENTS].insert_many([_event(i, tag) for i in range(batch)])

            _report(f"1. insert of {batch}", await _median_ms(lambda: batch_insert(raw), 3), await _median_ms(lambda: batch_insert(seam), 3))

            natural = {"ws": WS, "personId": "p7"}
            _report("2. a person's events, {ws, personId}", *[await _median_ms(lambda db=db: db[EVENTS].find(natural).to_list(), runs) for db in (raw, seam)])

            by_ids = {"ws": WS, "_id": {"$in": [f"p{i * 7}" for i in range(ids)]}}
            _report(f"3. {ids} people by _id $in", *[await _median_ms(lambda db=db: db[PEOPLE].find(by_ids).to_list(), 1) for db in (raw, seam)])
            one = {"ws": WS, "_id": "p11"}
            _report("3. one person by {ws, _id}", *[await _median_ms(lambda db=db: db[PEOPLE].find_one(one), runs) for db in (raw, seam)])
            hit = {"ws": WS, "_id": f"{WS}|email|p11@example.com"}
            _report("3. an identity, {ws, _id}", *[await _median_ms(lambda db=db: db[IDENTITIES].find_one(hit), runs) for db in (raw, seam)])
            miss = {"ws": WS, "_id": f"{WS}|email|nobody@example.com"}
            _report("3. an identity that does not exist, {ws, _id}", *[await _median_ms(lambda db=db: db[IDENTITIES].find_one(miss), runs) for db in (raw, seam)])

            by_keys = {"ws": WS, "personId": {"$in": [f"p{i}" for i in range(keys)]}}
            order = [("ts", -1), ("_id", -1)]
            _report(
                f"4. {keys} people's events by personId $in, sorted",
                *[await _median_ms(lambda db=db: db[EVENTS].find(by_keys).sort(order).to_list(), 1) for db in (raw, seam)],
            )

            async def delete(db, first: int) -> None:
                await db[SCHEDULES].delete_many({"ws": WS, "_id": {"$in": [f"sp{i}" for i in range(first, first + ids)]}})

            _report(f"5. delete_many of {ids} by _id $in", await _median_ms(lambda: delete(raw, 0), 1), await _median_ms(lambda: delete(seam, ids), 1))

            small = "ws_small"
            await raw[EVENTS].insert_many([{**_event(i, "small"), "ws": small, "_id": f"{small}|{i}"} for i in range(distinct_events)])
            workspace = {"ws": small, "type": "event"}
            _report(
                f"6. distinct personId over a workspace's {distinct_events:,} events",
                *[await _median_ms(lambda db=db: db[EVENTS].distinct("personId", workspace), 1) for db in (raw, seam)],
            )

            async def with_compound_declared(db) -> None:
                await db[EVENTS].create_index([("ws", 1), ("personId", 1), ("name", 1), ("ts", 1)], name="ws_1_personId_1_name_1_ts_1")
                for start in range(0, stored, 1000):
                    await db[EVENTS].insert_many([_event(i, "c") for i in range(start, min(stored, start + 1000))])

            fresh_raw, fresh_seam = client["bench_compound_raw"], EmbeddedDatabase(client["bench_compound_seam"])
            for db in (fresh_raw, fresh_seam):
                await with_compound_declared(db)
            window = {"ws": WS, "personId": "p7", "name": "visit", "ts": {"$gte": 0.0, "$type": "number"}}
            _report("7. a person's events in a window, (ws, personId, name, ts)", *[await _median_ms(lambda db=db: db[EVENTS].find(window).to_list(), runs) for db in (fresh_raw, fresh_seam)])

            async def upserts(db, tag: str) -> None:
                requests = [
                    UpdateOne({"_id": f"sp{i}" if i % 2 else f"new-{tag}{i}", "ws": WS}, {"$set": {"at": 2.0}}, upsert=True)
                    for i in range(2 * ids, 3 * ids)
                ]
                await db[SCHEDULES].bulk_write(requests, ordered=False)

            _report(f"8. {ids} upserts by _id, half of them new", await _median_ms(lambda: upserts(raw, "raw"), 1), await _median_ms(lambda: upserts(seam, "seam"), 1))

            leftovers = await raw[EVENTS].count_documents({"ws": {"$exists": False}})
            print(f"\ncompanions left behind: {leftovers}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("memory", "sqlite"), default="memory")
    parser.add_argument("--stored", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--ids", type=int, default=100)
    parser.add_argument("--keys", type=int, default=200)
    parser.add_argument("--distinct-events", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.engine, args.stored, args.batch, args.ids, args.keys, args.distinct_events, args.runs))
