"""addPeopleToSegment / removePeopleFromSegment over GraphQL."""

from graphql_seed import documents, insert, person
from tests.api.manual_helpers import create_data_driven_segment, create_manual_segment, member_emails

ADD = """
mutation ($segmentId: ID!, $ids: [String!]!, $idType: IdType!) {
  addPeopleToSegment(segmentId: $segmentId, ids: $ids, idType: $idType) {
    __typename
    ... on PeopleAddedToSegment {
      segment { memberCount }
      added { identifier person { cioId } }
      alreadyMembers { identifier }
      notFound
      invalid { identifier message }
    }
    ... on ValidationError { message problems { path } }
    ... on Error { message }
  }
}
"""

REMOVE = """
mutation ($segmentId: ID!, $ids: [String!]!, $idType: IdType) {
  removePeopleFromSegment(segmentId: $segmentId, ids: $ids, idType: $idType) {
    __typename
    ... on PeopleRemovedFromSegment {
      segment { memberCount }
      removed { identifier }
      alreadyAbsent { identifier }
      notFound
      invalid { identifier }
    }
    ... on Error { message }
  }
}
"""

HISTORY = """
query ($id: ID!) { segment(id: $id) { changes { edges { node { kind personCioId } } } } }
"""


def _seed(server, ws) -> dict[str, str]:
    docs = documents()
    ids = {
        "ann": person(ws["workspaceId"], docs, id="u-1", email="Ann@Example.com"),
        "bob": person(ws["workspaceId"], docs, id="u-2", email="bob@example.com"),
        "cy": person(ws["workspaceId"], docs, id="u-3", email="cy@example.com"),
    }
    insert(server, docs)
    return ids


def test_add_and_remove_by_id_email_and_cio_id_report_every_identifier(server):
    ws = server.create_workspace()
    people = _seed(server, ws)
    segment_id = create_manual_segment(server, ws)

    by_email = server.graphql(
        ws, ADD, {"segmentId": segment_id, "ids": ["ann@example.com", "nobody@example.com", "no-at-sign"], "idType": "EMAIL"}
    )["data"]["addPeopleToSegment"]
    assert by_email["__typename"] == "PeopleAddedToSegment"
    assert by_email["added"] == [{"identifier": "ann@example.com", "person": {"cioId": people["ann"]}}]
    assert by_email["notFound"] == ["nobody@example.com"]
    assert by_email["invalid"] == [{"identifier": "no-at-sign", "message": "email is not an email address (no @)"}]
    assert by_email["segment"]["memberCount"] == 1

    by_id = server.graphql(ws, ADD, {"segmentId": segment_id, "ids": ["u-1", "u-2"], "idType": "ID"})["data"]["addPeopleToSegment"]
    assert [a["identifier"] for a in by_id["added"]] == ["u-2"]
    assert by_id["alreadyMembers"] == [{"identifier": "u-1"}]

    by_cio_id = server.graphql(ws, ADD, {"segmentId": segment_id, "ids": [people["cy"]], "idType": "CIO_ID"})
    assert by_cio_id["data"]["addPeopleToSegment"]["segment"]["memberCount"] == 3
    assert member_emails(server, ws, segment_id) == {"Ann@Example.com", "bob@example.com", "cy@example.com"}

    removed = server.graphql(ws, REMOVE, {"segmentId": segment_id, "ids": ["u-2", "u-9"]})["data"]["removePeopleFromSegment"]
    assert removed["removed"] == [{"identifier": "u-2"}] and removed["notFound"] == ["u-9"]
    again = server.graphql(ws, REMOVE, {"segmentId": segment_id, "ids": ["bob@example.com"], "idType": "EMAIL"})
    assert again["data"]["removePeopleFromSegment"]["alreadyAbsent"] == [{"identifier": "bob@example.com"}]
    assert member_emails(server, ws, segment_id) == {"Ann@Example.com", "cy@example.com"}

    # Recorded in the history like any other change, newest first.
    history = server.graphql(ws, HISTORY, {"id": segment_id})["data"]["segment"]["changes"]["edges"]
    assert [(e["node"]["kind"], e["node"]["personCioId"]) for e in history][0] == ("EXITED", people["bob"])
    assert sorted(e["node"]["kind"] for e in history) == ["ENTERED"] * 3 + ["EXITED"]


def test_data_driven_unknown_and_foreign_segments_are_refused(server):
    ws = server.create_workspace()
    other = server.create_workspace("other")
    _seed(server, ws)
    data_driven = create_data_driven_segment(server, ws)
    refused = server.graphql(ws, ADD, {"segmentId": data_driven, "ids": ["u-1"], "idType": "ID"})["data"]["addPeopleToSegment"]
    assert refused["__typename"] == "NotManualSegmentError"
    assert "DATA_DRIVEN" in refused["message"] and "cannot be added or removed by hand" in refused["message"]
    removal = server.graphql(ws, REMOVE, {"segmentId": data_driven, "ids": ["u-1"]})["data"]["removePeopleFromSegment"]
    assert removal["__typename"] == "NotManualSegmentError"

    foreign = create_manual_segment(server, other)
    for segment_id in (foreign, "seg_missing"):
        missing = server.graphql(ws, ADD, {"segmentId": segment_id, "ids": ["u-1"], "idType": "ID"})
        assert missing["data"]["addPeopleToSegment"]["__typename"] == "NotFoundError"
    assert member_emails(server, other, foreign) == set()


def test_the_number_of_identifiers_is_checked(server):
    ws = server.create_workspace()
    segment_id = create_manual_segment(server, ws)
    for ids, message in (([], "at least one"), ([f"u-{n}" for n in range(1001)], "at most 1000")):
        result = server.graphql(ws, ADD, {"segmentId": segment_id, "ids": ids, "idType": "ID"})["data"]["addPeopleToSegment"]
        assert result["__typename"] == "ValidationError"
        assert message in result["message"] and result["problems"] == [{"path": "/ids"}]
