"""Benchmark: the ways of asking the queries whose fastest shape depends on
the embedded engine (rules 2, 3 and 4 of api/embedded_store.py), each
measured on one engine (`--engine sqlite`, the store of `make run`, on a
temporary file; or `memory`), so that the seam answers each the way that
engine is fastest. `make bench-seam` compares the seam with the engine as
it is; this compares the alternatives the seam could choose from.

--stored people, events (10 a person among --stored / 10 people) and
identities in one workspace:

3. 20 and 500 people by `{"ws", "_id": {"$in": ids}}`: the engine's own
   `$in`, one `find_one({"_id"})` per id (in turn, or gathered as the seam
   asks), one `find({"_id"}).limit(1)` per id, and the seam; a lookup that
   finds nothing; a new event looked up with its owner
   (`{"ws", "personId", "_id"}`): the whole filter, or by `_id` alone.
A page of 20 of a segment's people (rules/people/segment_members.py) with
   a first lookup of 21 members or of LOOKUP_BATCH, by the segment alone
   and with a search.
The dashboard's membership reads: one segment's first page and count among
   --memberships memberships of 20 segments, as the domain asks and the
   shapes the engine might answer faster.
5 and 8. 20 deletes and 20 updates of schedules by `{"_id", "ws"}` or by
   `_id` alone, and the seam's `delete_many` by `{"ws", "_id": {"$in"}}`.
2. A person's events by `{"ws", "personId"}`, `{"personId", "ws"}`,
   `{"personId"}`.
4. --keys people's events by `{"ws", "personId": {"$in": keys}}`: the
   engine's `$in` (only for --engine-in-keys keys: it is one pass per key),
   one equality query per key, one pass over the workspace kept by key,
   and the seam.

Then the pass of rule 4 over a workspace of --pass-events events (a second
workspace; 0 skips it): its peak memory (tracemalloc: the Python objects
the read allocates) when the pass reads the whole workspace into a list and
keeps the keys' events (the seam before) or streams it and keeps only
those (now), and its time with and without a condition on the event name
(`name: {"$in": [...]}`) in the pass's query.

    python -m bench.seam_engines [--engine sqlite|memory] [--stored 20000] [--memberships 40000] [--keys 200] [--pass-events 100000]

Figures depend on the machine; nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from pathlib import Path
from typing import Any

from mongoeco import AsyncMongoClient
from pymongo import DeleteOne, UpdateOne

from api.embedded_store import EmbeddedDatabase
from bench.embedded_seam import _engine
from bench.scale import machine
from rules.people.segment_members import LOOKUP_BATCH, segment_people
from rules.store.collections import EVENTS, IDENTITIES, MEMBERSHIPS, PEOPLE, SCHEDULES, ensure_indexes

WS = "ws_bench"
BIG = "ws_big"
NAMES = ("visit", "purchase", "signup", "search", "share", "review")
BATCH = 1000
PAGE = 20  # a member page, read with one more to tell whether a next page exists


def _events(workspace: str, count: int, people: int) -> list[dict[str, Any]]:
    return [
        {"_id": f"{workspace}|e{i}", "ws": workspace, "personId": f"{workspace}|p{i % people}", "type": "event",
         "name": NAMES[i % len(NAMES)], "ts": float(i), "data": {"amount": i % 500, "sku": f"sku-{i % 97}"}}
        for i in range(count)
    ]


async def _timed(action: Callable[[], Awaitable[Any]], runs: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = await action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, result


async def _report(label: str, action: Callable[[], Awaitable[Any]], runs: int = 3) -> None:
    try:
        ms, result = await _timed(action, runs)
    except Exception as error:  # the engine refuses some shapes (a long `$in` on sqlite): say which
        print(f"  {label:<62} fails: {type(error).__name__}: {str(error)[:60]}")
        return
    # documents read, a count, or one document (or None)
    found = len(result) if isinstance(result, list) else result if isinstance(result, int) else int(result is not None)
    print(f"  {label:<62} {ms:10.1f} ms  ({found})", flush=True)


async def _insert(collection: Any, documents: list[dict[str, Any]]) -> None:
    for start in range(0, len(documents), BATCH):
        await collection.insert_many(documents[start : start + BATCH])


async def _each(collection: Any, ids: list[str], read: Callable[[Any, str], Awaitable[list]]) -> list:
    return [doc for doc_id in ids for doc in await read(collection, doc_id)]


async def _gathered(collection: Any, ids: list[str], read: Callable[[Any, str], Awaitable[list]]) -> list:
    return [doc for docs in await asyncio.gather(*(read(collection, doc_id) for doc_id in ids)) for doc in docs]


async def _find_one(collection: Any, doc_id: str) -> list:
    doc = await collection.find_one({"_id": doc_id})
    return [] if doc is None else [doc]


async def _limit_one(collection: Any, doc_id: str) -> list:
    return await collection.find({"_id": doc_id}).limit(1).to_list()


async def _per_key(collection: Any, rest: dict[str, Any], keys: list[str]) -> list:
    found = await asyncio.gather(*(collection.find({"personId": key, **rest}).to_list() for key in keys))
    return [doc for docs in found for doc in docs]


async def _written(collection: Any, requests: list[Any]) -> int:
    result = await collection.bulk_write(requests, ordered=False)
    return result.deleted_count + result.modified_count


async def _deleted(collection: Any, query: dict[str, Any]) -> int:
    return (await collection.delete_many(query)).deleted_count


async def _page(db: Any, match: dict[str, Any], first_batch: int) -> list:
    page = []
    async with aclosing(segment_people(db, WS, "seg", match=match, first_batch=first_batch)) as members:
        async for member in members:
            page.append(member)
            if len(page) == PAGE + 1:
                break
    return page


async def _pass_listed(collection: Any, query: dict[str, Any], wanted: set[str]) -> list:
    return [doc for doc in await collection.find(query).to_list() if doc.get("personId") in wanted]


async def _pass_streamed(collection: Any, query: dict[str, Any], wanted: set[str]) -> list:
    return [doc async for doc in collection.find(query) if doc.get("personId") in wanted]


async def _peak_mib(action: Callable[[], Awaitable[Any]]) -> tuple[float, float, Any]:
    """Peak traced memory above the start (MiB), wall seconds (slowed by tracing), the result."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    started = time.perf_counter()
    result = await action()
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (peak - base) / 2**20, seconds, result


def _max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def main(engine_name: str, stored: int, memberships: int, keys: int, engine_in_keys: int, pass_events: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        async with AsyncMongoClient(_engine(engine_name, Path(directory))) as client:
            raw = client["bench"]
            seam = EmbeddedDatabase(raw, engine=engine_name)
            await ensure_indexes(seam)
            people = max(1, stored // 10)
            await _insert(raw[PEOPLE], [{"_id": f"{WS}|p{i}", "ws": WS, "email": f"p{i}@example.com", "attributes": {"n": i}} for i in range(stored)])
            await _insert(raw[EVENTS], _events(WS, stored, people))
            await _insert(raw[IDENTITIES], [{"_id": f"{WS}|email|p{i}@example.com", "ws": WS, "personId": f"{WS}|p{i}",
                                             "key": f"email|p{i}@example.com"} for i in range(stored)])
            print(f"machine: {machine()}; embedded {engine_name} engine")
            print(f"{stored:,} people, events (of {people:,} people) and identities in one workspace\n")

            print("3. `_id` lookups")
            for count in (20, 500):
                ids = [f"{WS}|p{(i * 7) % stored}" for i in range(count)]
                query = {"ws": WS, "_id": {"$in": ids}}
                await _report(f"{count} people, the engine's {{ws, _id: {{$in}}}}", lambda: raw[PEOPLE].find(query).to_list(), 1)
                await _report(f"{count} people, find_one({{_id}}) each, in turn", lambda: _each(raw[PEOPLE], ids, _find_one))
                await _report(f"{count} people, find_one({{_id}}) each, gathered", lambda: _gathered(raw[PEOPLE], ids, _find_one))
                await _report(f"{count} people, find({{_id}}).limit(1) each, gathered", lambda: _gathered(raw[PEOPLE], ids, _limit_one))
                await _report(f"{count} people, through the seam", lambda: seam[PEOPLE].find(query).to_list())
            nobody = f"{WS}|email|nobody@example.com"
            await _report("an identity that does not exist, find_one({_id})", lambda: raw[IDENTITIES].find_one({"_id": nobody}))
            await _report("the same, find({_id}).limit(1)", lambda: raw[IDENTITIES].find({"_id": nobody}).limit(1).to_list())
            await _report("the same, {ws, _id} through the seam", lambda: seam[IDENTITIES].find_one({"ws": WS, "_id": nobody}))
            event_id, owner = f"{WS}|e{stored - 1}", f"{WS}|p{(stored - 1) % people}"
            with_owner = {"ws": WS, "personId": owner, "_id": event_id}
            await _report("an event with its owner, the whole filter (indexed key first)",
                          lambda: raw[EVENTS].find_one({"personId": owner, "_id": event_id, "ws": WS}))
            await _report("the same, by _id alone, then checked", lambda: raw[EVENTS].find({"_id": event_id}).limit(1).to_list())
            await _report("the same, through the seam", lambda: seam[EVENTS].find_one(with_owner))

            print(f"\na page of {PAGE} of a segment's people (and one more), segment_people's first lookup of {PAGE + 1} or {LOOKUP_BATCH} members")
            members = [{"_id": f"seg|{WS}|p{i}", "ws": WS, "segmentId": "seg", "personId": f"{WS}|p{i}", "enteredAt": 1.0}
                       for i in range(0, stored, 10)]
            await _insert(raw[MEMBERSHIPS], members)
            search = {"ws": WS, "attributes.n": {"$gte": 0, "$type": "number"}}
            for label, match in (("the segment alone", {"ws": WS}), ("with a search (a condition on attributes)", search)):
                for first_batch in (PAGE + 1, LOOKUP_BATCH):
                    await _report(f"{label}, first lookup of {first_batch}",
                                  lambda match=match, first_batch=first_batch: _page(seam, match, first_batch), 5)

            print(f"\nthe dashboard's membership reads, one segment's among {memberships:,} memberships of 20 segments")
            await _insert(raw[MEMBERSHIPS], [{"_id": f"seg{i % 20}|{WS}|m{i:06}", "ws": WS, "segmentId": f"seg{i % 20}",
                                              "personId": f"{WS}|m{i:06}", "enteredAt": 1.0} for i in range(memberships)])
            of_segment = {"ws": WS, "segmentId": "seg3"}
            await _report(f"first page: {{ws, segmentId}} by _id, {PAGE + 1}, through the seam",
                          lambda: seam[MEMBERSHIPS].find(of_segment).sort([("_id", 1)]).limit(PAGE + 1).to_list())
            await _report("the same, hinted to the segmentId index",
                          lambda: raw[MEMBERSHIPS].find(of_segment).hint("segmentId_1").sort([("_id", 1)]).limit(PAGE + 1).to_list())
            await _report("the same as an _id range (`_id` is segment|person)",
                          lambda: raw[MEMBERSHIPS].find({"_id": {"$gt": "seg3|", "$lt": "seg3}", "$type": "string"}}).sort([("_id", 1)]).limit(PAGE + 1).to_list())
            await _report("totalCount: count_documents({ws, segmentId})", lambda: seam[MEMBERSHIPS].count_documents(of_segment))

            print(f"\n5 and 8. writes of 20 documents among {stored:,} schedules, by `_id` and `ws` or by `_id` alone")
            await _insert(raw[SCHEDULES], [{"_id": f"{WS}|s{i}", "ws": WS, "at": 1.0} for i in range(stored)])
            twenty = iter(range(0, stored, 20))

            def named(ws: bool) -> list[dict[str, Any]]:
                start = next(twenty)
                return [{"_id": f"{WS}|s{i}", **({"ws": WS} if ws else {})} for i in range(start, start + 20)]

            for label, ws in (("by {_id, ws}", True), ("by {_id}", False)):
                await _report(f"20 DeleteOne {label}", lambda ws=ws: _written(raw[SCHEDULES], [DeleteOne(f) for f in named(ws)]))
                await _report(f"20 UpdateOne {label}",
                              lambda ws=ws: _written(raw[SCHEDULES], [UpdateOne(f, {"$set": {"at": 2.0}}) for f in named(ws)]))
            await _report("delete_many of 20 by {ws, _id: {$in}} through the seam",
                          lambda: _deleted(seam[SCHEDULES], {"ws": WS, "_id": {"$in": [f["_id"] for f in named(False)]}}))

            print("\n2. a person's events")
            person = f"{WS}|p7"
            for label, query in (("{ws, personId}", {"ws": WS, "personId": person}), ("{personId, ws}", {"personId": person, "ws": WS}),
                                 ("{personId}", {"personId": person})):
                await _report(f"by {label}", lambda query=query: raw[EVENTS].find(query).to_list(), 9)

            print(f"\n4. {keys} people's events by personId $in")
            wanted = [f"{WS}|p{i}" for i in range(keys)]
            await _report(f"the engine's $in, {engine_in_keys} keys only",
                          lambda: raw[EVENTS].find({"ws": WS, "personId": {"$in": wanted[:engine_in_keys]}}).to_list(), 1)
            await _report("one equality query per key",
                          lambda: _per_key(raw[EVENTS], {"ws": WS}, wanted), 1)
            await _report("one pass over the workspace, kept by key", lambda: _pass_streamed(raw[EVENTS], {"ws": WS}, set(wanted)), 1)
            await _report("through the seam", lambda: seam[EVENTS].find({"ws": WS, "personId": {"$in": wanted}}).to_list(), 1)

            if not pass_events:
                return
            await _insert(raw[EVENTS], _events(BIG, pass_events, max(1, pass_events // 10)))
            print(f"\n4. the pass over a workspace of {pass_events:,} events, keeping 20 people's")
            twenty = {f"{BIG}|p{i}" for i in range(20)}
            for label, read in (("streamed, kept as it goes (now)", _pass_streamed), ("read into a list, then kept (before)", _pass_listed)):
                peak, seconds, kept = await _peak_mib(lambda read=read: read(raw[EVENTS], {"ws": BIG}, twenty))
                print(f"  {label:<40} peak {peak:7.1f} MiB traced, {seconds:6.1f} s traced, {len(kept)} kept; "
                      f"process peak RSS so far {_max_rss_mib():.0f} MiB", flush=True)
            two = list(NAMES[:2])
            await _report("the pass by {ws}, then kept by key", lambda: _pass_streamed(raw[EVENTS], {"ws": BIG}, twenty))
            await _report(f"the pass by {{ws, name: {{$in: {len(two)} of {len(NAMES)} names}}}}",
                          lambda: _pass_streamed(raw[EVENTS], {"ws": BIG, "name": {"$in": two}}, twenty))
            await _report("the same through the seam (personId $in, name $in)",
                          lambda: seam[EVENTS].find({"ws": BIG, "personId": {"$in": sorted(twenty)}, "name": {"$in": two}}).to_list())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("memory", "sqlite"), default="sqlite")
    parser.add_argument("--stored", type=int, default=20_000)
    parser.add_argument("--memberships", type=int, default=40_000)
    parser.add_argument("--keys", type=int, default=200)
    parser.add_argument("--engine-in-keys", type=int, default=20)
    parser.add_argument("--pass-events", type=int, default=100_000)
    args = parser.parse_args()
    asyncio.run(main(args.engine, args.stored, args.memberships, args.keys, args.engine_in_keys, args.pass_events))
