"""addPeopleToSegment / removePeopleFromSegment over GraphQL."""

import httpx
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


def test_track_api_add_and_remove_customers(server):
    ws = server.create_workspace()
    people = _seed(server, ws)
    segment_id = create_manual_segment(server, ws)
    with server.track(ws) as track:
        added = track.post(f"/api/v1/segments/{segment_id}/add_customers", json={"ids": ["u-1", "u-2", "u-404"]})
        assert added.status_code == 200, added.text
        assert added.json() == {"added": ["u-1", "u-2"], "alreadyMembers": [], "notFound": ["u-404"], "invalid": []}
        by_email = track.post(
            f"/api/v1/segments/{segment_id}/add_customers?id_type=email", json={"ids": ["CY@example.com", "u-1"]}
        )
        assert by_email.json() == {
            "added": ["CY@example.com"],
            "alreadyMembers": [],
            "notFound": [],
            "invalid": [{"id": "u-1", "error": "email is not an email address (no @)"}],
        }
        removed = track.post(
            f"/api/v1/segments/{segment_id}/remove_customers?id_type=cio_id", json={"ids": [people["ann"], f"cio_{people['bob']}"]}
        )
        assert removed.json() == {"removed": [people["ann"], f"cio_{people['bob']}"], "alreadyAbsent": [], "notFound": [], "invalid": []}
    assert member_emails(server, ws, segment_id) == {"cy@example.com"}


def test_track_api_refusals(server):
    ws = server.create_workspace()
    _seed(server, ws)
    segment_id = create_manual_segment(server, ws)
    data_driven = create_data_driven_segment(server, ws)
    path = f"/api/v1/segments/{segment_id}/add_customers"
    with server.track(ws) as track:
        cases = [
            (f"/api/v1/segments/{data_driven}/add_customers", {"ids": ["u-1"]}, 400, "cannot be added or removed by hand"),
            ("/api/v1/segments/seg_missing/remove_customers", {"ids": ["u-1"]}, 404, "does not exist"),
            (path, {"ids": []}, 400, "ids: give at least one identifier"),
            (path, {"ids": [str(n) for n in range(1001)]}, 400, "at most 1000"),
            (path, {"customers": ["u-1"]}, 400, "ids: the body must be an object"),
            (path, {"ids": ["u-1", {"id": "u-2"}]}, 400, "ids[1]: must be a string"),
            (path + "?id_type=phone", {"ids": ["u-1"]}, 400, "id_type: must be id, email or cio_id"),
        ]
        for url, body, status, message in cases:
            response = track.post(url, json=body)
            assert response.status_code == status, (url, body, response.text)
            assert message in response.json()["meta"]["error"], response.text
        numeric = track.post(path, json={"ids": [1]})
        assert numeric.status_code == 200 and numeric.json()["notFound"] == ["1"]
    unauthenticated = httpx.post(f"{server.base_url}{path}", json={"ids": ["u-1"]})
    assert unauthenticated.status_code == 401
    assert member_emails(server, ws, segment_id) == set()
