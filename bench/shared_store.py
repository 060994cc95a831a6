"""Benchmark: what several service processes on one store pay to agree (decision #22).

Two figures, on the embedded store (memory and sqlite engines, through the seam):
- the read of a workspace's rules version that every re-evaluation pass
  makes before it uses its cached rules (one `find_one` by `_id`);
- 500 exits (a build's batch, or a `run_due` batch of windows running out)
  applied to `memberships` with a `delete_one` per row, so that an exit
  another process made first is not recorded twice, against one batched
  delete of the same rows (what was done before), in the same run.
Figures only; nothing is asserted.

    python -m bench.shared_store [--exits 500] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from api.settings import Settings
from api.store import open_store
from bench.ingest import _machine as machine
from rules.membership.changefeed import ChangeKind, MembershipChange
from rules.membership.journal import apply_to_memberships, delete_by_ids, membership_id, write_changes
from rules.segments.records import rules_version
from rules.store.collections import MEMBERSHIPS, SEGMENTS
from rules.workspaces import create_workspace

WORKSPACES = 200
READS = 2000


async def _rules_version_ms(db: Any) -> float:
    workspace_ids = [(await create_workspace(db, f"w{i}", now=0.0)).workspace.id for i in range(WORKSPACES)]
    await rules_version(db, workspace_ids[0])
    started = time.perf_counter()
    for i in range(READS):
        await rules_version(db, workspace_ids[i % WORKSPACES])
    return (time.perf_counter() - started) / READS * 1000


async def _exits_ms(db: Any, *, segment_id: str, exits: int, one_by_one: bool) -> float:
    """Enter `exits` people, then time applying their exits."""
    await db[SEGMENTS].insert_many([{"_id": segment_id, "ws": "ws_bench", "memberCount": 0}])

    def change(kind: ChangeKind, person: int) -> MembershipChange:
        return MembershipChange(workspace_id="ws_bench", segment_id=segment_id, person_id=f"p{person}", kind=kind, at=1.0)

    await write_changes(db, [change(ChangeKind.ENTERED, p) for p in range(exits)], build=1)
    started = time.perf_counter()
    if one_by_one:
        await apply_to_memberships(db, [change(ChangeKind.EXITED, p) for p in range(exits)])
    else:
        await delete_by_ids(db[MEMBERSHIPS], [("ws_bench", membership_id(segment_id, f"p{p}")) for p in range(exits)])
    return (time.perf_counter() - started) * 1000


async def run(engine: str, *, exits: int, rounds: int) -> None:
    store = await open_store(Settings(embedded_engine=engine, data_dir=Path(tempfile.mkdtemp(prefix="bench-shared-"))))
    try:
        read_ms = await _rules_version_ms(store.db)
        print(f"{engine}: rules version read {read_ms:.3f} ms ({READS} reads over {WORKSPACES} workspaces)")
        one_by_one, batched = [], []
        for round_ in range(rounds):  # alternated, so a change of the machine's load shows in both
            one_by_one.append(await _exits_ms(store.db, segment_id=f"seg_each_{round_}", exits=exits, one_by_one=True))
            batched.append(await _exits_ms(store.db, segment_id=f"seg_batch_{round_}", exits=exits, one_by_one=False))
        each, batch = statistics.median(one_by_one), statistics.median(batched)
        print(
            f"{engine}: {exits} exits, a delete_one per row: median {each:.0f} ms; one batched delete: median {batch:.0f} ms;"
            f" ratio {each / batch:.2f} ({rounds} rounds)"
        )
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exits", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    for engine in ("memory", "sqlite"):
        asyncio.run(run(engine, exits=args.exits, rounds=args.rounds))


if __name__ == "__main__":
    main()
