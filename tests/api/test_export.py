"""CSV exports of a segment and of a people search; the round trip through import."""

import csv
import io

import httpx
from graphql_seed import documents, insert, person
from manual_helpers import create_manual_segment, import_csv, member_emails


def _get(server, ws, path: str, **params) -> httpx.Response:
    return httpx.get(
        f"{server.base_url}{path}", params=params, headers={"Authorization": f"Bearer {ws['appApiKey']}"}, timeout=60
    )


def _rows(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def _seed(server, ws) -> dict[str, str]:
    docs = documents()
    ids = {
        "ann": person(ws["workspaceId"], docs, id="u-1", email="ann@example.com", attributes={"plan": "pro", "address": {"city": "Oslo"}}),
        # No profile id: only the email (and cio_id) identify her in the file.
        "bea": person(ws["workspaceId"], docs, email="bea@example.com", attributes={"plan": "free", "tags": ["a", "b"]}),
        "cal": person(ws["workspaceId"], docs, id="u-3", attributes={"plan": "pro", "vip": True}),
        "dan": person(ws["workspaceId"], docs, id="u-4", email="dan@example.com"),
    }
    insert(server, docs)
    return ids


def test_segment_export_streams_members_and_round_trips_through_import(server):
    ws = server.create_workspace()
    people = _seed(server, ws)
    segment_id = create_manual_segment(server, ws, name="VIP customers (Q1)")
    with server.track(ws) as track:
        track.post(f"/api/v1/segments/{segment_id}/add_customers?id_type=cio_id", json={"ids": [people["ann"], people["bea"], people["cal"]]})

    response = _get(server, ws, f"/exports/segments/{segment_id}.csv", attributes="plan,address.city,tags,vip")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="vip-customers-q1-members-') and disposition.endswith('.csv"')
    assert response.text.splitlines()[0] == "id,email,cio_id,entered_at,plan,address.city,tags,vip"
    rows = sorted(_rows(response), key=lambda row: row["cio_id"])
    assert [row["cio_id"] for row in rows] == sorted([people["ann"], people["bea"], people["cal"]])
    by_id = {row["cio_id"]: row for row in rows}
    assert by_id[people["ann"]] | {"entered_at": ""} == {
        "id": "u-1", "email": "ann@example.com", "cio_id": people["ann"], "entered_at": "",
        "plan": "pro", "address.city": "Oslo", "tags": "", "vip": "",
    }
    assert by_id[people["bea"]]["id"] == "" and by_id[people["bea"]]["tags"] == '["a","b"]'
    assert by_id[people["cal"]]["vip"] == "true"
    assert all(row["entered_at"].endswith("Z") for row in rows)

    copy_id = create_manual_segment(server, ws, name="Copy")
    result = import_csv(server, ws, copy_id, response.content)
    assert (result["added"], result["badRowCount"]) == (3, 0)
    assert member_emails(server, ws, copy_id) == member_emails(server, ws, segment_id) == {"ann@example.com", "bea@example.com", None}


def test_people_search_export_uses_the_people_filters(server):
    ws = server.create_workspace()
    people = _seed(server, ws)
    segment_id = create_manual_segment(server, ws)
    with server.track(ws) as track:
        track.post(f"/api/v1/segments/{segment_id}/add_customers", json={"ids": ["u-1", "u-3", "u-4"]})

    everyone = _rows(_get(server, ws, "/exports/people.csv"))
    assert len(everyone) == 4 and "entered_at" not in everyone[0]
    pro = _rows(_get(server, ws, "/exports/people.csv", attributePath="plan", attributeValue='"pro"', attributes="plan"))
    assert sorted(row["cio_id"] for row in pro) == sorted([people["ann"], people["cal"]])
    members = _rows(_get(server, ws, "/exports/people.csv", segmentId=segment_id, email="example.com"))
    assert sorted(row["id"] for row in members) == ["u-1", "u-4"] and all(row["entered_at"] for row in members)
    response = _get(server, ws, "/exports/people.csv", email="nobody")
    assert response.text == "id,email,cio_id\r\n"


def test_export_errors_are_json(server):
    ws = server.create_workspace()
    other = server.create_workspace("other")
    foreign = create_manual_segment(server, other)
    unauthenticated = httpx.get(f"{server.base_url}/exports/segments/{foreign}.csv")
    assert unauthenticated.status_code == 401 and "Bearer" in unauthenticated.json()["errors"][0]["message"]
    assert _get(server, ws, f"/exports/segments/{foreign}.csv").status_code == 404
    missing = _get(server, ws, "/exports/people.csv", segmentId="seg_missing")
    assert missing.status_code == 404 and "does not exist" in missing.json()["errors"][0]["message"]
    for params, message in (
        ({"attributes": "plan,$where"}, "attributes: '$where' is not an attribute path"),
        ({"attributePath": "plan", "attributeValue": "pro"}, "attributeValue: not JSON"),
        ({"attributePath": "plan"}, "give both or neither"),
    ):
        response = _get(server, ws, "/exports/people.csv", **params)
        assert response.status_code == 400 and message in response.json()["errors"][0]["message"], response.text


def test_small_and_large_segments_export_the_same_way(server):
    """A segment holding a small share of the workspace is read member by
    member, a large one by a scan of the people; both give members in cio_id order."""
    ws = server.create_workspace()
    docs = documents()
    for n in range(60):
        person(ws["workspaceId"], docs, id=f"u-{n}", email=f"user{n}@example.com", attributes={"n": n})
    insert(server, docs)
    small, large = create_manual_segment(server, ws, name="small"), create_manual_segment(server, ws, name="large")
    with server.track(ws) as track:
        track.post(f"/api/v1/segments/{small}/add_customers", json={"ids": ["u-7", "u-3"]})
        track.post(f"/api/v1/segments/{large}/add_customers", json={"ids": [f"u-{n}" for n in range(40)]})
    for segment_id, expected in ((small, {"u-3", "u-7"}), (large, {f"u-{n}" for n in range(40)})):
        rows = _rows(_get(server, ws, f"/exports/segments/{segment_id}.csv", attributes="n"))
        assert {row["id"] for row in rows} == expected
        assert [row["cio_id"] for row in rows] == sorted(row["cio_id"] for row in rows)
        assert all(row["n"] == row["id"][2:] and row["entered_at"] for row in rows)


FORMULAS = {
    "equals": "=HYPERLINK(\"http://evil.example\",\"x\")",
    "plus": "+1+1",
    "minus": "-2+3",
    "at": "@SUM(A1:A2)",
    "tab": "\tcmd",
    "cr": "\rcmd",
    "plain": "a=b",
    "negative": -5,
}


def test_exports_neutralise_spreadsheet_formulas_unless_raw(server):
    ws = server.create_workspace()
    docs = documents()
    eve = person(ws["workspaceId"], docs, id="=1+2", email="@eve@example.com", attributes=FORMULAS)
    insert(server, docs)
    segment_id = create_manual_segment(server, ws, name="Formulas")
    with server.track(ws) as track:
        assert track.post(f"/api/v1/segments/{segment_id}/add_customers?id_type=cio_id", json={"ids": [eve]}).status_code == 200
    columns = ",".join(FORMULAS)

    for path in (f"/exports/segments/{segment_id}.csv", "/exports/people.csv"):
        [row] = _rows(_get(server, ws, path, attributes=columns))
        assert (row["id"], row["email"], row["cio_id"]) == ("'=1+2", "'@eve@example.com", eve)
        assert {name: row[name] for name in FORMULAS} == {
            "equals": "'=HYPERLINK(\"http://evil.example\",\"x\")", "plus": "'+1+1", "minus": "'-2+3",
            "at": "'@SUM(A1:A2)", "tab": "'\tcmd", "cr": "'\rcmd", "plain": "a=b", "negative": "-5",
        }
        [raw] = _rows(_get(server, ws, path, attributes=columns, raw="true"))
        assert (raw["id"], raw["email"]) == ("=1+2", "@eve@example.com")
        assert {name: raw[name] for name in FORMULAS} == {name: str(value) for name, value in FORMULAS.items()}


def test_a_bad_raw_parameter_is_a_400_naming_it(server):
    ws = server.create_workspace()
    response = _get(server, ws, "/exports/people.csv", raw="yes")
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"].startswith("raw: must be true or false")
