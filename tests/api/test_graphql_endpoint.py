"""The /graphql endpoint: authentication, limits, error masking, GraphiQL, websockets."""

import json

import httpx
import pytest
from conftest import make_settings, start_server
from graphql_seed import T0, documents, event, insert, person
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from rules.clock import SystemClock

COUNT_PEOPLE = {"query": "{ people { totalCount } }"}


def test_requests_without_a_valid_app_key_get_401_and_no_data(server):
    ws = server.create_workspace()
    url = f"{server.base_url}/graphql"
    attempts = {
        "no header": {},
        "wrong key": {"Authorization": "Bearer app_not-a-real-key"},
        "track key as bearer": {"Authorization": f"Bearer {ws['trackApiKey']}"},
        "app key without scheme": {"Authorization": ws["appApiKey"]},
    }
    for name, headers in attempts.items():
        response = httpx.post(url, json=COUNT_PEOPLE, headers=headers)
        assert response.status_code == 401, name
        assert response.json() == {
            "errors": [{"message": "Send Authorization: Bearer <appApiKey> (the app API key of a workspace)"}]
        }, name
    basic = httpx.post(url, json=COUNT_PEOPLE, auth=(ws["siteId"], ws["trackApiKey"]))
    assert basic.status_code == 401
    assert server.graphql(ws, COUNT_PEOPLE["query"]) == {"data": {"people": {"totalCount": 0}}}


def test_graphiql_page_is_served_to_a_browser(server):
    response = httpx.get(f"{server.base_url}/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


def test_unexpected_errors_are_masked_and_intended_ones_are_not(server, caplog):
    ws = server.create_workspace()
    docs = documents()
    ann = person(ws["workspaceId"], docs, id="u-1")
    event(ws["workspaceId"], docs, ann, name="broken", ts=T0, type="not-a-type")  # fails to convert
    insert(server, docs)

    result = server.graphql(ws, '{ person(id: "u-1") { id events { edges { node { type } } } } }')
    assert result["errors"] == [
        {"message": "Unexpected error.", "locations": [{"line": 1, "column": 26}], "path": ["person", "events"]}
    ]
    assert result["data"] == {"person": None}

    intended = server.graphql(ws, "{ people(first: -1) { totalCount } }")
    assert intended["errors"][0]["message"].startswith("first: must be between 0 and")
    # The server's log keeps what the client does not see, and only that.
    assert "'not-a-type' is not a valid EventType" in caplog.text
    assert "first: must be between" not in caplog.text


@pytest.fixture
def limited_server():
    running, stop = start_server(make_settings(graphql_max_depth=3, graphql_max_tokens=60), SystemClock())
    try:
        yield running
    finally:
        stop()


def test_depth_and_token_limits_reject_a_query_before_it_runs(limited_server):
    ws = limited_server.create_workspace()
    assert "errors" not in limited_server.graphql(ws, "{ people { edges { node { cioId } } } }")

    too_deep = limited_server.graphql(ws, "{ people { edges { node { devices { token } } } } }")
    assert too_deep == {"data": None, "errors": [too_deep["errors"][0]]}
    assert "exceeds maximum operation depth of 3" in too_deep["errors"][0]["message"]

    too_long = limited_server.graphql(ws, "{ people { %s } }" % " ".join(["totalCount"] * 60))
    assert too_long["data"] is None
    assert too_long["errors"][0]["message"] == "Syntax Error: Document contains more than 60 tokens. Parsing aborted."


def _websocket(server, **kwargs):
    url = server.base_url.replace("http://", "ws://") + "/graphql"
    return connect(url, subprotocols=["graphql-transport-ws"], open_timeout=10, **kwargs)


def test_websocket_authenticates_with_connection_init_payload_or_header(server):
    ws = server.create_workspace()
    insert(server, _one_person(ws))
    operation = {"id": "1", "type": "subscribe", "payload": COUNT_PEOPLE}

    with _websocket(server) as socket:
        socket.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {ws['appApiKey']}"}}))
        assert json.loads(socket.recv(10))["type"] == "connection_ack"
        socket.send(json.dumps(operation))
        assert json.loads(socket.recv(10))["payload"] == {"data": {"people": {"totalCount": 1}}}

    with _websocket(server, additional_headers={"Authorization": f"Bearer {ws['appApiKey']}"}) as socket:
        socket.send(json.dumps({"type": "connection_init"}))
        assert json.loads(socket.recv(10))["type"] == "connection_ack"

    with _websocket(server) as socket:
        socket.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {ws['trackApiKey']}"}}))
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(10)
        assert closed.value.rcvd.code == 4403


def _one_person(ws):
    docs = documents()
    person(ws["workspaceId"], docs, id="u-1")
    return docs
