"""Importing a CSV file of people into a manual segment.

The file is a stream: records are read one at a time and handled in chunks
of `CHUNK_ROWS`, so a file of any length never sits whole in memory; what
is kept is one entry per distinct identifier (to report duplicates) and the
person ids to import.

An import has two phases. Planning reads the whole file, resolves every
identifier and works out the changes, writing nothing. Applying hands those
changes to the membership engine, which records them like any other,
through a journal that makes a started import finish even across a crash
(rules/manual/import_journal.py). A dry run stops after planning, so it reports
exactly what a real run would do; a file that cannot be imported fails
while planning, before any write, so a failed REPLACE leaves the old
membership intact (docs/manual-segments.md).
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import batched, chain
from typing import Any, BinaryIO

from rules.people.identifiers import IdKind, Identifier, resolve_people
from rules.manual.import_journal import apply_import
from rules.manual.changes import ManualChanges, identifier_of_kind, manual_segment
from rules.membership.engine import MembershipEngine
from rules.membership.journal import member_ids
from rules.store.types import Database

# Rows resolved per round trip, and changes written per engine call: large
# enough to batch well, small enough that the in-process store does not hold
# the event loop for long.
CHUNK_ROWS = 1_000
# A report lists at most this many bad rows; its counts cover all of them.
MAX_REPORTED_BAD_ROWS = 1_000

# Header names that say which kind of identifier a column holds, in the
# order a row's identifier is taken when several such columns are present.
IDENTIFIER_HEADERS: dict[str, IdKind] = {"cio_id": IdKind.CIO_ID, "id": IdKind.ID, "email": IdKind.EMAIL}

# A lone surrogate is a byte that was not UTF-8 (read with "surrogateescape").
_NOT_TEXT = re.compile("[\x00\udc80-\udcff]")


class ImportMode(StrEnum):
    APPEND = "APPEND"  # add the file's people; members not in the file stay
    REPLACE = "REPLACE"  # afterwards the members are exactly the file's people


class RowProblem(StrEnum):
    MALFORMED_LINE = "MALFORMED_LINE"
    EMPTY_IDENTIFIER = "EMPTY_IDENTIFIER"
    INVALID_IDENTIFIER = "INVALID_IDENTIFIER"
    DUPLICATE = "DUPLICATE"
    UNKNOWN_PERSON = "UNKNOWN_PERSON"


class CsvImportError(Exception):
    """The file as a whole cannot be imported; nothing was changed.

    `parameter` names the import option at fault (`column`, `idType`, as in
    GraphQL), so that the CLI can name its own flag instead."""

    def __init__(self, problem: str, *, parameter: str | None = None) -> None:
        super().__init__(f"{parameter}: {problem}" if parameter else problem)
        self.parameter = parameter
        self.problem = problem


@dataclass(frozen=True, kw_only=True)
class BadRow:
    line: int  # where the record starts, counting from 1 (the header is a line)
    problem: RowProblem
    message: str


@dataclass(frozen=True, kw_only=True)
class IdentifiedRow:
    line: int
    identifier: Identifier


CsvRow = IdentifiedRow | BadRow


@dataclass(frozen=True, kw_only=True)
class IdentifierColumn:
    name: str  # as written in the header
    position: int
    kind: IdKind


def _normalized(name: str) -> str:
    return name.strip().lower()


@dataclass(frozen=True, kw_only=True)
class IdentifierColumns:
    """The header's identifier columns, in the order a row's identifier is taken from them."""

    columns: tuple[IdentifierColumn, ...]
    header_width: int

    def __post_init__(self) -> None:
        if not self.columns:
            raise ValueError("at least one identifier column is needed")

    @classmethod
    def from_header(cls, header: Sequence[str], *, column: str | None = None, id_type: IdKind | None = None) -> IdentifierColumns:
        """The identifier columns of `header`: the one named by `column`, the one
        holding `id_type`, or every column named id, email or cio_id."""
        positions: dict[str, int] = {}
        for position, name in enumerate(header):
            positions.setdefault(_normalized(name), position)
        listed = ", ".join(repr(name) for name in header[:20])
        if column is not None:
            if _normalized(column) not in positions:
                raise CsvImportError(f"the header has no column {column!r} (it has {listed})", parameter="column")
            position = positions[_normalized(column)]
            kind = id_type or IDENTIFIER_HEADERS.get(_normalized(column))
            if kind is None:
                raise CsvImportError(
                    f"column {column!r} is not named id, email or cio_id, so say which kind of identifier it holds",
                    parameter="idType",
                )
            chosen = [IdentifierColumn(name=header[position], position=position, kind=kind)]
        else:
            chosen = [
                IdentifierColumn(name=header[positions[name]], position=positions[name], kind=kind)
                for name, kind in IDENTIFIER_HEADERS.items()
                if name in positions and id_type in (None, kind)
            ]
            if not chosen:
                wanted = f"a column named {id_type}" if id_type else "a column named id, email or cio_id"
                raise CsvImportError(f"no identifier column: the header needs {wanted}, or name one with column (it has {listed})")
        return cls(columns=tuple(chosen), header_width=len(header))

    def identify(self, line: int, fields: Sequence[str]) -> CsvRow:
        """The identifier of one record: the first non-empty identifier column."""
        for column in self.columns:
            value = fields[column.position].strip() if column.position < len(fields) else ""
            if not value:
                continue
            if _NOT_TEXT.search(value):
                return BadRow(line=line, problem=RowProblem.MALFORMED_LINE, message=f"{column.name}: not UTF-8 text")
            identifier = identifier_of_kind(column.kind, value)
            if isinstance(identifier, str):
                return BadRow(line=line, problem=RowProblem.INVALID_IDENTIFIER, message=f"{column.name} {value!r}: {identifier}")
            return IdentifiedRow(line=line, identifier=identifier)
        names = " or ".join(column.name for column in self.columns)
        if len(fields) < self.header_width and all(len(fields) <= column.position for column in self.columns):
            return BadRow(
                line=line,
                problem=RowProblem.MALFORMED_LINE,
                message=f"{len(fields)} field(s) where the header has {self.header_width}: no {names}",
            )
        return BadRow(line=line, problem=RowProblem.EMPTY_IDENTIFIER, message=f"no {names} on this line")


# Spreadsheets in locales that write decimal commas save CSV with `;`.
DELIMITERS = (",", ";", "\t")


def _delimiter(header_line: str) -> str:
    """The header's separator: the most frequent of DELIMITERS in it (a comma if none)."""
    counts = {delimiter: header_line.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _records(text: io.TextIOBase) -> Iterator[tuple[int, list[str] | csv.Error]]:
    """(line where the record starts, its fields or why it is malformed); blank records skipped."""
    header_line = text.readline()
    reader = csv.reader(chain([header_line], text), delimiter=_delimiter(header_line), strict=True)
    consumed = 0
    while True:
        line = consumed + 1
        try:
            fields: list[str] | csv.Error = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            # The reader starts afresh on the next line after an error.
            fields = error
        consumed = reader.line_num
        if isinstance(fields, csv.Error) or any(field.strip() for field in fields):
            yield line, fields


def _identified_rows(records: Iterator[tuple[int, list[str] | csv.Error]], columns: IdentifierColumns) -> Iterator[CsvRow]:
    first_line: dict[tuple[IdKind, str], int] = {}
    for line, fields in records:
        if isinstance(fields, csv.Error):
            yield BadRow(line=line, problem=RowProblem.MALFORMED_LINE, message=f"not valid CSV: {fields}")
            continue
        row = columns.identify(line, fields)
        if isinstance(row, IdentifiedRow):
            kind, value = row.identifier.kind, row.identifier.value
            seen_at = first_line.setdefault((kind, value.lower() if kind is IdKind.EMAIL else value), line)
            if seen_at != line:
                row = BadRow(line=line, problem=RowProblem.DUPLICATE, message=f"{kind} {value!r} is also on line {seen_at}")
        yield row


@contextmanager
def csv_rows(binary: BinaryIO, *, column: str | None = None, id_type: IdKind | None = None) -> Iterator[Iterator[CsvRow]]:
    """The data rows of a CSV file, read lazily from `binary` (UTF-8, an optional
    BOM, any line ending). The header is read on entry: a file whose header
    names no usable identifier column raises CsvImportError there."""
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")
    try:
        records = _records(text)
        try:
            header_line, header = next(records)
        except StopIteration:
            raise CsvImportError("the file is empty: the first line must be a header naming the identifier column") from None
        if isinstance(header, csv.Error):
            raise CsvImportError(f"line {header_line}: the header is not valid CSV: {header}")
        yield _identified_rows(records, IdentifierColumns.from_header(header, column=column, id_type=id_type))
    finally:
        # Closing the wrapper would close the caller's file.
        text.detach()


@dataclass(frozen=True, kw_only=True)
class ImportReport:
    mode: ImportMode
    dry_run: bool
    rows: int  # data records read (blank lines are not records)
    added: int
    already_members: int
    removed: int  # REPLACE: members the file does not name
    problem_counts: tuple[tuple[RowProblem, int], ...]
    bad_rows: tuple[BadRow, ...]  # the first MAX_REPORTED_BAD_ROWS, in line order

    def count(self, problem: RowProblem) -> int:
        return dict(self.problem_counts).get(problem, 0)

    @property
    def bad_row_count(self) -> int:
        return sum(n for _, n in self.problem_counts)

    def as_json(self) -> dict[str, Any]:
        return {
            "mode": str(self.mode),
            "dryRun": self.dry_run,
            "rows": self.rows,
            "added": self.added,
            "alreadyMembers": self.already_members,
            "removed": self.removed,
            "problems": {str(problem): n for problem, n in self.problem_counts},
            "badRows": [{"line": r.line, "problem": str(r.problem), "message": r.message} for r in self.bad_rows],
        }


@dataclass(frozen=True, kw_only=True)
class ImportPlan:
    changes: ManualChanges
    report: ImportReport


@dataclass
class _Tally:
    """What planning has seen so far."""

    rows: int = 0
    already_members: int = 0
    problems: Counter[RowProblem] = field(default_factory=Counter)
    bad_rows: list[BadRow] = field(default_factory=list)
    to_add: list[str] = field(default_factory=list)
    # person id -> the first line naming them: two identifiers may name one person
    named: dict[str, int] = field(default_factory=dict)

    def bad(self, row: BadRow) -> None:
        self.problems[row.problem] += 1
        if len(self.bad_rows) < MAX_REPORTED_BAD_ROWS:
            self.bad_rows.append(row)


async def plan_import(
    db: Database,
    workspace_id: str,
    segment_id: str,
    rows: Iterable[CsvRow],
    *,
    mode: ImportMode,
    dry_run: bool,
    on_progress: Callable[[int], None] | None = None,
) -> ImportPlan:
    """Resolve every row and work out the changes; writes nothing."""
    tally = _Tally()
    # One read of the segment's members (an indexed equality on the segment)
    # instead of a lookup per row.
    members = await member_ids(db, workspace_id, segment_id)
    for chunk in batched(rows, CHUNK_ROWS):
        identified = [row for row in chunk if isinstance(row, IdentifiedRow)]
        people = await resolve_people(db, workspace_id, [row.identifier for row in identified])
        for row in chunk:
            tally.rows += 1
            if isinstance(row, BadRow):
                tally.bad(row)
            elif (person_id := people.get(row.identifier)) is None:
                tally.bad(BadRow(line=row.line, problem=RowProblem.UNKNOWN_PERSON, message=f"no person with {row.identifier.kind} {row.identifier.value!r}"))
            elif (first := tally.named.setdefault(person_id, row.line)) != row.line:
                tally.bad(BadRow(line=row.line, problem=RowProblem.DUPLICATE, message=f"the same person as line {first}"))
            elif person_id in members:
                tally.already_members += 1
            else:
                tally.to_add.append(person_id)
        if on_progress is not None:
            on_progress(tally.rows)
        await asyncio.sleep(0)
    to_remove: list[str] = []
    if mode is ImportMode.REPLACE:
        if not tally.named:
            raise CsvImportError("REPLACE: no line of the file names a person of this workspace, so it would remove every member; nothing was changed")
        to_remove = sorted(members - tally.named.keys())
    report = ImportReport(
        mode=mode,
        dry_run=dry_run,
        rows=tally.rows,
        added=len(tally.to_add),
        already_members=tally.already_members,
        removed=len(to_remove),
        problem_counts=tuple((problem, tally.problems[problem]) for problem in RowProblem if tally.problems[problem]),
        bad_rows=tuple(tally.bad_rows),
    )
    return ImportPlan(
        changes=ManualChanges(add=tuple(tally.to_add), remove=tuple(to_remove)),
        report=report,
    )


async def import_members(
    db: Database,
    engine: MembershipEngine,
    workspace_id: str,
    segment_id: str,
    binary: BinaryIO,
    *,
    mode: ImportMode = ImportMode.APPEND,
    dry_run: bool = False,
    column: str | None = None,
    id_type: IdKind | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a CSV file into a manual segment (SegmentNotFound, NotAManualSegment,
    CsvImportError: nothing changed). Good rows are imported even when others are bad."""
    await manual_segment(db, workspace_id, segment_id)
    with csv_rows(binary, column=column, id_type=id_type) as rows:
        plan = await plan_import(db, workspace_id, segment_id, rows, mode=mode, dry_run=dry_run, on_progress=on_progress)
    if not dry_run:
        await apply_import(db, engine, workspace_id, segment_id, plan.changes)
    return plan.report
