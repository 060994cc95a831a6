"""importSegmentMembers with real files, over the GraphQL multipart request spec."""

from pathlib import Path

from graphql_seed import documents, insert, person
from tests.api.manual_helpers import create_data_driven_segment, create_manual_segment, import_csv, member_emails


def _seed(server, ws, count: int) -> None:
    docs = documents()
    for n in range(count):
        person(ws["workspaceId"], docs, id=f"u-{n}", email=f"user{n}@example.com")
    insert(server, docs)


def _report(result: dict) -> dict:
    return {key: value for key, value in result.items() if key not in ("dryRun", "segment")}


def test_a_real_file_dry_run_then_import_give_the_same_report(server, tmp_path: Path):
    ws = server.create_workspace()
    _seed(server, ws, 5)
    segment_id = create_manual_segment(server, ws)
    path = tmp_path / "Customers export.csv"
    # As spreadsheets write them: a BOM, CRLF, quoted fields with commas and
    # quotes, extra columns, blank lines, then duplicates and unknown people.
    path.write_bytes(
        b"\xef\xbb\xbfName,E-mail address,EMAIL,Plan\r\n"
        b'"Zero, User",ignored,user0@example.com,pro\r\n'
        b'"One ""the first""",ignored,"USER1@example.com",free,extra\r\n'
        b"\r\n"
        b"Two,,user2@example.com\r\n"
        b"Zero again,,user0@EXAMPLE.com,pro\r\n"
        b"Stranger,,stranger@example.com,pro\r\n"
        b"Nobody,,,pro\r\n"
        b'Broken,,"user3@example.com"x,pro\r\n'
    )
    content = path.read_bytes()

    dry = import_csv(server, ws, segment_id, content, dry_run=True)
    assert dry["__typename"] == "SegmentImport" and dry["dryRun"] is True
    assert dry["segment"]["memberCount"] == 0
    assert member_emails(server, ws, segment_id) == set()

    real = import_csv(server, ws, segment_id, content)
    assert real["dryRun"] is False
    assert _report(real) == _report(dry)
    assert _report(real) == {
        "__typename": "SegmentImport",
        "mode": "APPEND",
        "rows": 7,
        "added": 3,
        "alreadyMembers": 0,
        "removed": 0,
        "notFound": 1,
        "invalid": 1,
        "duplicates": 1,
        "malformed": 1,
        "badRowCount": 4,
        "badRows": [
            {"line": 6, "problem": "DUPLICATE", "message": "email 'user0@EXAMPLE.com' is also on line 2"},
            {"line": 7, "problem": "UNKNOWN_PERSON", "message": "no person with email 'stranger@example.com'"},
            {"line": 8, "problem": "EMPTY_IDENTIFIER", "message": "no EMAIL on this line"},
            {"line": 9, "problem": "MALFORMED_LINE", "message": "not valid CSV: ',' expected after '\"'"},
        ],
    }
    assert member_emails(server, ws, segment_id) == {"user0@example.com", "user1@example.com", "user2@example.com"}

    again = import_csv(server, ws, segment_id, content)
    assert (again["added"], again["alreadyMembers"]) == (0, 3)


def test_replace_keeps_only_the_files_people_and_a_failed_replace_keeps_the_old(server):
    ws = server.create_workspace()
    _seed(server, ws, 4)
    segment_id = create_manual_segment(server, ws)
    import_csv(server, ws, segment_id, b"id\nu-0\nu-1\n")

    for content in (b"name\nno identifier column\n", b"id\nu-404\nu-405\n", b""):
        failed = import_csv(server, ws, segment_id, content, mode="REPLACE")
        assert failed["__typename"] == "ImportFileError", failed
    assert member_emails(server, ws, segment_id) == {"user0@example.com", "user1@example.com"}

    replaced = import_csv(server, ws, segment_id, b"Customer ID\r\nu-1\r\nu-2\r\n", mode="REPLACE", column="customer id")
    assert replaced["__typename"] == "ImportFileError"
    assert "not named id, email or cio_id" in replaced["message"]
    replaced = import_csv(server, ws, segment_id, b"Plan,ID\r\npro,u-1\r\npro,u-2\r\n", mode="REPLACE")
    assert (replaced["added"], replaced["alreadyMembers"], replaced["removed"]) == (1, 1, 1)
    assert member_emails(server, ws, segment_id) == {"user1@example.com", "user2@example.com"}


def test_an_explicit_column_and_refusals(server):
    ws = server.create_workspace()
    _seed(server, ws, 2)
    segment_id = create_manual_segment(server, ws)
    result = import_csv(server, ws, segment_id, b"id,email\nu-0,user1@example.com\n", column="EMAIL")
    assert result["added"] == 1
    assert member_emails(server, ws, segment_id) == {"user1@example.com"}

    data_driven = create_data_driven_segment(server, ws)
    refused = import_csv(server, ws, data_driven, b"id\nu-0\n")
    assert refused["__typename"] == "NotManualSegmentError"
    assert import_csv(server, ws, "seg_missing", b"id\nu-0\n")["__typename"] == "NotFoundError"


def test_100k_rows_are_read_and_reported(server, tmp_path: Path):
    ws = server.create_workspace()
    _seed(server, ws, 1_000)
    segment_id = create_manual_segment(server, ws)
    path = tmp_path / "big.csv"
    # 1,000 people who exist, 1,000 who do not, then the same 2,000 again and again.
    with path.open("w", newline="") as file:
        file.write("email,plan\r\n")
        for n in range(100_000):
            file.write(f"user{n % 2_000}@example.com,pro\r\n")
    result = import_csv(server, ws, segment_id, path.read_bytes())
    assert (result["rows"], result["added"], result["notFound"], result["duplicates"]) == (100_000, 1_000, 1_000, 98_000)
    # Every bad row is counted; the report lists the first thousand, in line order.
    assert result["badRowCount"] == 99_000 and len(result["badRows"]) == 1_000
    assert result["badRows"][0] == {
        "line": 1_002,
        "problem": "UNKNOWN_PERSON",
        "message": "no person with email 'user1000@example.com'",
    }
    assert result["segment"]["memberCount"] == 1_000


def test_a_file_variable_that_is_not_a_file_part_is_an_error(server):
    ws = server.create_workspace()
    segment_id = create_manual_segment(server, ws)
    query = "mutation ($f: Upload!) { importSegmentMembers(segmentId: \"%s\", file: $f) { __typename ... on Error { message } } }"
    result = server.graphql(ws, query % segment_id, {"f": "id\nu-1\n"})
    assert result["data"]["importSegmentMembers"]["__typename"] == "ImportFileError"
    assert "multipart request" in result["data"]["importSegmentMembers"]["message"]
