"""people(segmentId: ...): combined with the other filters, paged with cursors."""

from graphql_seed import documents, insert, person
from manual_helpers import create_manual_segment

PEOPLE = """
query ($segmentId: ID, $first: Int, $after: String, $email: String, $attribute: AttributeFilterInput) {
  people(segmentId: $segmentId, first: $first, after: $after, email: $email, attribute: $attribute) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { node { id } }
  }
}
"""

SEGMENTS = "{ segments { id memberCount } }"


def _pages(server, ws, variables: dict) -> tuple[list[list[str]], int]:
    pages, after = [], None
    while True:
        result = server.graphql(ws, PEOPLE, {**variables, "first": 2, "after": after})
        assert "errors" not in result, result
        people = result["data"]["people"]
        pages.append([edge["node"]["id"] for edge in people["edges"]])
        assert people["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not people["pageInfo"]["hasNextPage"]:
            return pages, people["totalCount"]
        after = people["pageInfo"]["endCursor"]


def test_people_of_a_segment_combine_with_filters_and_page(server):
    ws = server.create_workspace()
    docs = documents()
    for n in range(8):
        plan = "pro" if n % 2 else "free"
        person(ws["workspaceId"], docs, id=f"u-{n}", email=f"user{n}@{'acme' if n < 6 else 'other'}.com", attributes={"plan": plan})
    insert(server, docs)
    segment_id = create_manual_segment(server, ws)
    with server.track(ws) as track:
        response = track.post(f"/api/v1/segments/{segment_id}/add_customers", json={"ids": [f"u-{n}" for n in range(1, 8)]})
        assert response.status_code == 200

    pages, total = _pages(server, ws, {"segmentId": segment_id})
    assert total == 7 and [len(page) for page in pages] == [2, 2, 2, 1]
    assert sorted(sum(pages, [])) == [f"u-{n}" for n in range(1, 8)]
    # The segments list's memberCount is what the search by segment counts.
    (segment,) = server.graphql(ws, SEGMENTS)["data"]["segments"]
    assert segment == {"id": segment_id, "memberCount": total}

    filtered, total = _pages(server, ws, {"segmentId": segment_id, "email": "ACME", "attribute": {"path": "plan", "value": "pro"}})
    assert total == 3 and sorted(sum(filtered, [])) == ["u-1", "u-3", "u-5"]

    everyone = server.graphql(ws, PEOPLE, {"first": 100})["data"]["people"]
    assert everyone["totalCount"] == 8


def test_an_unknown_or_foreign_segment_is_an_error(server):
    ws = server.create_workspace()
    other = server.create_workspace("other")
    foreign = create_manual_segment(server, other)
    for segment_id in (foreign, "seg_missing"):
        result = server.graphql(ws, PEOPLE, {"segmentId": segment_id})
        assert result["data"] is None
        assert result["errors"][0]["message"] == f"segmentId: segment '{segment_id}' does not exist in this workspace"
