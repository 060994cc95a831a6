"""What the console reads beyond the first round's API: the workspace of the
key, people search by profile id and NOT in a segment (and its CSV export),
a preview's would-enter/would-leave for an existing segment, history filtered
by kind, and a person's own entry/exit history."""

import csv
import io

import httpx
from graphql_seed import documents, insert, person
from manual_helpers import create_manual_segment

ADD = """
mutation ($segmentId: ID!, $ids: [String!]!) {
  addPeopleToSegment(segmentId: $segmentId, ids: $ids, idType: EMAIL) { __typename }
}
"""
REMOVE = """
mutation ($segmentId: ID!, $ids: [String!]!) {
  removePeopleFromSegment(segmentId: $segmentId, ids: $ids, idType: EMAIL) { __typename }
}
"""
PEOPLE = """
query ($profileId: String, $segmentId: ID, $notInSegmentId: ID, $email: String) {
  people(profileId: $profileId, segmentId: $segmentId, notInSegmentId: $notInSegmentId, email: $email, first: 10) {
    totalCount edges { node { email } }
  }
}
"""
CREATE = """
mutation ($input: CreateSegmentInput!) { createSegment(input: $input) { ... on Segment { id } ... on Error { message } } }
"""
PREVIEW = """
query ($condition: ConditionInput!, $segmentId: ID) {
  previewSegment(condition: $condition, segmentId: $segmentId) { count wouldEnter wouldLeave sample { email } }
}
"""


def _seed(server, ws) -> None:
    docs = documents()
    for name, plan, value in (("ann", "pro", 30000), ("bea", "free", 100), ("cal", "pro", 26000), ("dan", "free", 50000)):
        person(ws["workspaceId"], docs, id=f"u-{name}", email=f"{name}@example.com", attributes={"plan": plan, "ltv": value})
    insert(server, docs)


def _emails(result: dict) -> list[str]:
    assert "errors" not in result, result
    return [edge["node"]["email"] for edge in result["data"]["people"]["edges"]]


def test_workspace_of_the_key(server):
    ws = server.create_workspace("Acme")
    other = server.create_workspace("Globex")
    assert server.graphql(ws, "{ workspace { id name siteId } }")["data"]["workspace"] == {
        "id": ws["workspaceId"],
        "name": "Acme",
        "siteId": ws["siteId"],
    }
    assert server.graphql(other, "{ workspace { name } }")["data"]["workspace"]["name"] == "Globex"


def test_people_by_profile_id_and_not_in_a_segment_and_its_export(server):
    ws = server.create_workspace()
    _seed(server, ws)
    vip = create_manual_segment(server, ws)
    assert server.graphql(ws, ADD, {"segmentId": vip, "ids": ["ann@example.com", "cal@example.com"]})["data"]

    assert _emails(server.graphql(ws, PEOPLE, {"profileId": "u-bea"})) == ["bea@example.com"]
    assert _emails(server.graphql(ws, PEOPLE, {"profileId": "u-"})) == []  # exact, not a substring
    outside = server.graphql(ws, PEOPLE, {"notInSegmentId": vip})
    assert sorted(_emails(outside)) == ["bea@example.com", "dan@example.com"]
    assert outside["data"]["people"]["totalCount"] == 2
    assert _emails(server.graphql(ws, PEOPLE, {"notInSegmentId": vip, "email": "dan"})) == ["dan@example.com"]
    # Paged one by one: every non-member once, in the search's order.
    paged, after = [], None
    while True:
        page = server.graphql(
            ws,
            "query ($s: ID, $after: String) { people(notInSegmentId: $s, first: 1, after: $after) "
            "{ edges { node { email } } pageInfo { hasNextPage endCursor } } }",
            {"s": vip, "after": after},
        )["data"]["people"]
        paged += [edge["node"]["email"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert sorted(paged) == ["bea@example.com", "dan@example.com"] and len(paged) == 2
    # In one segment and not in another.
    pro = server.graphql(
        ws, CREATE, {"input": {"name": "Pro", "condition": {"attribute": {"path": "plan", "op": "EQ", "value": "pro"}}}}
    )["data"]["createSegment"]["id"]
    server.call(lambda services: services.membership.wait_for_builds())
    assert server.graphql(ws, REMOVE, {"segmentId": vip, "ids": ["cal@example.com"]})["data"]
    assert _emails(server.graphql(ws, PEOPLE, {"segmentId": pro, "notInSegmentId": vip})) == ["cal@example.com"]

    response = httpx.get(
        f"{server.base_url}/exports/people.csv",
        params={"notInSegmentId": vip, "attributes": "plan"},
        headers={"Authorization": f"Bearer {ws['appApiKey']}"},
    )
    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert sorted((row["email"], row["plan"]) for row in rows) == [
        ("bea@example.com", "free"),
        ("cal@example.com", "pro"),
        ("dan@example.com", "free"),
    ]

    unknown = server.graphql(ws, PEOPLE, {"notInSegmentId": "seg_missing"})
    assert unknown["errors"][0]["message"] == "notInSegmentId: segment 'seg_missing' does not exist in this workspace"
    foreign = server.create_workspace("other")
    assert "errors" in server.graphql(foreign, PEOPLE, {"notInSegmentId": vip})
    bad_export = httpx.get(
        f"{server.base_url}/exports/people.csv",
        params={"notInSegmentId": "seg_missing"},
        headers={"Authorization": f"Bearer {ws['appApiKey']}"},
    )
    assert bad_export.status_code == 400 and "notInSegmentId" in bad_export.text


def test_preview_of_an_existing_segment_says_who_would_enter_and_leave(server):
    ws = server.create_workspace()
    _seed(server, ws)
    over_25000 = {"attribute": {"path": "ltv", "op": "GT", "value": 25000}}
    segment_id = server.graphql(ws, CREATE, {"input": {"name": "High value", "condition": over_25000}})["data"][
        "createSegment"
    ]["id"]
    server.call(lambda services: services.membership.wait_for_builds())

    # Members now: ann, cal, dan. Pro plan: ann, cal; free plan with ltv > 25000: dan.
    pro = {"attribute": {"path": "plan", "op": "EQ", "value": "pro"}}
    preview = server.graphql(ws, PREVIEW, {"condition": pro, "segmentId": segment_id})["data"]["previewSegment"]
    assert (preview["count"], preview["wouldEnter"], preview["wouldLeave"]) == (2, 0, 1)
    assert sorted(p["email"] for p in preview["sample"]) == ["ann@example.com", "cal@example.com"]
    everyone = {"attribute": {"path": "ltv", "op": "EXISTS"}}
    preview = server.graphql(ws, PREVIEW, {"condition": everyone, "segmentId": segment_id})["data"]["previewSegment"]
    assert (preview["count"], preview["wouldEnter"], preview["wouldLeave"]) == (4, 1, 0)
    # Without a segment there is nothing to compare with.
    preview = server.graphql(ws, PREVIEW, {"condition": everyone})["data"]["previewSegment"]
    assert (preview["count"], preview["wouldEnter"], preview["wouldLeave"]) == (4, None, None)
    # Editing a segment may keep referring to segments that do not refer back to it;
    # referring to itself is a cycle.
    itself = {"segment": {"id": segment_id}}
    cyclic = server.graphql(ws, PREVIEW, {"condition": itself, "segmentId": segment_id})
    assert cyclic["errors"][0]["extensions"]["problems"][0]["path"] == "/condition/segment/id"
    missing = server.graphql(ws, PREVIEW, {"condition": everyone, "segmentId": "seg_missing"})
    assert missing["errors"][0]["message"] == "segmentId: segment 'seg_missing' does not exist in this workspace"


def test_history_by_kind_and_a_persons_own_history(server):
    ws = server.create_workspace()
    _seed(server, ws)
    vip = create_manual_segment(server, ws)
    server.graphql(ws, ADD, {"segmentId": vip, "ids": ["ann@example.com", "bea@example.com"]})
    server.graphql(ws, REMOVE, {"segmentId": vip, "ids": ["ann@example.com"]})

    history = """
    query ($id: ID!, $kind: MembershipChangeKind) {
      segment(id: $id) { changes(kind: $kind) { totalCount edges { node { kind person { email } } } } }
    }
    """
    exits = server.graphql(ws, history, {"id": vip, "kind": "EXITED"})["data"]["segment"]["changes"]
    assert exits == {"totalCount": 1, "edges": [{"node": {"kind": "EXITED", "person": {"email": "ann@example.com"}}}]}
    entries = server.graphql(ws, history, {"id": vip, "kind": "ENTERED"})["data"]["segment"]["changes"]
    assert entries["totalCount"] == 2
    assert server.graphql(ws, history, {"id": vip, "kind": None})["data"]["segment"]["changes"]["totalCount"] == 3

    own = server.graphql(
        ws,
        """{ person(email: "ann@example.com") {
               membershipChanges(first: 10) { totalCount edges { node { kind segmentId } } } } }""",
    )["data"]["person"]["membershipChanges"]
    assert own == {
        "totalCount": 2,
        "edges": [{"node": {"kind": "EXITED", "segmentId": vip}}, {"node": {"kind": "ENTERED", "segmentId": vip}}],
    }
