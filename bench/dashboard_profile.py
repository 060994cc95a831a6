"""Where the time of one dashboard request goes: part of `make bench-dashboard`.

The service runs in this process (bench.ingest's server on its own thread)
on the sqlite data directory the dashboard bench loaded, and the dashboard
request (bench.dashboard.DASHBOARD) is sent through real HTTP, one at a
time. Two views of the same requests:

- every store call of the domain is timed from the call to its answer (for
  a cursor: from the first read to the last document), by method and
  collection, so the count per request and the time of each are real
  wall times, thread hop to the engine included;
- cProfile's own time (tottime) grouped by whose code it is: GraphQL
  execution (strawberry, graphql-core), our code (api/, resolvers/,
  rules/), the store (mongoeco, sqlite3, bson), HTTP (uvicorn, starlette,
  h11, httpx, which includes this bench's client), and the rest (asyncio,
  the standard library). The profiler slows Python down, so read the
  shares, not the absolute times.
"""

from __future__ import annotations

import cProfile
import pstats
import statistics
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

from api import embedded_store
from api.settings import Settings
from bench.ingest import _Server as Server

# (bucket, path fragments of the code it holds), first match wins.
BUCKETS = (
    ("GraphQL execution (strawberry, graphql-core)", ("/strawberry/", "/graphql/")),
    # The engine hands each call to its SQLite thread through a SimpleQueue.
    ("store (mongoeco, sqlite3, bson)", ("/mongoeco/", "sqlite3", "/bson/", "'put' of '_queue.SimpleQueue'")),
    ("HTTP (uvicorn, starlette, h11, httpx incl. the client)", ("/uvicorn/", "/starlette/", "/h11/", "/httpx/", "/httpcore/", "/anyio/")),
    ("ours: resolvers/", ("/resolvers/",)),
    ("ours: rules/", ("/rules/",)),
    ("ours: api/", ("/api/",)),
)
OTHER = "other (asyncio, standard library, builtins)"
# Threads blocked waiting (the client for its answer, the engine's thread for
# work, the event loop for I/O) are not work: left out of the shares.
WAITS = ("'acquire' of '_thread.lock'", "'poll' of 'select.epoll'", "selectors.py:select", "'recv' of '_socket.socket'",
         "threading.py:wait", "queue.py:get", "'get' of '_queue.SimpleQueue'")


class StoreCallTimer:
    """Wall time of every store call made through the embedded seam, by (method, collection)."""

    def __init__(self) -> None:
        self.times: dict[tuple[str, str], list[float]] = defaultdict(list)

    def install(self) -> None:
        timer = self
        collection_type = embedded_store.EmbeddedCollection
        for method in ("find_one", "count_documents", "aggregate"):
            original = getattr(collection_type, method, None)
            if original is None:
                continue

            def timed(original: Any = original, method: str = method) -> Any:
                async def call(self: Any, *args: Any, **kwargs: Any) -> Any:
                    started = time.perf_counter()
                    try:
                        return await original(self, *args, **kwargs)
                    finally:
                        timer.times[(method, self.name)].append(time.perf_counter() - started)

                return call

            setattr(collection_type, method, timed())
        original_find = collection_type.find

        def find(self: Any, *args: Any, **kwargs: Any) -> Any:
            return _TimedCursor(original_find(self, *args, **kwargs), timer.times[("find", self.name)])

        collection_type.find = find

    def table(self, requests: int) -> str:
        lines = [f"  {'store call':<34} {'per request':>11} {'ms each (median)':>17} {'ms per request':>15}"]
        total = 0.0
        for (method, collection), times in sorted(self.times.items(), key=lambda item: -sum(item[1])):
            per_request = sum(times) / requests * 1000
            total += per_request
            lines.append(f"  {method + ' ' + collection:<34} {len(times) / requests:>11.1f} "
                         f"{statistics.median(times) * 1000:>17.2f} {per_request:>15.1f}")
        calls = sum(len(t) for t in self.times.values()) / requests
        lines.append(f"  {'all store calls':<34} {calls:>11.1f} {'':>17} {total:>15.1f}  (calls overlap when gathered)")
        return "\n".join(lines)


class _TimedCursor:
    """A cursor that adds the time from its first read to its last to `times`."""

    def __init__(self, cursor: Any, times: list[float]) -> None:
        self._cursor = cursor
        self._times = times

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._cursor, name)
        if not callable(attribute):
            return attribute

        def chained(*args: Any, **kwargs: Any) -> Any:
            result = attribute(*args, **kwargs)
            return self if result is self._cursor else result

        return chained

    async def to_list(self, *args: Any, **kwargs: Any) -> list[Any]:
        started = time.perf_counter()
        try:
            return await self._cursor.to_list(*args, **kwargs)
        finally:
            self._times.append(time.perf_counter() - started)

    async def __aiter__(self) -> Any:
        started = time.perf_counter()
        try:
            async for document in self._cursor:
                yield document
        finally:
            self._times.append(time.perf_counter() - started)


def _bucket(filename: str) -> str:
    for label, fragments in BUCKETS:
        if any(fragment in filename for fragment in fragments):
            return label
    return OTHER


def profile_dashboard(data_dir: Path, workspace: dict, segment_id: str, query: str, requests: int) -> None:
    timer = StoreCallTimer()
    timer.install()
    settings = Settings(embedded_engine="sqlite", data_dir=data_dir, rate_limit_app=0, rate_limit_graphql=0)
    with Server(settings) as server, httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {workspace['appApiKey']}"}, timeout=120
    ) as http:

        def dashboard() -> float:
            started = time.perf_counter()
            response = http.post("/graphql", json={"query": query, "variables": {"id": segment_id}})
            assert response.status_code == 200 and "errors" not in response.json(), response.text
            return time.perf_counter() - started

        for _ in range(5):  # warm the caches (documents, rules) before measuring
            dashboard()
        timer.times.clear()
        plain = [dashboard() for _ in range(requests)]
        store_table = timer.table(requests)

        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(requests):
            dashboard()
        profiler.disable()

    print(f"\none dashboard request, in-process server on the same sqlite file, {requests} requests one at a time:")
    print(f"  wall time per request: median {statistics.median(plain) * 1000:.1f} ms, max {max(plain) * 1000:.1f} ms")
    print(store_table)
    own: dict[str, float] = defaultdict(float)
    for (filename, _, function), row in pstats.Stats(profiler).stats.items():
        where = f"{filename}:{function}"  # builtins are named by their function
        if any(wait in where for wait in WAITS):
            continue
        own[_bucket(where)] += row[2]  # tottime
    everything = sum(own.values())
    print(f"\n  {'own time under cProfile, by whose code':<56} {'share':>6} {'ms/request':>11}")
    for label, seconds in sorted(own.items(), key=lambda item: -item[1]):
        print(f"  {label:<56} {seconds / everything:>6.0%} {seconds / requests * 1000:>11.1f}")
