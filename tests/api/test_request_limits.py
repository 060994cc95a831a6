"""Request limits over HTTP: GraphQL document bytes, aliases and page size,
and the size of an uploaded CSV (nothing written); each configurable.
Depth and tokens: tests/api/test_graphql_endpoint.py."""

from __future__ import annotations

import pytest
from conftest import make_settings, start_server
from manual_helpers import create_manual_segment, import_csv

from api.settings import Settings
from rules.clock import SystemClock

MEMBER_COUNT = "query($id: ID!) { segment(id: $id) { memberCount } }"


@pytest.fixture
def limited_server():
    settings = make_settings(graphql_max_query_bytes=600, graphql_max_aliases=3, max_page_size=20, max_upload_bytes=1_000)
    running, stop = start_server(settings, SystemClock())
    try:
        yield running
    finally:
        stop()


def test_query_bytes_over_the_limit_are_refused_naming_it(limited_server):
    ws = limited_server.create_workspace()
    query = "{ segments { id } }"
    assert "errors" not in limited_server.graphql(ws, query)
    # comments cost bytes but no tokens: only the byte limit catches this
    padded = limited_server.graphql(ws, "#" + "x" * 700 + "\n" + query)
    assert padded["data"] is None
    assert padded["errors"][0]["message"] == (
        "query: the document is 721 bytes; at most 600 are allowed (SEGMENTS_GRAPHQL_MAX_QUERY_BYTES)"
    )


def test_aliases_over_the_limit_are_refused(limited_server):
    ws = limited_server.create_workspace()
    assert "errors" not in limited_server.graphql(ws, "{ a: segments { id } b: segments { id } c: segments { id } }")
    four = limited_server.graphql(ws, "{ a: segments { id } b: segments { id } c: segments { id } d: segments { id } }")
    assert four["data"] is None
    assert "4 aliases" in four["errors"][0]["message"] and "3" in four["errors"][0]["message"]


def test_page_size_over_the_limit_is_an_error_naming_first(limited_server):
    ws = limited_server.create_workspace()
    result = limited_server.graphql(ws, "{ people(first: 21) { totalCount } }")
    assert result["errors"][0]["message"] == "first: must be between 0 and 20, got 21"
    assert "errors" not in limited_server.graphql(ws, "{ people(first: 20) { totalCount } }")


def test_an_upload_over_the_limit_is_refused_and_changes_nothing(limited_server):
    ws = limited_server.create_workspace()
    with limited_server.track(ws) as track:
        assert track.put("/api/v1/customers/ann", json={"email": "ann@example.com"}).status_code == 200
    segment_id = create_manual_segment(limited_server, ws)
    big = ("id\nann\n" + "nobody\n" * 200).encode()
    assert len(big) > 1_000
    result = import_csv(limited_server, ws, segment_id, big)
    assert result == {"__typename": "ImportFileError", "message": f"file: {len(big)} bytes; at most 1000 are allowed (SEGMENTS_MAX_UPLOAD_BYTES); nothing was changed"}
    assert limited_server.graphql(ws, MEMBER_COUNT, {"id": segment_id})["data"]["segment"]["memberCount"] == 0
    small = import_csv(limited_server, ws, segment_id, b"id\nann\n")
    assert small["added"] == 1


def test_limits_are_read_from_the_environment():
    env = {"SEGMENTS_GRAPHQL_MAX_QUERY_BYTES": "1000", "SEGMENTS_GRAPHQL_MAX_ALIASES": "5",
           "SEGMENTS_GRAPHQL_MAX_DEPTH": "7", "SEGMENTS_GRAPHQL_MAX_TOKENS": "900",
           "SEGMENTS_MAX_PAGE_SIZE": "100", "SEGMENTS_MAX_UPLOAD_BYTES": "2048"}
    settings = Settings.from_env(env)
    assert (settings.graphql_max_query_bytes, settings.graphql_max_aliases, settings.graphql_max_depth,
            settings.graphql_max_tokens, settings.max_page_size, settings.max_upload_bytes) == (1000, 5, 7, 900, 100, 2048)
    with pytest.raises(SystemExit, match="SEGMENTS_MAX_UPLOAD_BYTES must be a whole number, got '1MB'"):
        Settings.from_env({"SEGMENTS_MAX_UPLOAD_BYTES": "1MB"})
    with pytest.raises(SystemExit, match="SEGMENTS_GRAPHQL_MAX_ALIASES must be at least 1, got 0"):
        Settings.from_env({"SEGMENTS_GRAPHQL_MAX_ALIASES": "0"})
