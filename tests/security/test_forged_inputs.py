"""Inputs found by the fuzzers, kept as plain regression tests: extreme
DateTime arguments get results, forged cursors a named user error."""

from __future__ import annotations

import base64
import json

import pytest

from tests.conftest import HTTP

CHANGES = 'query($s: ID!, $since: DateTime) { segment(id: $s) { changes(first: 100, since: $since) { totalCount edges { node { kind } } } } }'


@pytest.mark.parametrize("since", ["0001-01-01T00:00:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59.999999", "9999-12-31T23:59:59-14:00"])
def test_extreme_datetimes_get_a_result(two_workspaces, since):
    server, a, _ = two_workspaces
    result = server.graphql(a.workspace, CHANGES, {"s": a.segment_ids["data"], "since": since})
    assert "errors" not in result, result
    expected = 0 if since.startswith("9999") else 2  # both of A's people entered the data-driven segment
    assert result["data"]["segment"]["changes"]["totalCount"] == expected


def _cursor(key) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


FORGED = [
    _cursor([2**64, "x"]), _cursor([-(2**70), "x"]), base64.urlsafe_b64encode(b'[1e400, "x"]').decode(),
    base64.urlsafe_b64encode(b'[NaN, "x"]').decode(), _cursor(["x"] * 3), _cursor({"a": 1}), "not base64 !", "\ud800", "",
]  # fmt: skip


@pytest.mark.parametrize("cursor", FORGED)
def test_forged_cursors_are_a_named_user_error(two_workspaces, cursor):
    server, a, _ = two_workspaces
    query = 'query($after: String, $s: ID!) { people(after: $after) { totalCount } segment(id: $s) { changes(after: $after) { totalCount } } }'
    body = json.dumps({"query": query, "variables": {"after": cursor, "s": a.segment_ids["data"]}})  # ASCII: "\ud800" escaped
    response = HTTP.post(
        f"{server.base_url}/graphql", content=body, timeout=30,
        headers={"Authorization": f"Bearer {a.workspace['appApiKey']}", "content-type": "application/json"},
    )  # fmt: skip
    assert response.status_code == 200
    messages = {error["message"] for error in response.json()["errors"]}
    assert messages == {"after: not a cursor returned by this connection"}, response.text
