"""No query or route of one workspace returns, counts or changes another workspace's people or activity."""

import httpx

from graphql_seed import T0, delivery, device, documents, event, insert, person

EVERYTHING_VISIBLE = """
query ($cioId: ID) {
  all: people { totalCount edges { node { cioId } } }
  searched: people(email: "example.com") { totalCount edges { node { cioId } } }
  byAttribute: people(attribute: {path: "plan", value: "pro"}) { totalCount edges { node { cioId } } }
  byId: person(id: "shared") { ...activity }
  byEmail: person(email: "SHARED@example.com") { ...activity }
  byCioId: person(cioId: $cioId) { ...activity }
}
fragment activity on Person {
  cioId attributes suppressed
  devices { token }
  events { totalCount edges { node { name } } }
  deliveries { totalCount edges { node { deliveryId } } }
}
"""


def _workspace_with_data(server, name):
    ws = server.create_workspace(name)
    docs = documents()
    shared = person(ws["workspaceId"], docs, id="shared", email="shared@example.com", attributes={"plan": "pro"})
    own = person(ws["workspaceId"], docs, id=f"only-{name}", email=f"only-{name}@example.com", attributes={"plan": "pro"})
    event(ws["workspaceId"], docs, shared, name=f"event-of-{name}", ts=T0)
    device(ws["workspaceId"], docs, shared, token=f"token-of-{name}", platform="ios", last_used=T0)
    delivery(ws["workspaceId"], docs, shared, delivery_id=f"delivery-of-{name}", metrics={"sent": T0})
    insert(server, docs)
    return ws, shared, own


def test_graphql_sees_only_the_callers_workspace(server):
    ws_a, shared_a, own_a = _workspace_with_data(server, "a")
    ws_b, shared_b, own_b = _workspace_with_data(server, "b")
    # Activity stored in B that names A's person: only a missing `ws` filter would show it to A.
    docs = documents()
    event(ws_b["workspaceId"], docs, shared_a, name="event-of-b", ts=T0)
    device(ws_b["workspaceId"], docs, shared_a, token="token-of-b-for-a", platform="ios", last_used=T0)
    delivery(ws_b["workspaceId"], docs, shared_a, delivery_id="delivery-of-b-for-a", metrics={"sent": T0})
    insert(server, docs)

    for ws, shared, own, other in ((ws_a, shared_a, own_a, (shared_b, own_b)), (ws_b, shared_b, own_b, (shared_a, own_a))):
        name = ws["name"]
        result = server.graphql(ws, EVERYTHING_VISIBLE, {"cioId": shared})
        assert "errors" not in result, result
        data = result["data"]
        for listing in ("all", "searched", "byAttribute"):
            assert data[listing]["totalCount"] == 2, (name, listing)
            assert {edge["node"]["cioId"] for edge in data[listing]["edges"]} == {shared, own}, (name, listing)
        expected_activity = {
            "cioId": shared,
            "attributes": {"plan": "pro"},
            "suppressed": False,
            "devices": [{"token": f"token-of-{name}"}],
            "events": {"totalCount": 1, "edges": [{"node": {"name": f"event-of-{name}"}}]},
            "deliveries": {"totalCount": 1, "edges": [{"node": {"deliveryId": f"delivery-of-{name}"}}]},
        }
        assert data["byId"] == data["byEmail"] == data["byCioId"] == expected_activity, name
        for other_cio_id in other:
            assert server.graphql(ws, EVERYTHING_VISIBLE, {"cioId": other_cio_id})["data"]["byCioId"] is None
    assert server.graphql(ws_a, '{ person(id: "only-b") { cioId } }') == {"data": {"person": None}}


def test_track_api_with_one_workspaces_keys_cannot_change_anothers_people(server):
    ws_a, shared_a, _ = _workspace_with_data(server, "a")
    ws_b, shared_b, own_b = _workspace_with_data(server, "b")
    b_before = [server.graphql(ws_b, EVERYTHING_VISIBLE, {"cioId": cio_id}) for cio_id in (shared_b, own_b)]
    b_person = f"/api/v1/customers/cio_{shared_b}"
    attempts = [
        ("PUT", b_person, {"plan": "hacked"}),
        ("POST", f"{b_person}/events", {"name": "hacked"}),
        ("PUT", f"{b_person}/devices", {"device": {"id": "token-of-b", "platform": "android"}}),
        ("DELETE", f"{b_person}/devices/token-of-b", {}),
        ("POST", f"{b_person}/suppress", {}),
        ("POST", "/api/v1/merge_customers", {"primary": {"id": "shared"}, "secondary": {"cio_id": shared_b}}),
        ("POST", "/api/v2/batch", {"batch": [
            {"type": "person", "action": "identify", "identifiers": {"cio_id": shared_b}, "attributes": {"plan": "hacked"}},
            {"type": "person", "action": "event", "identifiers": {"cio_id": own_b}, "name": "hacked"},
        ]}),
        ("DELETE", b_person, {}),
        # Names that exist in both workspaces address A's own people.
        ("PUT", "/api/v1/customers/shared", {"plan": "changed-in-a"}),
        ("PUT", "/api/v1/customers/only-b@example.com", {"plan": "created-in-a"}),
        ("DELETE", "/api/v1/customers/shared/devices/token-of-b", {}),
    ]
    with server.track(ws_a) as track_a:
        for method, path, body in attempts:
            response = track_a.request(method, path, json=body)
            assert response.status_code < 500, (method, path, response.text)

    assert [server.graphql(ws_b, EVERYTHING_VISIBLE, {"cioId": cio_id}) for cio_id in (shared_b, own_b)] == b_before
    a_view = server.graphql(ws_a, '{ people { totalCount } person(id: "shared") { cioId attributes } }')["data"]
    assert a_view["person"] == {"cioId": shared_a, "attributes": {"plan": "changed-in-a"}}
    assert a_view["people"]["totalCount"] == 3  # shared, only-a, and only-b@example.com created in A

    mixed = httpx.put(
        f"{server.base_url}/api/v1/customers/shared",
        json={"plan": "hacked"},
        auth=(ws_b["siteId"], ws_a["trackApiKey"]),
    )
    assert mixed.status_code == 401


def test_segment_counts_and_memberships_stay_in_their_workspace(server):
    ws_a, shared_a, own_a = _workspace_with_data(server, "a")
    ws_b, _, _ = _workspace_with_data(server, "b")
    pro = {"attribute": {"path": "plan", "op": "EQ", "value": "pro"}}
    created = server.graphql(
        ws_b,
        "mutation ($c: ConditionInput!) { createSegment(input: {name: \"Pro\", condition: $c}) { ... on Segment { id } } }",
        {"c": pro},
    )["data"]["createSegment"]
    server.call(lambda services: services.membership.wait_for_builds())
    assert server.graphql(ws_b, 'query ($id: ID!) { segment(id: $id) { memberCount } }', {"id": created["id"]}) == {
        "data": {"segment": {"memberCount": 2}}
    }

    seen_by_a = server.graphql(
        ws_a,
        "query ($c: ConditionInput!, $cioId: ID) { segments { id } previewSegment(condition: $c) {"
        " count sample { cioId } } person(cioId: $cioId) { segments { segment { id } } } }",
        {"c": pro, "cioId": shared_a},
    )
    assert seen_by_a["data"]["segments"] == [] and seen_by_a["data"]["person"]["segments"] == []
    preview = seen_by_a["data"]["previewSegment"]
    assert preview["count"] == 2 and {p["cioId"] for p in preview["sample"]} == {shared_a, own_a}
