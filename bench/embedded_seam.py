"""Benchmark: the rules of the embedded-engine seam (api/embedded_store.py),
each measured with and without the seam on the embedded memory engine.

- A lone insert into a collection of --stored documents: mongoeco directly
  (`insert_one`) against the seam (`insert_one` with its companion).
- A batch insert of --batch documents: mongoeco directly against the seam,
  which passes it through (the cost of the wrapper itself).
- A person's events by `{"ws", "personId"}` (the natural order): mongoeco
  directly against the seam, which puts `ws` last.

    python -m bench.embedded_seam [--stored 20000] [--inserts 50] [--batch 500]

Figures depend on the machine; nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import time

from mongoeco import AsyncMongoClient
from mongoeco.engines.memory import MemoryEngine

from api.embedded_store import EmbeddedDatabase
from rules.store.collections import EVENTS, ensure_indexes


def _event(i: int, tag: str) -> dict:
    return {"_id": f"ws_bench|{tag}{i}", "ws": "ws_bench", "personId": f"p{i % 2000}", "type": "event", "name": "visit", "ts": float(i)}


async def _timed(action) -> float:
    start = time.perf_counter()
    await action()
    return time.perf_counter() - start


async def main(stored: int, inserts: int, batch: int) -> None:
    async with AsyncMongoClient(MemoryEngine()) as client:
        raw = client["bench"]
        await ensure_indexes(raw)
        seam = EmbeddedDatabase(raw)
        await raw[EVENTS].insert_many([_event(i, "stored") for i in range(stored)])
        print(f"{stored:,} events stored; Python {platform.python_version()}, {platform.machine()}")

        lone_raw = [await _timed(lambda i=i: raw[EVENTS].insert_one(_event(i, "raw"))) for i in range(inserts)]
        lone_seam = [await _timed(lambda i=i: seam[EVENTS].insert_one(_event(i, "seam"))) for i in range(inserts)]
        print(f"lone insert, mongoeco directly: median {statistics.median(lone_raw) * 1000:.1f} ms")
        print(f"lone insert, through the seam:  median {statistics.median(lone_seam) * 1000:.1f} ms")

        batches_raw, batches_seam = [], []
        for run in range(5):
            docs = [_event(i, f"braw{run}-") for i in range(batch)]
            batches_raw.append(await _timed(lambda: raw[EVENTS].insert_many(docs)))
            docs = [_event(i, f"bseam{run}-") for i in range(batch)]
            batches_seam.append(await _timed(lambda: seam[EVENTS].insert_many(docs)))
        print(f"insert of {batch}, mongoeco directly: median {statistics.median(batches_raw) * 1000:.1f} ms")
        print(f"insert of {batch}, through the seam:  median {statistics.median(batches_seam) * 1000:.1f} ms")
        by_person_raw, by_person_seam = [], []
        for i in range(inserts):
            natural = {"ws": "ws_bench", "personId": f"p{i}"}
            by_person_raw.append(await _timed(lambda: raw[EVENTS].find(natural).to_list()))
            by_person_seam.append(await _timed(lambda: seam[EVENTS].find(natural).to_list()))
        print(f"a person's events, mongoeco directly: median {statistics.median(by_person_raw) * 1000:.2f} ms")
        print(f"a person's events, through the seam:  median {statistics.median(by_person_seam) * 1000:.2f} ms")
        leftovers = await raw[EVENTS].count_documents({"ws": {"$exists": False}})
        print(f"companions left behind: {leftovers}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stored", type=int, default=20_000)
    parser.add_argument("--inserts", type=int, default=50)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    asyncio.run(main(args.stored, args.inserts, args.batch))
