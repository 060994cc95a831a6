"""Segments over GraphQL: CRUD with errors as data, builds, members, history,
Person.segments, preview, explain; data written directly to the store."""

from __future__ import annotations

from graphql_seed import T0, documents, event, insert, person

SEGMENT_FIELDS = "id name type state memberCount condition progress { done total }"
CREATE = """
mutation($input: CreateSegmentInput!) {
  createSegment(input: $input) {
    __typename
    ... on Segment { %s }
    ... on Error { message }
    ... on ValidationError { problems { path code message } }
  }
}""" % SEGMENT_FIELDS
UPDATE = """
mutation($id: ID!, $input: UpdateSegmentInput!) {
  updateSegment(id: $id, input: $input) {
    __typename ... on Segment { %s } ... on Error { message } ... on ConflictError { segmentIds }
  }
}""" % SEGMENT_FIELDS
DELETE = """
mutation($id: ID!) {
  deleteSegment(id: $id) { __typename ... on DeletedSegment { id name } ... on Error { message } ... on ConflictError { segmentIds } }
}"""
BIG_SPENDERS = {"attribute": {"path": "lifetime_value", "op": "GT", "value": 25000}}


def seed_customers(server, ws) -> dict[str, str]:
    docs = documents()
    wsid = ws["workspaceId"]
    ids = {
        "rich": person(wsid, docs, id="rich", email="rich@example.com", attributes={"lifetime_value": 30000}),
        "poor": person(wsid, docs, id="poor", attributes={"lifetime_value": 100}),
        "text": person(wsid, docs, id="text", attributes={"lifetime_value": "30000"}),
    }
    event(wsid, docs, ids["poor"], name="purchase", ts=T0 - 60)
    insert(server, docs)
    return ids


def create(server, ws, **input) -> dict:
    return server.graphql(ws, CREATE, {"input": input})["data"]["createSegment"]


def built(server, ws, segment_id: str) -> dict:
    server.call(lambda services: services.membership.wait_for_builds())
    query = "query($id: ID!) { segment(id: $id) { %s } }" % SEGMENT_FIELDS
    return server.graphql(ws, query, {"id": segment_id})["data"]["segment"]


def test_create_builds_members_history_and_person_segments(server):
    ws = server.create_workspace()
    ids = seed_customers(server, ws)
    created = create(server, ws, name="Big spenders", condition=BIG_SPENDERS)
    assert created["__typename"] == "Segment" and created["type"] == "DATA_DRIVEN"
    assert created["condition"] == {"attribute": {"path": "lifetime_value", "op": "gt", "value": 25000}}
    segment = built(server, ws, created["id"])
    assert segment["state"] == "READY" and segment["memberCount"] == 1
    assert segment["progress"] == {"done": 1, "total": 1}

    result = server.graphql(
        ws,
        """query($id: ID!) { segment(id: $id) {
             members(first: 10) { totalCount edges { node { enteredAt id email } } }
             changes(first: 10) { totalCount edges { node { kind at personCioId person { id } } } } } }""",
        {"id": created["id"]},
    )["data"]["segment"]
    assert result["members"]["totalCount"] == 1
    member = result["members"]["edges"][0]["node"]
    assert (member["id"], member["email"]) == ("rich", "rich@example.com")
    assert result["changes"]["edges"] == [
        {"node": {"kind": "ENTERED", "at": result["members"]["edges"][0]["node"]["enteredAt"],
                  "personCioId": ids["rich"], "person": {"id": "rich"}}}
    ]
    listed = server.graphql(ws, "{ segments { id memberCount } }")["data"]["segments"]
    assert listed == [{"id": created["id"], "memberCount": 1}]
    mine = server.graphql(ws, '{ person(id: "rich") { segments { segment { name } enteredAt } } }')["data"]["person"]
    assert [s["segment"]["name"] for s in mine["segments"]] == ["Big spenders"]
    assert server.graphql(ws, '{ person(id: "poor") { segments { enteredAt } } }')["data"]["person"]["segments"] == []


def test_changing_a_referenced_segment_rebuilds_it_then_its_referrers_with_history(server):
    ws = server.create_workspace()
    seed_customers(server, ws)
    base = create(server, ws, name="Big spenders", condition=BIG_SPENDERS)
    others = create(server, ws, name="Others", condition={"segment": {"id": base["id"], "member": False}})
    not_others = create(server, ws, name="Not others", condition={"not": {"segment": {"id": others["id"]}}})
    assert built(server, ws, not_others["id"])["memberCount"] == 1

    small = {"condition": {"attribute": {"path": "lifetime_value", "op": "LT", "value": 1000}}}
    updated = server.graphql(ws, UPDATE, {"id": base["id"], "input": small})["data"]["updateSegment"]
    assert updated["__typename"] == "Segment" and updated["state"] == "BUILDING"
    assert built(server, ws, base["id"])["memberCount"] == 1
    assert (built(server, ws, others["id"])["memberCount"], built(server, ws, not_others["id"])["memberCount"]) == (2, 1)

    history = """query($id: ID!) { segment(id: $id) { state
        members(first: 10) { edges { node { id } } }
        changes(first: 10) { edges { node { kind person { id } } } } } }"""

    def seen(segment_id):
        segment = server.graphql(ws, history, {"id": segment_id})["data"]["segment"]
        members = {edge["node"]["id"] for edge in segment["members"]["edges"]}
        changes = sorted((edge["node"]["kind"], edge["node"]["person"]["id"]) for edge in segment["changes"]["edges"])
        return segment["state"], members, changes

    assert seen(base["id"]) == ("READY", {"poor"}, [("ENTERED", "poor"), ("ENTERED", "rich"), ("EXITED", "rich")])
    assert seen(others["id"]) == (
        "READY", {"rich", "text"}, [("ENTERED", "poor"), ("ENTERED", "rich"), ("ENTERED", "text"), ("EXITED", "poor")]
    )
    assert seen(not_others["id"]) == ("READY", {"poor"}, [("ENTERED", "poor"), ("ENTERED", "rich"), ("EXITED", "rich")])

    cycle = {"condition": {"segment": {"id": not_others["id"]}}}
    refused = server.graphql(
        ws,
        "mutation($id: ID!, $input: UpdateSegmentInput!) { updateSegment(id: $id, input: $input) { ... on ValidationError { problems { code path } } } }",
        {"id": base["id"], "input": cycle},
    )["data"]["updateSegment"]
    assert refused["problems"] == [{"code": "SEGMENT_CYCLE", "path": "/input/condition/segment/id"}]
    assert built(server, ws, base["id"])["condition"] == {"attribute": {"path": "lifetime_value", "op": "lt", "value": 1000}}


def test_invalid_input_reports_every_problem_with_paths_and_saves_nothing(server):
    ws = server.create_workspace()
    bad = {"all": [
        {"event": {"name": "purchase", "count": {"op": "AT_LEAST", "value": -1}}},
        {"any": []},
        {"segment": {"id": "seg_missing"}},
    ]}
    result = create(server, ws, name=" ", condition=bad)
    assert result["__typename"] == "ValidationError"
    problems = {(p["path"], p["code"]) for p in result["problems"]}
    assert problems == {
        ("/input/name", "INVALID_VALUE"),
        ("/input/condition/all/0/event/count/value", "NEGATIVE_COUNT"),
        ("/input/condition/all/1/any", "EMPTY_GROUP"),
        ("/input/condition/all/2/segment/id", "MISSING_SEGMENT"),
    }
    manual_with_condition = create(server, ws, name="M", type="MANUAL", condition=BIG_SPENDERS)
    assert manual_with_condition["problems"] == [
        {"path": "/input/condition", "code": "NOT_ALLOWED", "message": "a MANUAL segment has no condition"}
    ]
    assert create(server, ws, name="D")["problems"][0]["path"] == "/input/condition"
    two_keys = server.graphql(ws, CREATE, {"input": {"name": "x", "condition": {"all": [], "any": []}}})
    assert "exactly one" in two_keys["errors"][0]["message"]
    assert server.graphql(ws, "{ segments { id } }")["data"]["segments"] == []


def test_referenced_segments_cannot_be_deleted_and_deletion_cleans_up(server):
    ws = server.create_workspace()
    seed_customers(server, ws)
    base = create(server, ws, name="Big spenders", condition=BIG_SPENDERS)
    follower = create(server, ws, name="Others", condition={"segment": {"id": base["id"], "member": False}})
    assert built(server, ws, follower["id"])["memberCount"] == 2

    refused = server.graphql(ws, DELETE, {"id": base["id"]})["data"]["deleteSegment"]
    assert refused["__typename"] == "ConflictError" and refused["segmentIds"] == [follower["id"]]
    assert "'Others'" in refused["message"]
    renamed = server.graphql(ws, UPDATE, {"id": base["id"], "input": {"name": "Whales"}})["data"]["updateSegment"]
    assert renamed["name"] == "Whales" and renamed["state"] == "READY"

    deleted = server.graphql(ws, DELETE, {"id": follower["id"]})["data"]["deleteSegment"]
    assert deleted == {"__typename": "DeletedSegment", "id": follower["id"], "name": "Others"}
    leftovers = server.call(lambda s: s.db["memberships"].count_documents({"segmentId": follower["id"]}))
    assert leftovers == 0
    assert server.graphql(ws, DELETE, {"id": follower["id"]})["data"]["deleteSegment"]["__typename"] == "NotFoundError"
    missing = server.graphql(ws, UPDATE, {"id": "seg_nope", "input": {"name": "x"}})["data"]["updateSegment"]
    assert missing["__typename"] == "NotFoundError"


def test_changing_a_condition_rebuilds_and_records_exits(server):
    ws = server.create_workspace()
    seed_customers(server, ws)
    segment = create(server, ws, name="Spenders", condition=BIG_SPENDERS)
    built(server, ws, segment["id"])
    lower = {"attribute": {"path": "lifetime_value", "op": "LT", "value": 1000}}
    updated = server.graphql(ws, UPDATE, {"id": segment["id"], "input": {"condition": lower}})["data"]["updateSegment"]
    assert updated["state"] == "BUILDING"
    assert built(server, ws, segment["id"])["memberCount"] == 1
    kinds = server.graphql(
        ws, 'query($id: ID!) { segment(id: $id) { changes { edges { node { kind person { id } } } } } }', {"id": segment["id"]}
    )["data"]["segment"]["changes"]["edges"]
    assert sorted((e["node"]["kind"], e["node"]["person"]["id"]) for e in kinds) == [
        ("ENTERED", "poor"), ("ENTERED", "rich"), ("EXITED", "rich")
    ]


def test_preview_counts_exactly_and_saves_nothing(server):
    ws = server.create_workspace()
    seed_customers(server, ws)
    query = "query($c: ConditionInput!) { previewSegment(condition: $c) { count sample { id } } }"
    condition = {"any": [BIG_SPENDERS, {"event": {"name": "purchase", "window": {"within": {"days": 3650}}}}]}
    preview = server.graphql(ws, query, {"c": condition})["data"]["previewSegment"]
    assert preview["count"] == 2 and sorted(p["id"] for p in preview["sample"]) == ["poor", "rich"]
    invalid = server.graphql(ws, query, {"c": {"attribute": {"path": "x", "op": "MATCHES", "value": "("}}})
    assert invalid["data"] is None
    (error,) = invalid["errors"]
    assert error["message"].startswith("condition: 1 problem(s): /condition/attribute/value")
    assert [(p["code"], p["path"]) for p in error["extensions"]["problems"]] == [("INVALID_REGEX", "/condition/attribute/value")]
    assert server.graphql(ws, "{ segments { id } }")["data"]["segments"] == []


def test_explain_membership_shows_the_tree_and_membership(server):
    ws = server.create_workspace()
    seed_customers(server, ws)
    segment = create(server, ws, name="Big spenders", condition=BIG_SPENDERS)
    built(server, ws, segment["id"])
    query = """query($s: ID!, $p: PersonRefInput!) { explainMembership(segmentId: $s, person: $p) {
        __typename ... on MembershipExplanation { isMember holds explanation } ... on Error { message } } }"""
    rich = server.graphql(ws, query, {"s": segment["id"], "p": {"email": "RICH@example.com"}})["data"]["explainMembership"]
    assert rich["isMember"] is True and rich["holds"] is True
    assert rich["explanation"]["kind"] == "attribute" and rich["explanation"]["path"] == ""
    text = server.graphql(ws, query, {"s": segment["id"], "p": {"id": "text"}})["data"]["explainMembership"]
    assert (text["isMember"], text["holds"]) == (False, False)
    nobody = server.graphql(ws, query, {"s": segment["id"], "p": {"id": "nobody"}})["data"]["explainMembership"]
    assert nobody["__typename"] == "NotFoundError"


def test_segments_of_one_workspace_are_invisible_to_another(server):
    ws, other = server.create_workspace("a"), server.create_workspace("b")
    seed_customers(server, ws)
    segment = create(server, ws, name="Big spenders", condition=BIG_SPENDERS)
    built(server, ws, segment["id"])
    assert server.graphql(other, 'query($id: ID!) { segment(id: $id) { id } }', {"id": segment["id"]})["data"]["segment"] is None
    assert server.graphql(other, DELETE, {"id": segment["id"]})["data"]["deleteSegment"]["__typename"] == "NotFoundError"
    reference = create(server, other, name="Sneaky", condition={"segment": {"id": segment["id"]}})
    assert reference["problems"][0]["code"] == "MISSING_SEGMENT"
