"""Managing webhook endpoints: validation errors name the field, secrets are
shown once and not stored in clear, and nothing crosses workspaces."""

from __future__ import annotations

from rules.store.collections import WEBHOOK_ENDPOINTS
from tests.webhooks.helpers import CREATE_ENDPOINT, create_endpoint, create_segment, gql

UPDATE = """mutation($id: ID!, $input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(id: $id, input: $input) {
  __typename ... on WebhookEndpoint { url segmentIds kinds enabled timeoutSeconds }
  ... on ValidationError { problems { path code } } ... on Error { message } } }"""
DELETE = """mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { __typename ... on DeletedWebhookEndpoint { id } ... on Error { message } } }"""
LIST = "{ webhookEndpoints { id url } }"


def _problems(service, ws, **fields) -> list[tuple[str, str]]:
    result = gql(service, ws, CREATE_ENDPOINT, {"input": fields})["createWebhookEndpoint"]
    assert result["__typename"] == "ValidationError", result
    return [(p["path"], p["code"]) for p in result["problems"]]


def test_bad_endpoints_are_refused_with_the_field_and_nothing_is_saved(service):
    ws = service.create_workspace("validation")
    own = service.base_url  # http://127.0.0.1:<this service's port>
    assert _problems(service, ws, url="ftp://example.com/x") == [("/input/url", "invalid_scheme")]
    assert _problems(service, ws, url="https:///no-host") == [("/input/url", "invalid_url")]
    assert _problems(service, ws, url="http://user:pw@example.com/") == [("/input/url", "credentials_in_url")]
    assert _problems(service, ws, url="http://example.com:99999/") == [("/input/url", "invalid_url")]
    for url in (f"{own}/graphql", own.replace("127.0.0.1", "localhost") + "/api/v1/customers/x", own.replace("127.0.0.1", "[::1]")):
        assert _problems(service, ws, url=url) == [("/input/url", "own_address")], url
    assert _problems(service, ws, url="https://example.com/h", kinds=[], timeoutSeconds=0.1, segmentIds=["seg_nope"]) == [
        ("/input/kinds", "empty"),
        ("/input/timeoutSeconds", "out_of_range"),
        ("/input/segmentIds/0", "not_found"),
    ]
    assert gql(service, ws, LIST)["webhookEndpoints"] == []


def test_the_secret_is_shown_once_and_stored_encrypted(service):
    ws = service.create_workspace("secret")
    created = create_endpoint(service, ws, url="https://example.com/hooks")
    secret = created["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    listed = service.graphql(ws, "{ webhookEndpoints { secret } }")
    assert "Cannot query field 'secret'" in listed["errors"][0]["message"]

    async def stored(services):
        return await services.db[WEBHOOK_ENDPOINTS].find_one({"_id": created["endpoint"]["id"]})

    document = service.call(stored)
    assert secret not in str(document) and secret.removeprefix("whsec_") not in str(document)


def test_updates_and_deletes_stay_in_their_workspace(service):
    ws, other = service.create_workspace("a"), service.create_workspace("b")
    segment = create_segment(service, ws, "Pro", {"attribute": {"path": "plan", "op": "EQ", "value": "pro"}})
    other_segment = create_segment(service, other, "Theirs", {"attribute": {"path": "plan", "op": "EQ", "value": "x"}})
    endpoint_id = create_endpoint(service, ws, url="https://example.com/a")["endpoint"]["id"]

    updated = gql(service, ws, UPDATE, {"id": endpoint_id, "input": {"segmentIds": [segment], "kinds": ["ENTERED"], "timeoutSeconds": 3}})
    assert updated["updateWebhookEndpoint"] == {
        "__typename": "WebhookEndpoint", "url": "https://example.com/a", "segmentIds": [segment],
        "kinds": ["ENTERED"], "enabled": True, "timeoutSeconds": 3.0,
    }
    # another workspace's segment is "not found", as is an endpoint seen from another workspace
    refused = gql(service, ws, UPDATE, {"id": endpoint_id, "input": {"segmentIds": [other_segment]}})["updateWebhookEndpoint"]
    assert refused["problems"] == [{"path": "/input/segmentIds/0", "code": "not_found"}]
    assert "does not exist in this workspace" in refused["message"]
    both = gql(service, ws, UPDATE, {"id": endpoint_id, "input": {"segmentIds": [segment], "followAllSegments": True}})
    assert both["updateWebhookEndpoint"]["problems"] == [{"path": "/input/segmentIds", "code": "conflict"}]
    all_segments = gql(service, ws, UPDATE, {"id": endpoint_id, "input": {"followAllSegments": True}})
    assert all_segments["updateWebhookEndpoint"]["segmentIds"] is None
    assert gql(service, other, LIST)["webhookEndpoints"] == []
    assert gql(service, other, UPDATE, {"id": endpoint_id, "input": {"enabled": False}})["updateWebhookEndpoint"]["__typename"] == "NotFoundError"
    assert gql(service, other, DELETE, {"id": endpoint_id})["deleteWebhookEndpoint"]["__typename"] == "NotFoundError"
    assert [e["id"] for e in gql(service, ws, LIST)["webhookEndpoints"]] == [endpoint_id]

    assert gql(service, ws, DELETE, {"id": endpoint_id})["deleteWebhookEndpoint"] == {"__typename": "DeletedWebhookEndpoint", "id": endpoint_id}
    assert gql(service, ws, LIST)["webhookEndpoints"] == []
