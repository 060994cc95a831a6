"""Whose code a py-spy recording spent its time in: the engine, ours, the rest.

    py-spy record --pid PID --duration 60 --format raw -o build.txt
    python -m bench.spy_shares build.txt

Each sample is owned by the innermost frame that belongs to a known body of
code (bench/dashboard_profile.py's BUCKETS): the standard library called by
the engine (json, struct, sqlite3) is the engine's time, called by our code
it is ours. Samples of threads blocked waiting (dashboard_profile.WAITS) are
left out. Figures only; it is how docs/scaling.md splits a build's time.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

from bench.dashboard_profile import BUCKETS, OTHER, WAITS

# The seam is ours, but it is there for the engine: named apart from the rest of api/.
SEAM = ("ours: the embedded seam (api/embedded_store.py)", ("/api/embedded_store.py",))
OWNERS = (SEAM, *BUCKETS)
# py-spy's names of the same waits: the event loop's select, a pool thread waiting for work.
SPY_WAITS = ("EpollSelector.select ", "_worker (/concurrent/futures/thread.py:")
STACK_LINE = re.compile(r"^(?P<stack>.*) (?P<count>\d+)$")


def owner(frames: list[str]) -> tuple[str, str | None]:
    """(the owner's label, the frame that made it the owner)."""
    for frame in reversed(frames):  # innermost first
        for label, fragments in OWNERS:
            if any(fragment in frame for fragment in fragments):
                return label, frame
    return OTHER, None


def shares(lines: list[str]) -> tuple[Counter[str], Counter[str], int]:
    """(samples by owner, samples by innermost frame of ours, samples waiting)."""
    owners: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    waiting = 0
    for line in lines:
        matched = STACK_LINE.match(line.strip())
        if not matched:
            continue
        # py-spy names a frame "function (path/relative/to/sys.path.py:line)": a leading "/" lets BUCKETS' fragments match.
        frames, count = [f.replace(" (", " (/", 1) for f in matched["stack"].split(";")], int(matched["count"])
        if any(wait in frames[-1] for wait in (*WAITS, *SPY_WAITS)):
            waiting += count
            continue
        label, frame = owner(frames)
        owners[label] += count
        if label.startswith("ours") and frame is not None:
            ours[frame] += count
    return owners, ours, waiting


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("recording", type=Path, help="py-spy record --format raw output")
    parser.add_argument("--top", type=int, default=8, help="our frames to list")
    arguments = parser.parse_args()
    owners, ours, waiting = shares(arguments.recording.read_text().splitlines())
    working = sum(owners.values())
    print(f"{working:,} samples working ({waiting:,} waiting, left out)")
    for label, count in owners.most_common():
        print(f"  {count / working:6.1%}  {label}")
    if ours:
        print("our frames that held the most samples:")
        for frame, count in ours.most_common(arguments.top):
            print(f"  {count / working:6.1%}  {frame}")


if __name__ == "__main__":
    main()
