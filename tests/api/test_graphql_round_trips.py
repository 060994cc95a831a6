"""What a new user feeds back into GraphQL: a saved condition, padded identifiers, times."""

from __future__ import annotations

import time
from datetime import datetime

from graphql_seed import documents, event, insert, person
from manual_helpers import create_manual_segment, member_emails

SAVE = """mutation($input: CreateSegmentInput!) { createSegment(input: $input) {
  __typename ... on Segment { id condition } ... on ValidationError { problems { path code message } } } }"""
UPDATE = """mutation($id: ID!, $input: UpdateSegmentInput!) { updateSegment(id: $id, input: $input) {
  __typename ... on Segment { id condition } ... on ValidationError { problems { path code } } } }"""
CONDITION = {
    "all": [
        {"attribute": {"path": "plan", "op": "IN", "value": ["pro", "enterprise"]}},
        {"pageView": {"url": {"op": "STARTS_WITH", "value": "/offers/"}, "sameUrl": True,
                      "count": {"op": "AT_LEAST", "value": 2}, "window": {"within": {"days": 7}}}},
        {"not": {"message": {"metric": "OPENED", "channel": "email"}}},
    ]
}


def test_a_saved_condition_round_trips_through_condition_json(server):
    ws = server.create_workspace()
    saved = server.graphql(ws, SAVE, {"input": {"name": "Offers", "condition": CONDITION}})["data"]["createSegment"]
    assert saved["__typename"] == "Segment"
    assert saved["condition"]["all"][1]["pageView"]["url"]["op"] == "startsWith"  # the saved, camelCase form

    copy = server.graphql(ws, SAVE, {"input": {"name": "Copy", "conditionJson": saved["condition"]}})["data"]["createSegment"]
    assert copy["__typename"] == "Segment" and copy["condition"] == saved["condition"]

    narrower = {"all": [*saved["condition"]["all"], {"attribute": {"path": "country", "op": "eq", "value": "DE"}}]}
    updated = server.graphql(ws, UPDATE, {"id": copy["id"], "input": {"conditionJson": narrower}})["data"]["updateSegment"]
    assert updated["condition"] == narrower

    both = server.graphql(ws, SAVE, {"input": {"name": "Both", "condition": CONDITION, "conditionJson": saved["condition"]}})
    assert both["data"]["createSegment"]["problems"] == [
        {"path": "/input/conditionJson", "code": "NOT_ALLOWED", "message": "give condition or conditionJson, not both"}
    ]
    bad = server.graphql(ws, SAVE, {"input": {"name": "Bad", "conditionJson": {"attribute": {"path": "plan", "op": "bigger"}}}})
    assert bad["data"]["createSegment"]["__typename"] == "ValidationError"
    assert bad["data"]["createSegment"]["problems"][0]["path"].startswith("/input/condition/attribute")


def test_next_change_at_is_an_iso_datetime(server):
    ws = server.create_workspace()
    docs = documents()
    ada = person(ws["workspaceId"], docs, id="ada")
    now = time.time()
    event(ws["workspaceId"], docs, ada, name="signed_in", ts=now - 3600)
    insert(server, docs)
    condition = {"event": {"name": "signed_in", "window": {"within": {"days": 1}}}}
    segment = server.graphql(ws, SAVE, {"input": {"name": "Recent", "condition": condition}})["data"]["createSegment"]
    explained = server.graphql(
        ws,
        """query($s: ID!) { explainMembership(segmentId: $s, person: {id: "ada"}) {
             ... on MembershipExplanation { holds explanation } } }""",
        {"s": segment["id"]},
    )["data"]["explainMembership"]
    assert explained["holds"] is True
    at = datetime.fromisoformat(explained["explanation"]["nextChangeAt"])
    assert at.utcoffset() is not None and abs(at.timestamp() - (now - 3600 + 86_400)) < 5


def test_add_people_trims_identifiers_as_the_csv_import_does(server):
    ws = server.create_workspace()
    docs = documents()
    person(ws["workspaceId"], docs, id="ada", email="ada@example.com")
    person(ws["workspaceId"], docs, id="bob", email="bob@example.com")
    insert(server, docs)
    segment = create_manual_segment(server, ws)
    added = server.graphql(
        ws,
        """mutation($s: ID!, $ids: [String!]!) { addPeopleToSegment(segmentId: $s, ids: $ids, idType: EMAIL) {
             ... on PeopleAddedToSegment { added { identifier } notFound } } }""",
        {"s": segment, "ids": [" ada@example.com ", "\tBOB@example.com\n"]},
    )["data"]["addPeopleToSegment"]
    assert added["notFound"] == [] and len(added["added"]) == 2
    assert member_emails(server, ws, segment) == {"ada@example.com", "bob@example.com"}
