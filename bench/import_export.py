"""Benchmark: CSV import into a manual segment, and CSV export of its members.

On the embedded store (memory engine by default), in-process: stores
`--people` people, writes a CSV file of `--rows` rows naming them (by email,
with two extra columns), then measures
- a dry run (reading and planning only), with the growth of peak memory;
- the real import (planning, then the membership engine's writes);
- the export of the members (id, email, cio_id, entered_at, one attribute).
Peak resident memory of the process is reported too; it includes the
in-process store, which holds every document.

    python -m bench.import_export [--engine memory|sqlite] [--people 100000] [--rows 100000]

Figures depend on the machine; nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import resource
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from collections.abc import AsyncIterator
from typing import Any

from api.settings import Settings
from api.store import open_store
from rules.clock import SystemClock
from rules.people.csv_export import ExportColumns, csv_chunks
from rules.manual.csv_import import import_members
from rules.people.identifiers import new_cio_id, person_identity_documents
from rules.store.documents import person_document
from rules.membership.engine import MembershipEngine
from rules.people.segment_members import all_segment_people
from rules.segments.records import SegmentType
from rules.segments.service import SegmentDraft, SegmentService
from rules.workspaces import create_workspace

SEED_CHUNK = 1_000
IMPORT_TARGET_SECONDS = 30.0


def _peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _seed(db: Any, workspace_id: str, people: int) -> None:
    now = time.time()
    for start in range(0, people, SEED_CHUNK):
        documents = [
            person_document(
                workspace_id,
                new_cio_id(),
                profile_id=f"user-{n}",
                email=f"user{n}@example.com",
                attributes={"plan": "pro" if n % 3 else "free"},
                created_at=now,
                now=now,
            )
            for n in range(start, min(start + SEED_CHUNK, people))
        ]
        await db["people"].insert_many(documents)
        await db["identities"].insert_many([i for d in documents for i in person_identity_documents(workspace_id, d)])


def _write_csv(path: Path, rows: int) -> None:
    with path.open("w", newline="") as file:
        file.write("Name,Email,Note\r\n")
        for n in range(rows):
            file.write(f'"User {n}",user{n}@example.com,imported\r\n')


async def _export(db: Any, workspace_id: str, segment_id: str) -> tuple[int, int]:
    async def rows():
        async for member in all_segment_people(db, workspace_id, segment_id, match={"ws": workspace_id}):
            yield member.person, member.entered_at

    return await _write_csv_rows(rows())


async def _write_csv_rows(rows: AsyncIterator[tuple[dict[str, Any], float | None]]) -> tuple[int, int]:
    size = lines = 0
    async for chunk in csv_chunks(ExportColumns(attributes=("plan",), entered_at=True), rows):
        size += len(chunk)
        lines += chunk.count(b"\n")
    return lines - 1, size


async def _export_split(db: Any, workspace_id: str, segment_id: str) -> tuple[float, float]:
    """(seconds reading the members from the store, seconds writing their CSV): the export's two parts apart."""
    started = time.perf_counter()
    members = [(m.person, m.entered_at) async for m in all_segment_people(db, workspace_id, segment_id, match={"ws": workspace_id})]
    read = time.perf_counter() - started

    async def rows():
        for row in members:
            yield row

    started = time.perf_counter()
    await _write_csv_rows(rows())
    return read, time.perf_counter() - started


async def main(engine: str, people: int, rows: int) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="segments-bench-"))
    settings = Settings(embedded_engine=engine, data_dir=data_dir, database="bench_import")
    store = await open_store(settings)
    clock = SystemClock()
    db = store.db
    membership = MembershipEngine(db, clock)
    print(f"Python {platform.python_version()}, mongoeco {version('mongoeco')}, {store.description}, load average {os.getloadavg()[0]:.1f}")
    try:
        workspace = (await create_workspace(db, "bench", now=clock.now())).workspace
        started = time.perf_counter()
        await _seed(db, workspace.id, people)
        print(f"seeded {people:,} people in {time.perf_counter() - started:.1f} s")
        segment = await SegmentService(db, clock, membership).create(
            workspace.id, SegmentDraft(name="Imported", type=SegmentType.MANUAL)
        )
        path = data_dir / "members.csv"
        _write_csv(path, rows)
        print(f"CSV file: {rows:,} rows, {path.stat().st_size / 1e6:.1f} MB")
        rss_before = _peak_rss_mb()

        started = time.perf_counter()
        with path.open("rb") as file:
            dry = await import_members(db, membership, workspace.id, segment.id, file, dry_run=True)
        dry_seconds = time.perf_counter() - started
        rss_after_dry = _peak_rss_mb()
        print(
            f"dry run: {rows:,} rows in {dry_seconds:.1f} s, would add {dry.added:,}; "
            f"peak RSS grew {rss_after_dry - rss_before:.0f} MB (the import's own memory and the store's reads)"
        )

        started, cpu_started = time.perf_counter(), time.process_time()
        with path.open("rb") as file:
            real = await import_members(db, membership, workspace.id, segment.id, file)
        import_seconds, import_cpu = time.perf_counter() - started, time.process_time() - cpu_started
        verdict = "within" if import_seconds < IMPORT_TARGET_SECONDS else "OVER"
        print(
            f"import: {rows:,} rows in {import_seconds:.1f} s ({rows / import_seconds:,.0f} rows/s), added {real.added:,}; "
            f"{verdict} the {IMPORT_TARGET_SECONDS:.0f} s target; {import_cpu:.1f} s of CPU time (what an unloaded core would take, about)"
        )
        print(f"peak RSS {_peak_rss_mb():.0f} MB after the import (before it {rss_before:.0f} MB; the store is in-process)")

        started, cpu_started = time.perf_counter(), time.process_time()
        exported, size = await _export(db, workspace.id, segment.id)
        export_seconds, export_cpu = time.perf_counter() - started, time.process_time() - cpu_started
        print(f"export: {exported:,} members, {size / 1e6:.1f} MB in {export_seconds:.1f} s ({exported / export_seconds:,.0f} rows/s), {export_cpu:.1f} s of CPU time")
        read, write = await _export_split(db, workspace.id, segment.id)
        print(f"  the same export in two parts: reading the members from the store {read:.1f} s, writing the CSV {write:.1f} s")
    finally:
        await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=["memory", "sqlite"], default="memory")
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=100_000)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.engine, arguments.people, arguments.rows))
