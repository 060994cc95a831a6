"""No query of one workspace returns or counts another workspace's people or activity."""

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
  cioId
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
            "devices": [{"token": f"token-of-{name}"}],
            "events": {"totalCount": 1, "edges": [{"node": {"name": f"event-of-{name}"}}]},
            "deliveries": {"totalCount": 1, "edges": [{"node": {"deliveryId": f"delivery-of-{name}"}}]},
        }
        assert data["byId"] == data["byEmail"] == data["byCioId"] == expected_activity, name
        for other_cio_id in other:
            assert server.graphql(ws, EVERYTHING_VISIBLE, {"cioId": other_cio_id})["data"]["byCioId"] is None
    assert server.graphql(ws_a, '{ person(id: "only-b") { cioId } }') == {"data": {"person": None}}
