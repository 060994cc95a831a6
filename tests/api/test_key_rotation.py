"""Rotating keys over HTTP: the old key is refused from the next request on."""

from __future__ import annotations

import httpx

from rules.workspaces import KeyKind, rotate_keys

ROTATE = "mutation($kind: ApiKeyKind!) { rotateApiKey(kind: $kind) { __typename ... on RotatedApiKey { kind key } ... on Error { message } } }"
WHO = "{ segments { id } }"


def _graphql(server, app_key: str, query: str, variables: dict | None = None) -> httpx.Response:
    return httpx.post(
        f"{server.base_url}/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {app_key}"},
        timeout=30,
    )


def _identify(server, site_id: str, track_key: str) -> int:
    response = httpx.put(f"{server.base_url}/api/v1/customers/u1", json={"plan": "pro"}, auth=(site_id, track_key), timeout=30)
    return response.status_code


def test_rotating_the_app_key_over_graphql_refuses_the_old_one_at_once(server):
    ws, other = server.create_workspace("A"), server.create_workspace("B")
    rotated = _graphql(server, ws["appApiKey"], ROTATE, {"kind": "APP"}).json()["data"]["rotateApiKey"]
    assert rotated["__typename"] == "RotatedApiKey" and rotated["kind"] == "APP"
    new_key = rotated["key"]
    assert new_key.startswith("app_") and new_key != ws["appApiKey"]

    assert _graphql(server, ws["appApiKey"], WHO).status_code == 401
    assert httpx.get(f"{server.base_url}/exports/segments/x.csv", headers={"Authorization": f"Bearer {ws['appApiKey']}"}).status_code == 401
    assert _graphql(server, new_key, WHO).json() == {"data": {"segments": []}}
    # The other workspace's key and this workspace's track key are untouched.
    assert _graphql(server, other["appApiKey"], WHO).status_code == 200
    assert _identify(server, ws["siteId"], ws["trackApiKey"]) == 200


def test_rotating_the_track_key_over_graphql(server):
    ws = server.create_workspace()
    rotated = _graphql(server, ws["appApiKey"], ROTATE, {"kind": "TRACK"}).json()["data"]["rotateApiKey"]
    assert rotated["kind"] == "TRACK" and rotated["key"].startswith("trk_")
    assert _identify(server, ws["siteId"], ws["trackApiKey"]) == 401
    assert _identify(server, ws["siteId"], rotated["key"]) == 200
    assert _graphql(server, ws["appApiKey"], WHO).status_code == 200


def test_rotate_keys_replaces_both_and_only_of_that_workspace(server):
    ws, other = server.create_workspace("A"), server.create_workspace("B")
    keys = server.call(lambda s: rotate_keys(s.db, ws["workspaceId"], [KeyKind.TRACK, KeyKind.APP], now=s.clock.now()))
    new = {key.kind: key.value for key in keys}
    assert _identify(server, ws["siteId"], ws["trackApiKey"]) == 401
    assert _graphql(server, ws["appApiKey"], WHO).status_code == 401
    assert _identify(server, ws["siteId"], new[KeyKind.TRACK]) == 200
    assert _graphql(server, new[KeyKind.APP], WHO).status_code == 200
    assert _identify(server, other["siteId"], other["trackApiKey"]) == 200
    assert _graphql(server, other["appApiKey"], WHO).status_code == 200
