"""Issue 12: one `matches` condition stalled the whole service. Over real
HTTP: the reproduction is refused at once with a named error while a cheap
request is answered meanwhile, and a segment saved before the check (written
straight to the store, as an older version would have) stalls nothing."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from rules.store.collections import SEGMENTS
from tests.conftest import HTTP

CATASTROPHIC = "^(a+)+$"
NOTE = "a" * 40 + "!"
PREVIEW = """
query($condition: ConditionInput!) { previewSegment(condition: $condition) { count sample { email } } }"""


def _post(server, workspace, query, variables=None) -> tuple[float, dict]:
    started = time.monotonic()
    response = HTTP.post(
        f"{server.base_url}/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {workspace['appApiKey']}"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return time.monotonic() - started, response.json()


def test_the_reproduction_is_refused_quickly_with_a_named_error_while_others_are_served(server):
    workspace = server.create_workspace("A")
    with server.track(workspace) as track:
        assert track.put("/api/v1/customers/u1", json={"email": "u1@example.com", "note": NOTE}).status_code == 200
    condition = {"attribute": {"path": "note", "op": "MATCHES", "value": CATASTROPHIC}}
    with ThreadPoolExecutor(2) as pool:
        preview = pool.submit(_post, server, workspace, PREVIEW, {"condition": condition})
        cheap = pool.submit(_post, server, workspace, "{ segments { id } }")
        preview_seconds, preview_body = preview.result(timeout=30)
        cheap_seconds, cheap_body = cheap.result(timeout=30)
    assert preview_seconds < 5 and cheap_seconds < 5
    assert cheap_body == {"data": {"segments": []}}
    (error,) = preview_body["errors"]
    problems = error["extensions"]["problems"]
    assert {"code": "UNBOUNDED_REGEX", "path": "/condition/attribute/value"} == {k: problems[0][k] for k in ("code", "path")}
    assert "exponential" in problems[0]["message"]


def test_an_unsupported_pattern_names_its_construct_and_pointer(server):
    workspace = server.create_workspace("A")
    condition = {"event": {"name": "x", "filters": [{"path": "p", "op": "MATCHES", "value": "(?=a)b"}]}}
    _, body = _post(server, workspace, PREVIEW, {"condition": condition})
    (problem,) = body["errors"][0]["extensions"]["problems"]
    assert problem["code"] == "UNSUPPORTED_REGEX" and problem["path"] == "/condition/event/filters/0/value"
    assert "lookarounds" in problem["message"]


def test_a_segment_stored_before_the_check_stalls_nothing_and_says_it_failed(server):
    workspace = server.create_workspace("A")
    ws = workspace["workspaceId"]
    legacy = {
        "_id": "seg_legacy",
        "ws": ws,
        "name": "saved by an older version",
        "description": None,
        "type": "DATA_DRIVEN",
        "condition": {"attribute": {"path": "note", "op": "matches", "value": CATASTROPHIC}},
        "state": "READY",
        "progress": {"done": 0, "total": 0},
        "memberCount": 0,
        "generation": 1,
        "failure": None,
        "createdAt": 1.0,
        "updatedAt": 1.0,
    }
    server.call(lambda s: s.db[SEGMENTS].insert_many([legacy]))
    started = time.monotonic()
    with server.track(workspace) as track:
        # Ingest re-evaluates the segments that read `note`: this one is not evaluated.
        assert track.put("/api/v1/customers/u1", json={"email": "u1@example.com", "note": NOTE}).status_code == 200
    _, explained = _post(
        server,
        workspace,
        '{ explainMembership(segmentId: "seg_legacy", person: {id: "u1"}) { ... on MembershipExplanation { isMember holds } } }',
    )
    assert time.monotonic() - started < 10
    assert explained["data"]["explainMembership"] == {"isMember": False, "holds": None}
    deadline = time.monotonic() + 10
    while True:
        _, body = _post(server, workspace, '{ segment(id: "seg_legacy") { state memberCount } }')
        if body["data"]["segment"]["state"] == "FAILED" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert body["data"]["segment"] == {"state": "FAILED", "memberCount": 0}
    failure = server.call(lambda s: s.db[SEGMENTS].find_one({"_id": "seg_legacy"}))["failure"]
    assert "no longer accepted" in failure and "UNBOUNDED_REGEX" not in failure and "exponential" in failure
