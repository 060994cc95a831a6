"""`person` and `people` over real HTTP, on data written in the documented shapes."""

from graphql_seed import T0, delivery, device, documents, event, insert, person

PERSON_QUERY = """
query ($id: String, $email: String, $cioId: ID) {
  person(id: $id, email: $email, cioId: $cioId) {
    cioId id email attributes createdAt updatedAt suppressed
    devices { token platform lastUsed attributes }
    events(first: 2) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { type name data timestamp } }
    }
    pages: events(type: PAGE) { totalCount edges { node { name } } }
    purchases: events(name: "purchase") { totalCount }
    deliveries { totalCount edges { node { deliveryId channel metrics { sent opened clicked } } } }
  }
}
"""


def test_person_by_profile_id_email_and_cio_id_with_activity(server):
    ws = server.create_workspace()
    docs = documents()
    ann = person(ws["workspaceId"], docs, id="u-1", email="Ann@Example.com", attributes={"plan": "pro"})
    person(ws["workspaceId"], docs, id="u-2", email="bob@example.com")
    event(ws["workspaceId"], docs, ann, name="purchase", ts=T0 + 10, price=25)
    event(ws["workspaceId"], docs, ann, name="/offers/a", ts=T0 + 30, type="page")
    event(ws["workspaceId"], docs, ann, name="add_to_cart", ts=T0 + 20)
    device(ws["workspaceId"], docs, ann, token="tok-1", platform="ios", last_used=T0 + 5)
    delivery(ws["workspaceId"], docs, ann, delivery_id="d-1", metrics={"sent": T0, "opened": T0 + 3600})
    insert(server, docs)

    by_id = server.graphql(ws, PERSON_QUERY, {"id": "u-1"})
    assert "errors" not in by_id
    found = by_id["data"]["person"]
    assert found["cioId"] == ann and found["id"] == "u-1" and found["email"] == "Ann@Example.com"
    assert found["attributes"] == {"plan": "pro"}
    assert found["createdAt"] == "2026-01-01T00:00:00+00:00"
    assert found["suppressed"] is False
    assert found["devices"] == [
        {"token": "tok-1", "platform": "ios", "lastUsed": "2026-01-01T00:00:05+00:00", "attributes": {"app_version": "1.2"}}
    ]
    # Newest first, across event types.
    assert [edge["node"]["name"] for edge in found["events"]["edges"]] == ["/offers/a", "add_to_cart"]
    assert found["events"]["totalCount"] == 3 and found["events"]["pageInfo"]["hasNextPage"] is True
    assert found["pages"] == {"totalCount": 1, "edges": [{"node": {"name": "/offers/a"}}]}
    assert found["purchases"] == {"totalCount": 1}
    assert found["deliveries"]["edges"][0]["node"] == {
        "deliveryId": "d-1",
        "channel": "email",
        "metrics": {"sent": "2026-01-01T00:00:00+00:00", "opened": "2026-01-01T01:00:00+00:00", "clicked": None},
    }

    assert server.graphql(ws, PERSON_QUERY, {"email": "ANN@example.COM"})["data"] == by_id["data"]
    assert server.graphql(ws, PERSON_QUERY, {"cioId": ann})["data"] == by_id["data"]
    assert server.graphql(ws, PERSON_QUERY, {"id": "nobody"}) == {"data": {"person": None}}


def test_person_needs_exactly_one_identifier(server):
    ws = server.create_workspace()
    for variables in ({}, {"id": "u-1", "email": "a@b.c"}):
        result = server.graphql(ws, PERSON_QUERY, variables)
        assert result["data"] == {"person": None}
        assert result["errors"][0]["message"].startswith("person: give exactly one of id, email or cioId")
    invalid = server.graphql(ws, PERSON_QUERY, {"cioId": "CIO-123"})
    assert invalid["errors"][0]["message"] == "cioId: is not a cio id (20 lowercase hex characters)"


def test_events_page_with_cursors_when_timestamps_tie(server):
    ws = server.create_workspace()
    docs = documents()
    ann = person(ws["workspaceId"], docs, id="u-1")
    for number in range(5):
        event(ws["workspaceId"], docs, ann, name=f"e{number}", ts=T0 + (number // 2))  # pairs share a timestamp
    insert(server, docs)

    seen, after = [], None
    while True:
        page = server.graphql(
            ws,
            'query ($after: String) { person(id: "u-1") { events(first: 2, after: $after) {'
            " pageInfo { hasNextPage endCursor } edges { node { name timestamp } } } } }",
            {"after": after},
        )["data"]["person"]["events"]
        seen += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert sorted(node["name"] for node in seen) == ["e0", "e1", "e2", "e3", "e4"]
    assert [node["timestamp"] for node in seen] == sorted((node["timestamp"] for node in seen), reverse=True)


PEOPLE_QUERY = """
query ($first: Int, $after: String, $email: String, $attribute: AttributeFilterInput) {
  people(first: $first, after: $after, email: $email, attribute: $attribute) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { cioId email } }
  }
}
"""


def test_people_pages_follow_cursors_in_a_stable_order(server):
    ws = server.create_workspace()
    docs = documents()
    cio_ids = [person(ws["workspaceId"], docs, email=f"p{number}@example.com") for number in range(7)]
    insert(server, docs)

    pages, after = [], None
    while True:
        connection = server.graphql(ws, PEOPLE_QUERY, {"first": 3, "after": after})["data"]["people"]
        pages.append(connection)
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]

    assert [len(page["edges"]) for page in pages] == [3, 3, 1]
    assert {page["totalCount"] for page in pages} == {7}
    assert [page["pageInfo"]["hasPreviousPage"] for page in pages] == [False, True, True]
    assert [edge["node"]["cioId"] for page in pages for edge in page["edges"]] == sorted(cio_ids)
    assert pages[0]["pageInfo"]["endCursor"] == pages[0]["edges"][-1]["cursor"]


def test_people_email_search_is_a_case_insensitive_substring(server):
    ws = server.create_workspace()
    docs = documents()
    for email in ("ann@Example.org", "bob@example.com", "a+b@example.org", "carol@other.org"):
        person(ws["workspaceId"], docs, email=email)
    insert(server, docs)

    def emails(search):
        connection = server.graphql(ws, PEOPLE_QUERY, {"email": search})["data"]["people"]
        assert connection["totalCount"] == len(connection["edges"])
        return sorted(edge["node"]["email"] for edge in connection["edges"])

    assert emails("EXAMPLE.ORG") == ["a+b@example.org", "ann@Example.org"]
    assert emails("a+b") == ["a+b@example.org"]  # taken literally, not as a pattern
    assert emails("nobody") == []


def test_people_attribute_filter_matches_equal_values_of_the_same_type_only(server):
    ws = server.create_workspace()
    docs = documents()
    numbers = person(ws["workspaceId"], docs, email="n@x.io", attributes={"ltv": 30000, "vip": True})
    strings = person(ws["workspaceId"], docs, email="s@x.io", attributes={"ltv": "30000", "vip": 1})
    nested = person(ws["workspaceId"], docs, email="c@x.io", attributes={"address": {"city": "Turin"}, "ltv": 30000.0})
    person(ws["workspaceId"], docs, email="none@x.io")
    insert(server, docs)

    def matching(path, value):
        result = server.graphql(ws, PEOPLE_QUERY, {"attribute": {"path": path, "value": value}})
        assert "errors" not in result, result
        return {edge["node"]["cioId"] for edge in result["data"]["people"]["edges"]}, result["data"]["people"]["totalCount"]

    assert matching("ltv", 30000) == ({numbers, nested}, 2)
    assert matching("ltv", "30000") == ({strings}, 1)
    assert matching("vip", True) == ({numbers}, 1)
    assert matching("vip", 1) == ({strings}, 1)
    assert matching("address.city", "Turin") == ({nested}, 1)
    assert matching("address.city", "turin") == (set(), 0)

    for bad_path in ("", "a..b", "$where", "ltv.$gt"):
        result = server.graphql(ws, PEOPLE_QUERY, {"attribute": {"path": bad_path, "value": 1}})
        assert result["errors"][0]["message"].startswith("attribute.path: expected dot-separated attribute names")


def test_page_size_is_capped_and_cursors_are_checked(server):
    ws = server.create_workspace()
    max_page_size = server.services.settings.max_page_size
    for first in (max_page_size + 1, -1):
        result = server.graphql(ws, PEOPLE_QUERY, {"first": first})
        assert result["data"] is None
        assert result["errors"][0]["message"] == f"first: must be between 0 and {max_page_size}, got {first}"
    assert "errors" not in server.graphql(ws, PEOPLE_QUERY, {"first": max_page_size})

    result = server.graphql(ws, PEOPLE_QUERY, {"after": "not-a-cursor"})
    assert result["errors"][0]["message"] == "after: not a cursor returned by this connection"
