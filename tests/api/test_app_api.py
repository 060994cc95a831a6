"""Customer.io's App API routes over real HTTP, driven by the request and
response examples of Customer.io's documentation (tests/api/fixtures/app_api):
every documented request is sent as documented, every answer has the
documented shape, and its content is what the data says."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "app_api"
CREATE_SEGMENT = """mutation($input: CreateSegmentInput!) { createSegment(input: $input) {
  __typename ... on Segment { id } ... on ValidationError { message } } }"""

# profile id -> (email, attributes, in the manual segment)
PEOPLE = {
    "1": ("test@example.com", {"interest": "roadrunners", "species": "coyote", "state": "AZ", "age": 30}, True),
    "2": ("two@example.com", {"interest": "rocks", "species": "coyote", "state": "NM"}, True),
    "3": ("three@example.com", {"interest": "roadrunners", "species": "roadrunners", "state": "NM"}, True),
    "4": ("four@example.com", {"interest": "roadrunners", "species": "coyote"}, False),
    "5": ("five@example.com", {}, True),
}
# Who the documented filter (segment, and interest roadrunners or state NM, and not species roadrunners) selects.
DOCUMENTED_FILTER_MATCHES = {"1", "2"}


def _examples(name: str) -> dict[str, dict[str, Any]]:
    return {e["operation"]: e for e in json.loads((FIXTURES / name).read_text())["examples"]}


SEGMENT_EXAMPLES = _examples("segments.json")
CUSTOMER_EXAMPLES = _examples("customers.json")


def assert_shape(actual: Any, documented: Any, path: str = "$") -> None:
    """`actual` has every documented key, with the documented JSON type (ids may be strings)."""
    if isinstance(documented, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {actual!r}"
        missing = set(documented) - set(actual)
        assert not missing, f"{path}: missing {sorted(missing)}"
        for key, value in documented.items():
            assert_shape(actual[key], value, f"{path}.{key}")
    elif isinstance(documented, list):
        assert isinstance(actual, list), f"{path}: expected an array, got {actual!r}"
        for index, item in enumerate(actual):
            if documented:
                assert_shape(item, documented[0], f"{path}[{index}]")
    elif documented is None or actual is None and isinstance(documented, str):
        return  # nullable in the documentation, or a text that we leave empty
    elif path.rsplit(".", 1)[-1] in ("id", "segment_id") or path.endswith(("campaigns[0]",)):
        assert isinstance(actual, (str, int)) and not isinstance(actual, bool), f"{path}: expected an id, got {actual!r}"
    else:
        assert type(actual) is type(documented), f"{path}: expected {type(documented).__name__}, got {actual!r}"


def _send(app: httpx.Client, example: dict[str, Any], substitutions: dict[str, str]) -> httpx.Response:
    text = json.dumps(example["request"])
    for placeholder, value in substitutions.items():
        text = text.replace(placeholder, value)
    request = json.loads(text)
    return app.request(request["method"], request["path"], json=request.get("body"))


@pytest.fixture
def world(server):
    ws = server.create_workspace("app api")
    app = httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {ws['appApiKey']}"}, timeout=30)
    with server.track(ws) as track:
        for profile_id, (email, attributes, _) in PEOPLE.items():
            assert track.put(f"/api/v1/customers/{profile_id}", json={"email": email, **attributes}).status_code == 200
        created = _send(app, SEGMENT_EXAMPLES["createManSegment"], {})
        assert created.status_code == 200, created.text
        segment = created.json()["segment"]
        members = [profile_id for profile_id, (_, _, member) in PEOPLE.items() if member]
        added = track.post(f"/api/v1/segments/{segment['id']}/add_customers", json={"ids": members})
        assert added.json()["added"] == members
    return server, ws, app, segment


def test_segment_routes_answer_as_documented(world):
    server, ws, app, segment = world
    assert_shape({"segment": segment}, SEGMENT_EXAMPLES["createManSegment"]["response"])
    assert (segment["name"], segment["description"], segment["type"], segment["state"]) == (
        "Manual Segment 1", "My first manual segment", "manual", "finished")
    referrer = server.graphql(ws, CREATE_SEGMENT, {"input": {"name": "In manual", "type": "DATA_DRIVEN",
                                                              "condition": {"segment": {"id": segment["id"]}}}})
    referrer_id = referrer["data"]["createSegment"]["id"]
    ids = {"$SEGMENT_ID": segment["id"]}

    listed = _send(app, SEGMENT_EXAMPLES["listSegments"], ids).json()
    assert_shape(listed, SEGMENT_EXAMPLES["listSegments"]["response"])
    assert [(s["id"], s["type"]) for s in listed["segments"]] == [(segment["id"], "manual"), (referrer_id, "dynamic")]

    got = _send(app, SEGMENT_EXAMPLES["getSegment"], ids).json()
    assert_shape(got, SEGMENT_EXAMPLES["getSegment"]["response"])
    assert got["segment"]["id"] == segment["id"]

    count = _send(app, SEGMENT_EXAMPLES["getSegmentCount"], ids).json()
    assert_shape(count, SEGMENT_EXAMPLES["getSegmentCount"]["response"])
    assert count == {"segment_id": segment["id"], "count": 4}

    used_by = _send(app, SEGMENT_EXAMPLES["getSegmentDependencies"], ids).json()
    assert_shape(used_by, SEGMENT_EXAMPLES["getSegmentDependencies"]["response"])
    assert used_by["used_by"] == {"campaigns": [], "sent_newsletters": [], "draft_newsletters": [], "segments": [referrer_id]}

    person_segments = _send(app, SEGMENT_EXAMPLES["getPersonSegments"], ids)
    assert person_segments.status_code == 404 and "12345" in person_segments.json()["meta"]["error"]
    for path in ("/v1/customers/1/segments?id_type=id", "/v1/customers/test@example.com/segments?id_type=email"):
        answer = app.get(path).json()
        assert_shape(answer, SEGMENT_EXAMPLES["getPersonSegments"]["response"])
        assert sorted(s["id"] for s in answer["segments"]) == sorted([segment["id"], referrer_id]), answer
    assert app.get("/v1/customers/4/segments").json() == {"segments": []}


def test_membership_pages_through_every_member_with_next(world):
    server, ws, app, segment = world
    example = SEGMENT_EXAMPLES["getSegmentMembership"]
    first = _send(app, example, {"$SEGMENT_ID": segment["id"]}).json()
    assert_shape(first, example["response"])
    pages, answer = [first], first
    while answer["next"]:
        answer = app.get(f"/v1/segments/{segment['id']}/membership", params={"limit": 2, "start": answer["next"]}).json()
        pages.append(answer)
    assert [len(page["identifiers"]) for page in pages] == [2, 2]
    identifiers = [i for page in pages for i in page["identifiers"]]
    assert sorted(i["id"] for i in identifiers) == ["1", "2", "3", "5"]
    assert [i["cio_id"] for i in identifiers] == sorted(i["cio_id"] for i in identifiers)
    assert {i["id"]: i["email"] for i in identifiers} == {p: PEOPLE[p][0] for p in ("1", "2", "3", "5")}
    assert [i for page in pages for i in page["ids"]] == [i["id"] for i in identifiers]


def test_people_search_with_the_documented_filter(world):
    server, ws, app, segment = world
    example = CUSTOMER_EXAMPLES["getPeopleFilter"]
    answer = _send(app, example, {"$SEGMENT_ID": segment["id"]})
    assert answer.status_code == 200, answer.text
    assert_shape(answer.json(), example["response"])
    assert sorted(answer.json()["ids"]) == sorted(DOCUMENTED_FILTER_MATCHES)
    assert answer.json()["next"] == ""

    def search(filter_: dict, **params: Any) -> dict:
        response = app.post("/v1/customers", params=params, json={"filter": filter_})
        assert response.status_code == 200, response.text
        return response.json()

    # Customer.io sends values as text: "30" finds the number 30; exists; not; paging by `next`.
    assert search({"attribute": {"field": "age", "operator": "eq", "value": "30"}})["ids"] == ["1"]
    assert sorted(search({"attribute": {"field": "state", "operator": "exists"}})["ids"]) == ["1", "2", "3"]
    assert search({"not": {"segment": {"id": segment["id"]}}})["ids"] == ["4"]
    assert search({"attribute": {"field": "email", "operator": "eq", "value": "TEST@example.com"}})["ids"] == ["1"]
    first = search({"attribute": {"field": "interest", "operator": "eq", "value": "roadrunners"}}, limit=2)
    rest = search({"attribute": {"field": "interest", "operator": "eq", "value": "roadrunners"}}, limit=2, start=first["next"])
    assert len(first["ids"]) == 2 and first["next"] and rest["next"] == ""
    assert sorted(first["ids"] + rest["ids"]) == ["1", "3", "4"]


def test_export_status_then_csv_download(world):
    server, ws, app, segment = world
    example = CUSTOMER_EXAMPLES["exportPeopleData"]
    created = _send(app, example, {"$SEGMENT_ID": segment["id"]})
    assert created.status_code == 200, created.text
    assert_shape(created.json(), example["response"])
    export = created.json()["export"]
    assert (export["status"], export["total"], export["type"]) == ("done", len(DOCUMENTED_FILTER_MATCHES), "customers")
    ids = {"$EXPORT_ID": export["id"]}
    status = _send(app, CUSTOMER_EXAMPLES["getExport"], ids).json()
    assert_shape(status, CUSTOMER_EXAMPLES["getExport"]["response"])
    link = _send(app, CUSTOMER_EXAMPLES["downloadExport"], ids).json()
    assert_shape(link, CUSTOMER_EXAMPLES["downloadExport"]["response"])
    downloaded = httpx.get(link["url"], timeout=30)  # a signed link: no Authorization header
    assert downloaded.status_code == 200 and downloaded.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(downloaded.text)))
    assert list(rows[0]) == ["id", "email", "cio_id", "interest", "state"]
    assert {(r["id"], r["email"], r["interest"], r["state"]) for r in rows} == {
        ("1", "test@example.com", "roadrunners", "AZ"), ("2", "two@example.com", "rocks", "NM")}
    assert app.get(f"/v1/exports/{export['id']}").json()["export"]["downloads"] == 1
    assert [e["id"] for e in app.get("/v1/exports").json()["exports"]] == [export["id"]]
    # A new link replaces the old one; a made-up token reads nothing.
    newer = app.get(f"/v1/exports/{export['id']}/download").json()["url"]
    assert httpx.get(link["url"]).status_code == 404
    assert httpx.get(newer.split("?")[0] + "?token=guess").status_code == 404
    assert httpx.get(newer).status_code == 200


def test_segment_create_and_delete(world):
    server, ws, app, segment = world
    deleted = app.delete(f"/v1/segments/{segment['id']}")
    assert deleted.status_code == 204
    assert app.get(f"/v1/segments/{segment['id']}").status_code == 404
    assert app.delete(f"/v1/segments/{segment['id']}").status_code == 404
    assert app.get("/v1/segments").json() == {"segments": []}


@pytest.mark.parametrize(
    ("method", "path", "body", "problem"),
    [
        ("POST", "/v1/segments", {"segment": {"description": "no name"}}, "segment.name"),
        ("POST", "/v1/segments", {"segment": {"name": "  "}}, "segment.name"),
        ("POST", "/v1/segments", [1], "segment:"),
        ("GET", "/v1/segments/$SEGMENT_ID/membership?limit=30001", None, "limit"),
        ("GET", "/v1/segments/$SEGMENT_ID/membership?limit=ten", None, "limit"),
        ("POST", "/v1/customers?limit=1001", {"filter": {"segment": {"id": "$SEGMENT_ID"}}}, "limit"),
        ("POST", "/v1/customers", {}, "filter"),
        ("POST", "/v1/customers", {"filter": {"and": []}}, "filter.and"),
        ("POST", "/v1/customers", {"filter": {"and": [{"attribute": {"field": "a", "operator": "gt", "value": 1}}]}}, "filter.and[0].attribute.operator"),
        ("POST", "/v1/customers", {"filter": {"segment": {"id": "seg_missing"}}}, "filter.segment.id"),
        ("POST", "/v1/customers", {"filter": {"attribute": {"field": "$where", "operator": "exists"}}}, "filter.attribute.field"),
        ("POST", "/v1/customers", {"filter": {"segment": {}, "attribute": {}}}, "filter:"),
        ("POST", "/v1/exports/customers", {"filters": {"segment": {"id": "$SEGMENT_ID"}}, "attributes": "plan"}, "attributes"),
        ("GET", "/v1/customers/x/segments?id_type=phone", None, "id_type"),
    ],
)
def test_bad_requests_name_the_problem(world, method, path, body, problem):
    server, ws, app, segment = world
    response = _send(app, {"request": {"method": method, "path": path, "body": body}}, {"$SEGMENT_ID": segment["id"]})
    assert response.status_code == 400, response.text
    assert problem in response.json()["meta"]["error"]


def test_other_workspaces_and_missing_keys_see_nothing(world):
    server, ws, app, segment = world
    other = server.create_workspace("other")
    intruder = httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {other['appApiKey']}"})
    export = app.post("/v1/exports/customers", json={"filters": {"segment": {"id": segment["id"]}}}).json()["export"]
    for path in (f"/v1/segments/{segment['id']}", f"/v1/segments/{segment['id']}/membership",
                 f"/v1/segments/{segment['id']}/customer_count", f"/v1/segments/{segment['id']}/used_by",
                 "/v1/customers/1/segments", f"/v1/exports/{export['id']}", f"/v1/exports/{export['id']}/download"):
        response = intruder.get(path)
        assert response.status_code == 404, (path, response.text)
        assert "meta" in response.json()
    assert intruder.get("/v1/segments").json() == {"segments": []}
    assert intruder.get("/v1/exports").json() == {"exports": []}
    assert intruder.post("/v1/customers", json={"filter": {"attribute": {"field": "state", "operator": "exists"}}}).json()["ids"] == []
    assert intruder.post("/v1/customers", json={"filter": {"segment": {"id": segment["id"]}}}).status_code == 400
    assert intruder.delete(f"/v1/segments/{segment['id']}").status_code == 404
    assert app.get(f"/v1/segments/{segment['id']}").status_code == 200
    for headers in ({}, {"Authorization": f"Bearer {ws['trackApiKey']}"}, {"Authorization": "Basic abc"}):
        response = httpx.get(f"{server.base_url}/v1/segments", headers=headers)
        assert response.status_code == 401 and response.json()["meta"]["error"].startswith("unauthorized")
