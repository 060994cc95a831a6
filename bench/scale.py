"""Benchmark: the 20 benchmark segments of bench/conditions.py at a real
workspace's size, on the embedded sqlite store `segments serve` uses.

The demo data set (`segments demo` shape, `--people`, `--events-per-person`)
is loaded once into its own data directory under `.bench-scale/` and reused
by later runs with the same size. Reported: the load time, the time to build
each segment (create it, wait until READY; the segments of a previous run are
deleted first, or with --resume kept where READY), the preview time
(`matching_person_ids`) per condition and per kind of condition, the peak
memory of this process, the store's size on disk, and the machine. Figures only; nothing is asserted.

    python -m bench.scale [--people 5000] [--events-per-person 8.55] [--data-dir .bench-scale] [--runs 3] [--resume]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

from pymongo.errors import OperationFailure
from tqdm import tqdm

from api.settings import Settings
from api.store import open_store
from bench.conditions import CONDITIONS, HIGH_VALUE_SEGMENT
from rules.clock import SystemClock
from rules.conditions.compile import matching_person_ids
from rules.demo import load_demo
from rules.membership.engine import MembershipEngine
from rules.conditions.parse import parse_condition
from rules.segments.records import SegmentState, list_segments
from rules.segments.service import SegmentDraft, SegmentService
from rules.workspaces import create_workspace

BENCH_PREFIX = "bench: "
LOADED_MARKER = "bench-scale.json"


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", load average %.1f %.1f %.1f" % os.getloadavg() if hasattr(os, "getloadavg") else ""
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}{load}"


def size_on_disk(directory: Path) -> int:
    return sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())


def kind_of(condition: dict) -> str:
    """The kind a condition is filed under: its node, or `combined` for all/any/not."""
    (kind,) = condition
    return "combined" if kind in ("all", "any", "not") else kind


async def load_once(data_dir: Path, people: int, events_per_person: float | None) -> str:
    """The workspace holding the demo data under `data_dir`, loaded if it is not there yet."""
    marker = data_dir / LOADED_MARKER
    if marker.exists():
        loaded = json.loads(marker.read_text())
        print(f"demo data: reused from {data_dir} ({loaded['loaded']})")
        return loaded["workspaceId"]
    data_dir.mkdir(parents=True, exist_ok=True)
    store = await open_store(Settings(embedded_engine="sqlite", data_dir=data_dir))
    try:
        now = time.time()
        workspace_id = (await create_workspace(store.db, "Bench scale", now=now)).workspace.id
        with tqdm(total=people, unit="person", desc="demo data", file=sys.stderr) as bar:
            started = time.perf_counter()
            loaded = await load_demo(
                store.db, workspace_id, now=now, people=people, events_per_person=events_per_person,
                progress=lambda done, total: bar.update(done - bar.n),
            )
            seconds = time.perf_counter() - started
    finally:
        await store.close()
    documents = sum(v for k, v in loaded.items() if k != "workspaceId") + loaded["people"]  # + identities
    print(f"demo data: {loaded} in {seconds:.1f} s ({documents / seconds:,.0f} documents/s)")
    marker.write_text(json.dumps({"workspaceId": workspace_id, "loaded": loaded, "seconds": seconds}))
    return workspace_id


async def build_with_progress(db, engine: MembershipEngine, segment_id: str, name: str) -> None:
    """Wait for the segment's build, showing the changes it has written (its `progress`)."""
    with tqdm(total=0, unit="change", desc=name[:30], file=sys.stderr, leave=False) as bar:
        waiting = asyncio.ensure_future(engine.wait_for_builds())
        while not waiting.done():
            await asyncio.wait([waiting], timeout=2.0)
            segment = await db["segments"].find_one({"_id": segment_id}, {"progress": 1})
            progress = (segment or {}).get("progress") or {}
            bar.total = progress.get("total", 0)
            bar.update(progress.get("done", 0) - bar.n)
        await waiting


async def main(people: int, events_per_person: float | None, data_dir: Path, runs: int, resume: bool) -> None:
    print(f"machine: {machine()}")
    workspace_id = await load_once(data_dir, people, events_per_person)
    store = await open_store(Settings(embedded_engine="sqlite", data_dir=data_dir))
    db = store.db
    engine = MembershipEngine(db, SystemClock())
    segments = SegmentService(db, SystemClock(), engine)
    try:
        # A previous run's segments go first, the one others refer to last;
        # with --resume those it built (READY) stay and are not built again.
        previous = [s for s in await list_segments(db, workspace_id) if s.name.startswith(BENCH_PREFIX)]
        kept = {s.name: s.id for s in previous if resume and s.state is SegmentState.READY}
        for segment in sorted(previous, key=lambda s: s.name == BENCH_PREFIX + "high value"):
            if segment.name not in kept:
                await segments.delete(workspace_id, segment.id)

        print(f"\n{'segment build (create -> READY)':<46} {'seconds':>8} {'CPU s':>8} {'members':>8}")
        high_value = CONDITIONS["lifetime_value > 25000"]
        builds: dict[str, float] = {}
        referenced_id = None
        for name, condition in [("high value", high_value), *CONDITIONS.items()]:
            if BENCH_PREFIX + name in kept:
                referenced_id = referenced_id or kept[BENCH_PREFIX + name]
                print(f"{name:<46} {'(built in an earlier run, kept)':>26}")
                continue
            if referenced_id is not None:
                condition = json.loads(json.dumps(condition).replace(HIGH_VALUE_SEGMENT, referenced_id))
            started, cpu = time.perf_counter(), time.process_time()
            created = await segments.create(workspace_id, SegmentDraft(name=BENCH_PREFIX + name, condition=condition))
            await build_with_progress(db, engine, created.id, name)
            builds[name] = time.perf_counter() - started
            referenced_id = referenced_id or created.id
            built = await db["segments"].find_one({"_id": created.id})
            failed = f"  FAILED: {built['failure']}" if built["state"] == SegmentState.FAILED else ""
            print(f"{name:<46} {builds[name]:>8.2f} {time.process_time() - cpu:>8.1f} {built['memberCount']:>8}{failed}", flush=True)
        print(f"{'total (the builds of this run)':<46} {sum(builds.values()):>8.1f}")

        print(f"\n{'preview (matching_person_ids), median of ' + str(runs):<46} {'ms':>8}")
        by_kind: dict[str, list[float]] = defaultdict(list)
        now = time.time()
        for name, condition in CONDITIONS.items():
            parsed = parse_condition(json.loads(json.dumps(condition).replace(HIGH_VALUE_SEGMENT, referenced_id)))
            samples = []
            try:
                for _ in range(runs):
                    started = time.perf_counter()
                    await matching_person_ids(db, parsed, workspace_id=workspace_id, now=now)
                    samples.append(time.perf_counter() - started)
            except OperationFailure as refused:  # the store's answer is a figure too; the other previews still run
                print(f"{name:<46} FAILED: {refused}", flush=True)
                continue
            by_kind[kind_of(condition)].append(statistics.median(samples))
            print(f"{name:<46} {statistics.median(samples) * 1000:>8.0f}", flush=True)
        print(f"\n{'preview per kind of condition':<24} {'conditions':>10} {'median ms':>10} {'max ms':>10}")
        for kind, seconds in sorted(by_kind.items()):
            print(f"{kind:<24} {len(seconds):>10} {statistics.median(seconds) * 1000:>10.0f} {max(seconds) * 1000:>10.0f}")
    finally:
        await engine.stop()
        await store.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"\npeak memory (this process): {peak:,.0f} MB")
    print(f"store on disk: {size_on_disk(data_dir) / 1e6:,.1f} MB in {data_dir}")
    print(f"machine at the end: {machine()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument("--events-per-person", type=float, default=None, help="default: the demo's, about 8.5")
    parser.add_argument("--data-dir", type=Path, default=None, help="default: .bench-scale/<people>-<events per person>")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--resume", action="store_true", help="keep the segments an earlier run built (READY); build the rest")
    arguments = parser.parse_args()
    directory = arguments.data_dir or Path(".bench-scale") / f"{arguments.people}-{arguments.events_per_person or 'default'}"
    asyncio.run(main(arguments.people, arguments.events_per_person, directory, arguments.runs, arguments.resume))
