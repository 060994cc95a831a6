"""The CSV reader (what each line of a real file becomes) and import planning
against the store."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from rules.clock import FakeClock
from rules.manual.csv_import import (
    BadRow,
    CsvImportError,
    IdentifiedRow,
    ImportMode,
    RowProblem,
    csv_rows,
    import_members,
    plan_import,
)
from rules.people.identifiers import IdKind, Identifier, new_cio_id, person_identity_documents
from rules.store.documents import person_document
from rules.membership.engine import MembershipEngine, NotAManualSegment
from rules.segments.records import SegmentNotFound, SegmentType
from rules.segments.service import SegmentDraft, SegmentService

WS = "ws_test"


def read(data: bytes, **options) -> list[IdentifiedRow | BadRow]:
    with csv_rows(io.BytesIO(data), **options) as rows:
        return list(rows)


def summary(rows: list[IdentifiedRow | BadRow]) -> list[tuple]:
    return [
        (row.line, str(row.identifier)) if isinstance(row, IdentifiedRow) else (row.line, row.problem)
        for row in rows
    ]


# -- reading -----------------------------------------------------------------------


def test_bom_crlf_quoted_fields_extra_columns_and_blank_lines(tmp_path: Path):
    path = tmp_path / "members.csv"
    path.write_bytes(
        b'\xef\xbb\xbfName,EMAIL,Notes\r\n'
        b'"Lovelace, Ada",ada@example.com,"said ""hi"""\r\n'
        b"\r\n"
        b'Bob,"bob@example.com",x,extra,columns\r\n'
        b",,\r\n"
        b'"Multi\r\nline name",cy@example.com\r\n'
    )
    with path.open("rb") as file:
        with csv_rows(file) as rows:
            assert summary(list(rows)) == [(2, "ada@example.com"), (4, "bob@example.com"), (6, "cy@example.com")]
        assert not file.closed, "the reader must not close the caller's file"


def test_identifier_column_is_found_by_header_or_named():
    data = b"Customer,cio_id,ID\nu-1,,u-1\nu-2,0123456789abcdef0123,u-2\n"
    # Several identifier columns: each row by its first non-empty one, cio_id before id before email.
    assert summary(read(data)) == [(2, "u-1"), (3, "cio_0123456789abcdef0123")]
    assert summary(read(data, column="customer", id_type=IdKind.ID)) == [(2, "u-1"), (3, "u-2")]
    assert summary(read(data, id_type=IdKind.ID)) == [(2, "u-1"), (3, "u-2")]


@pytest.mark.parametrize(
    ("data", "options", "message"),
    [
        (b"", {}, "the file is empty"),
        (b"\n\n", {}, "the file is empty"),
        (b"name,plan\nAda,pro\n", {}, "no identifier column"),
        (b"email\nada@example.com\n", {"column": "mail"}, "column: the header has no column 'mail'"),
        (b"Customer\nu-1\n", {"column": "Customer"}, "idType: column 'Customer' is not named id, email or cio_id"),
        (b"email\nada@example.com\n", {"id_type": IdKind.ID}, "a column named id"),
        (b'"email\nada@example.com\n', {}, "the header is not valid CSV"),
    ],
)
def test_a_file_without_a_usable_header_is_refused(data: bytes, options: dict, message: str):
    with pytest.raises(CsvImportError, match=message):
        read(data, **options)


def test_every_bad_row_is_reported_with_its_line_and_reason():
    data = (
        b"email,name\n"
        b"ada@example.com,Ada\n"  # 2
        b"not-an-email,Bob\n"  # 3
        b",Cy\n"  # 4
        b"ADA@example.com,Ada again\n"  # 5: emails compare case-insensitively
        b'"dee@example.com"x,Dee\n'  # 6: text after a closing quote
        b"\xff\xfe@example.com,Eve\n"  # 7: not UTF-8
        + b"f" * 150 + b"@example.com,Fay\n"  # 8: too long
        + b"gil@example.com\n"  # 9: short rows are fine while the identifier is there
    )
    rows = read(data)
    assert summary(rows) == [
        (2, "ada@example.com"),
        (3, RowProblem.INVALID_IDENTIFIER),
        (4, RowProblem.EMPTY_IDENTIFIER),
        (5, RowProblem.DUPLICATE),
        (6, RowProblem.MALFORMED_LINE),
        (7, RowProblem.MALFORMED_LINE),
        (8, RowProblem.INVALID_IDENTIFIER),
        (9, "gil@example.com"),
    ]
    messages = {row.line: row.message for row in rows if isinstance(row, BadRow)}
    assert messages[3] == "email 'not-an-email': email is not an email address (no @)"
    assert messages[5] == "email 'ADA@example.com' is also on line 2"
    assert "not valid CSV" in messages[6]


def test_a_row_too_short_to_hold_the_identifier_is_malformed():
    rows = read(b"name,plan,id\nAda,pro,u-1\nBob\n")
    assert summary(rows) == [(2, "u-1"), (3, RowProblem.MALFORMED_LINE)]
    assert rows[1].message == "1 field(s) where the header has 3: no id"


def test_an_unterminated_quote_is_one_malformed_record():
    rows = read(b'id\nu-1\n"u-2\nu-3\n')
    assert summary(rows) == [(2, "u-1"), (3, RowProblem.MALFORMED_LINE)]


def test_100k_rows_stream_without_loading_the_file(tmp_path: Path):
    path = tmp_path / "big.csv"
    with path.open("w", newline="") as file:
        file.write("id,email,plan,notes\r\n")
        for n in range(100_000):
            file.write(f"user-{n},user-{n}@example.com,pro,{'x' * 40}\r\n")
    with path.open("rb") as file, csv_rows(file) as rows:
        first = [next(rows) for _ in range(10)]
        # Reading is lazy: ten rows in, the file has been read only a buffer's worth.
        assert file.tell() < 64 * 1024 < path.stat().st_size
        rest = list(rows)
    assert summary(first[:1]) == [(2, "user-0")]
    assert len(rest) == 99_990 and all(isinstance(row, IdentifiedRow) for row in rest)
    assert rest[-1].line == 100_001


# -- planning against the store ----------------------------------------------------


async def _people(db, *specs: tuple[str | None, str | None]) -> list[str]:
    documents = [
        person_document(WS, new_cio_id(), profile_id=pid, email=email, attributes={}, created_at=1.0, now=1.0)
        for pid, email in specs
    ]
    await db["people"].insert_many(documents)
    await db["identities"].insert_many([i for d in documents for i in person_identity_documents(WS, d)])
    return [d["_id"] for d in documents]


@pytest.fixture
def engine(db):
    return MembershipEngine(db, FakeClock())


async def _manual_segment(db, engine, name: str = "VIP") -> str:
    segments = SegmentService(db, FakeClock(), engine)
    return (await segments.create(WS, SegmentDraft(name=name, type=SegmentType.MANUAL))).id


async def test_planning_resolves_rows_and_reports_without_writing(db, engine):
    ada, bob, cy = await _people(db, ("u-1", "ada@example.com"), ("u-2", "bob@example.com"), ("u-3", None))
    segment_id = await _manual_segment(db, engine)
    await engine.apply_manual_changes(WS, segment_id, add=[bob, cy])
    data = b"email,id\nada@example.com,\nbob@example.com,\n,u-1\nnobody@example.com,\n"
    with csv_rows(io.BytesIO(data)) as rows:
        plan = await plan_import(db, WS, segment_id, rows, mode=ImportMode.REPLACE, dry_run=True)
    assert plan.changes.add == (ada,)
    assert plan.changes.remove == (cy,)
    report = plan.report
    assert (report.rows, report.added, report.already_members, report.removed) == (4, 1, 1, 1)
    assert report.count(RowProblem.UNKNOWN_PERSON) == 1
    # "u-1" names Ada, whom line 2 already named by email.
    assert [(r.line, r.problem, r.message) for r in report.bad_rows] == [
        (4, RowProblem.DUPLICATE, "the same person as line 2"),
        (5, RowProblem.UNKNOWN_PERSON, "no person with email 'nobody@example.com'"),
    ]
    assert await db["memberships"].count_documents({"segmentId": segment_id}) == 2


async def test_dry_run_and_real_run_report_the_same(db, engine):
    await _people(db, ("u-1", None), ("u-2", None))
    segment_id = await _manual_segment(db, engine)
    data = b"id\nu-1\nu-2\nu-9\nu-1\n"
    dry = await import_members(db, engine, WS, segment_id, io.BytesIO(data), dry_run=True)
    assert await db["memberships"].count_documents({"segmentId": segment_id}) == 0
    real = await import_members(db, engine, WS, segment_id, io.BytesIO(data))
    assert (dry.dry_run, real.dry_run) == (True, False)
    assert dry.__dict__ | {"dry_run": False} == real.__dict__
    assert (real.added, real.count(RowProblem.UNKNOWN_PERSON), real.count(RowProblem.DUPLICATE)) == (2, 1, 1)
    assert await db["memberships"].count_documents({"segmentId": segment_id}) == 2
    kinds = [c["kind"] async for c in db["membership_changes"].find({"segmentId": segment_id})]
    assert kinds == ["ENTERED", "ENTERED"]


async def test_a_failed_replace_keeps_the_old_members(db, engine):
    ada, bob = await _people(db, ("u-1", None), ("u-2", None))
    segment_id = await _manual_segment(db, engine)
    await engine.apply_manual_changes(WS, segment_id, add=[ada, bob])
    for data in (b"name\nAda\n", b"id\nu-404\n,\n"):
        with pytest.raises(CsvImportError):
            await import_members(db, engine, WS, segment_id, io.BytesIO(data), mode=ImportMode.REPLACE)
    members = {m["personId"] async for m in db["memberships"].find({"segmentId": segment_id})}
    assert members == {ada, bob}


async def test_replace_leaves_exactly_the_files_people(db, engine):
    ada, bob, cy = await _people(db, ("u-1", None), ("u-2", None), ("u-3", None))
    segment_id = await _manual_segment(db, engine)
    await engine.apply_manual_changes(WS, segment_id, add=[ada, bob])
    report = await import_members(db, engine, WS, segment_id, io.BytesIO(b"id\nu-2\nu-3\n"), mode=ImportMode.REPLACE)
    assert (report.added, report.already_members, report.removed) == (1, 1, 1)
    members = {m["personId"] async for m in db["memberships"].find({"segmentId": segment_id})}
    assert members == {bob, cy}


async def test_only_manual_segments_of_the_workspace_take_imports(db, engine):
    await _people(db, ("u-1", None))
    segments = SegmentService(db, FakeClock(), engine)
    data_driven = await segments.create(
        WS, SegmentDraft(name="Pro", condition={"attribute": {"path": "plan", "op": "eq", "value": "pro"}})
    )
    with pytest.raises(NotAManualSegment, match="DATA_DRIVEN"):
        await import_members(db, engine, WS, data_driven.id, io.BytesIO(b"id\nu-1\n"))
    segment_id = await _manual_segment(db, engine)
    with pytest.raises(SegmentNotFound):
        await import_members(db, engine, "ws_other", segment_id, io.BytesIO(b"id\nu-1\n"))


def test_identifiers_keep_their_kind():
    (row,) = read(b"cio_id\ncio_0123456789abcdef0123\n")
    assert row.identifier == Identifier(kind=IdKind.CIO_ID, value="0123456789abcdef0123")


async def test_an_import_resolved_in_chunks_gives_what_one_chunk_gives(db, engine, monkeypatch):
    ada, bob, cy = await _people(db, ("u-1", "ada@example.com"), ("u-2", "bob@example.com"), (None, "cy@example.com"))
    foreign = person_document("ws_other", new_cio_id(), profile_id="u-9", email="eve@example.com", attributes={}, created_at=1.0, now=1.0)
    await db["people"].insert_many([foreign])
    await db["identities"].insert_many(person_identity_documents("ws_other", foreign))
    segment_id = await _manual_segment(db, engine)
    data = (
        f"cio_id,id,email\n,u-1,\n,,BOB@example.com\n{cy},,\n,u-9,\n,,eve@example.com\n{foreign['_id']},,\n,,ada@example.com\n"
    ).encode()

    async def plan():
        with csv_rows(io.BytesIO(data)) as rows:
            return await plan_import(db, WS, segment_id, rows, mode=ImportMode.APPEND, dry_run=True)

    by_lookups = await plan()
    # Rows are resolved two at a time.
    monkeypatch.setattr("rules.manual.csv_import.CHUNK_ROWS", 2)
    by_directory = await plan()
    assert by_directory == by_lookups
    assert by_directory.changes.add == (ada, bob, cy)
    assert [(r.line, r.problem) for r in by_directory.report.bad_rows] == [
        (5, RowProblem.UNKNOWN_PERSON),
        (6, RowProblem.UNKNOWN_PERSON),
        (7, RowProblem.UNKNOWN_PERSON),
        (8, RowProblem.DUPLICATE),
    ]
