"""mongoeco's SQLite engine, set up for a file that several processes share.

`segments serve` and the CLI (`segments demo`, `workspace create`, imports)
open the same `.data/segments.sqlite`. Two settings of mongoeco 4.11.0 do not
suit that (docs/decisions.md #15 has the measurements):

- Its connections wait 5 s (Python's default) for another process's write
  lock, then fail with "database is locked": a Track API request got a 503,
  and the server's shutdown a traceback, while `segments demo` wrote. Here
  they wait up to `BUSY_TIMEOUT_MS`, and the write-ahead log is truncated
  back to `WAL_SIZE_LIMIT` whenever it is reset.
- It gives every single-field index its own SQLite index over the one table
  shared by all collections' index entries (`scalar_index_entries`): 21
  identical copies of that table for our 21 indexes, 80% of the file. The
  engine's other index (an expression index on the documents) answers the
  same lookups, so the scalar copies are switched off, and an existing file
  loses them when it is opened.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mongoeco.engines.sqlite import SQLiteEngine

BUSY_TIMEOUT_MS = 60_000
WAL_SIZE_LIMIT = 16 * 1024 * 1024


class SharedFileSQLiteEngine(SQLiteEngine):
    def _create_sqlite_connection(self) -> sqlite3.Connection:
        connection = super()._create_sqlite_connection()
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        connection.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")
        return connection

    @staticmethod
    def _supports_scalar_index(index) -> bool:
        return False

    # mongoeco declares `-> str`, but its callers take None as "no scalar copy", which is the point here.
    def _physical_scalar_index_name(self, db_name: str, coll_name: str, index_name: str) -> None:  # type: ignore[override]
        return None


def drop_scalar_index_copies(path: Path) -> None:
    """Remove the per-index scalar copies from a file written by the stock engine."""
    if not path.exists():
        return
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "indexes" not in tables:
            return
        names = [row[0] for row in connection.execute("SELECT scalar_physical_name FROM indexes WHERE scalar_physical_name IS NOT NULL")]
        if not names:
            return
        with connection:
            for name in names:
                connection.execute(f'DROP INDEX IF EXISTS "{name}"')
            connection.execute("UPDATE indexes SET scalar_physical_name = NULL")
            connection.execute("DELETE FROM scalar_index_entries")
        connection.execute("VACUUM")
    finally:
        connection.close()
