"""People as CSV: `id`, `email`, `cio_id`, `entered_at` (for a segment's
members) and chosen attributes, written as a stream of chunks.

The columns are the ones the CSV import reads (`id`, `email`, `cio_id`), so
an exported file imports as it is into another manual segment. Times are
ISO-8601 UTC; attribute values are written as text, objects and lists as
JSON, a missing attribute as an empty cell.

Spreadsheet formula injection: a text cell starting with `=`, `+`, `-`,
`@`, a tab or a carriage return is written with a leading `'` (OWASP's
advice), so that a spreadsheet shows it as text instead of running it;
numbers are written as they are (a number is never a formula). `raw`
turns this off, for programs that read the file (docs/manual-segments.md).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

# Rows written per chunk of the stream.
ROWS_PER_CHUNK = 500
MAX_ATTRIBUTES = 50
# What a spreadsheet takes as the start of a formula (OWASP, "CSV Injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Dot-separated attribute names; `$` would reach into operators.
_ATTRIBUTE_PATH = re.compile(r"[^.$\s][^.$]*(\.[^.$\s][^.$]*)*")


class ExportInvalid(ValueError):
    """A bad export request; the message names the parameter."""


@dataclass(frozen=True, kw_only=True)
class ExportColumns:
    attributes: tuple[str, ...] = ()  # attribute paths, dots for nested objects
    entered_at: bool = False  # a segment's members: when each entered
    raw: bool = False  # values as stored, without neutralising formulas

    def header(self) -> list[str]:
        return ["id", "email", "cio_id", *(["entered_at"] if self.entered_at else []), *self.attributes]

    def row(self, person: dict[str, Any], entered_at: float | None) -> list[str]:
        times = [_time(entered_at)] if self.entered_at else []
        attributes = person.get("attributes") or {}
        cell = _cell if self.raw else _safe_cell
        return [
            cell(person.get("id")),
            cell(person.get("email")),
            person["_id"],
            *times,
            *(cell(_at_path(attributes, path)) for path in self.attributes),
        ]


def attribute_paths(raw: str | None) -> tuple[str, ...]:
    """`?attributes=plan,address.city` as paths, in order, without repeats."""
    if raw is None or not raw.strip():
        return ()
    paths = tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    bad = [path for path in paths if not _ATTRIBUTE_PATH.fullmatch(path)]
    if bad:
        raise ExportInvalid(f"attributes: {bad[0]!r} is not an attribute path (dot-separated names)")
    if len(paths) > MAX_ATTRIBUTES:
        raise ExportInvalid(f"attributes: at most {MAX_ATTRIBUTES}, got {len(paths)}")
    return paths


def file_name(title: str, kind: str, now: float) -> str:
    """E.g. `vip-customers-members-2026-01-31.csv`."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "export"
    return f"{slug[:80]}-{kind}-{datetime.fromtimestamp(now, tz=timezone.utc):%Y-%m-%d}.csv"


async def csv_chunks(
    columns: ExportColumns, people: AsyncIterable[tuple[dict[str, Any], float | None]]
) -> AsyncIterator[bytes]:
    """The header, then (person document, entered at) rows, as UTF-8 chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns.header())
    rows = 0
    async for person, entered_at in people:
        writer.writerow(columns.row(person, entered_at))
        rows += 1
        if rows % ROWS_PER_CHUNK == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> bytes:
    chunk = buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    return chunk


def _at_path(attributes: dict[str, Any], path: str) -> Any:
    value: Any = attributes
    for name in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(name)
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    return str(value)


def _safe_cell(value: Any) -> str:
    text = _cell(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return text
    return f"'{text}" if text.startswith(FORMULA_TRIGGERS) else text


def raw_values(raw: str | None) -> bool:
    """`?raw=true|false` (default false)."""
    if raw is None or raw == "false":
        return False
    if raw == "true":
        return True
    raise ExportInvalid(f"raw: must be true or false, got {raw!r}")


def _time(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat().replace("+00:00", "Z")

