"""20 clients adding and removing the same person in one manual segment at
once (Track API, real HTTP) leave state and history consistent: memberCount
equals the membership rows, and her history alternates ENTERED/EXITED,
ending with what she is now."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.api.manual_helpers import create_manual_segment

CLIENTS = 20
ROUNDS = 5
CHANGES = """query($id: ID!, $after: String) { segment(id: $id) {
  memberCount members(first: 10) { totalCount edges { node { id } } }
  changes(first: 500, after: $after) { pageInfo { hasNextPage endCursor } edges { node { kind at personCioId } } } } }"""


def test_parallel_adds_and_removes_of_one_person_stay_consistent(server):
    ws = server.create_workspace()
    with server.track(ws) as track:
        assert track.put("/api/v1/customers/ann", json={"plan": "pro"}).status_code == 200
    segment_id = create_manual_segment(server, ws)

    def client(n: int) -> list[int]:
        statuses = []
        with server.track(ws) as track:
            for round_ in range(ROUNDS):
                action = "add_customers" if (n + round_) % 2 == 0 else "remove_customers"
                response = track.post(f"/api/v1/segments/{segment_id}/{action}?id_type=id", json={"ids": ["ann"]})
                statuses.append(response.status_code)
        return statuses

    with ThreadPoolExecutor(CLIENTS) as pool:
        statuses = [s for result in pool.map(client, range(CLIENTS)) for s in result]
    assert statuses == [200] * (CLIENTS * ROUNDS)

    result = server.graphql(ws, CHANGES, {"id": segment_id})
    assert "errors" not in result, result
    segment = result["data"]["segment"]
    assert not segment["changes"]["pageInfo"]["hasNextPage"]
    kinds = [e["node"]["kind"] for e in sorted(segment["changes"]["edges"], key=lambda e: e["node"]["at"])]
    assert kinds, "nobody was ever added"
    assert all(kind == ("ENTERED" if i % 2 == 0 else "EXITED") for i, kind in enumerate(kinds)), kinds
    is_member = kinds[-1] == "ENTERED"
    assert segment["memberCount"] == segment["members"]["totalCount"] == int(is_member)
    assert [e["node"]["id"] for e in segment["members"]["edges"]] == (["ann"] if is_member else [])
