from pathlib import Path

from api.print_schema import printed_schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_committed_schema_matches_the_code():
    assert SCHEMA_FILE.read_text() == printed_schema(), (
        "schema.graphql is out of date: run `make schema` and commit the result"
    )
