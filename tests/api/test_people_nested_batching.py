"""A page of people with nested activity reads the store once per field, not once per person.

Each field is one `$in` query: on MongoDB and on the embedded engine without
its seam as it is, counted with MongoDB's own profiler (`profile` command,
`system.profile`), which the embedded engines implement too. The seam
(api/embedded_store.py) answers it on the sqlite engine of `make run` by one
streamed pass over the workspace's documents (which mongoeco's profiler does
not record: it records `to_list` and `first`, not a cursor read by `async
for`) and on the memory engine of the test suite by one query per key; there
the domain's queries are counted where they enter the seam. All must give
the same pages.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

from api import embedded_store
from rules.clock import SystemClock
from rules.store.collections import DELIVERIES, EVENTS
from rules.demo import load_demo
from tests.conftest import make_settings, start_server

PEOPLE = 30
QUERY = """{ people(first: %d) { edges { node { cioId
  events(first: 3) { totalCount pageInfo { hasNextPage } edges { node { id name } } }
  pages: events(first: 2, type: PAGE) { totalCount edges { node { name } } }
  deliveries(first: 2) { totalCount edges { node { deliveryId } } }
  devices { token }
  segments { segment { name } } } } } }""" % PEOPLE


@pytest.fixture(params=[("sqlite", True), ("memory", True), ("memory", False)], ids=["sqlite-scan", "memory-per-key", "in-query"])
def engine_server(request, tmp_path):
    engine, seam = request.param
    settings = make_settings(embedded_engine=engine, embedded_seam=seam, data_dir=tmp_path / "data", mongodb_uri="")
    running, stop = start_server(settings, SystemClock())
    try:
        yield running
    finally:
        stop()


async def _expected(db, ws: str, person_id: str) -> dict:
    """The same pages read person by person, straight from the store."""

    async def newest(collection: str, order: list, extra: dict, size: int) -> tuple[list[str], int]:
        match = {"personId": person_id, "ws": ws, **extra}
        docs = await db[collection].find(match).sort(order).limit(size).to_list()
        return [doc["_id"] for doc in docs], await db[collection].count_documents(match)

    return {
        "events": await newest(EVENTS, [("ts", -1), ("_id", -1)], {}, 3),
        "pages": await newest(EVENTS, [("ts", -1), ("_id", -1)], {"type": "page"}, 2),
        "deliveries": await newest(DELIVERIES, [("createdAt", -1), ("_id", -1)], {}, 2),
    }


def _count_finds_entering_the_seam(monkeypatch) -> Counter:
    finds: Counter = Counter()
    collection_type = embedded_store.EmbeddedCollection
    original = collection_type.find

    def find(self, *args, **kwargs):
        finds[self.name] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(collection_type, "find", find)
    return finds


def test_nested_fields_of_a_people_page_are_batched(engine_server, monkeypatch):
    server = engine_server
    seam = server.services.settings.embedded_seam
    ws = server.create_workspace()
    server.call(lambda s: load_demo(s.db, ws["workspaceId"], now=time.time(), people=PEOPLE))
    created = server.graphql(ws, 'mutation { createSegment(input: {name: "Buyers", condition: {event: {name: "purchase"}}}) { __typename } }')
    assert created["data"]["createSegment"]["__typename"] == "Segment"
    server.call(lambda s: s.membership.wait_for_builds())

    if seam:
        finds = _count_finds_entering_the_seam(monkeypatch)
        result = server.graphql(ws, QUERY)
        monkeypatch.undo()
    else:
        server.call(lambda s: s.db.command({"profile": 2}))
        result = server.graphql(ws, QUERY)
        server.call(lambda s: s.db.command({"profile": 0}))
        profile = server.call(lambda s: s.db["system.profile"].find({}).to_list())
        finds = Counter(entry["command"]["find"] for entry in profile if "find" in entry["command"])
    assert "errors" not in result, result["errors"]

    people = [edge["node"] for edge in result["data"]["people"]["edges"]]
    assert len(people) == PEOPLE
    for node in people:
        expected = server.call(lambda s: _expected(s.db, ws["workspaceId"], node["cioId"]))
        assert ([e["node"]["id"] for e in node["events"]["edges"]], node["events"]["totalCount"]) == expected["events"]
        assert node["events"]["pageInfo"]["hasNextPage"] == (expected["events"][1] > 3)
        assert node["pages"]["totalCount"] == expected["pages"][1] and len(node["pages"]["edges"]) == len(expected["pages"][0])
        assert ([d["node"]["deliveryId"] for d in node["deliveries"]["edges"]], node["deliveries"]["totalCount"]) == (
            [doc_id.split("|", 1)[1] for doc_id in expected["deliveries"][0]],
            expected["deliveries"][1],
        )
    assert any(node["segments"] for node in people) and any(node["devices"] for node in people)
    # Events: two first pages (all events, page views) and their two counts. Before: one query per person each.
    assert finds[EVENTS] == 4, finds
    assert (finds[DELIVERIES], finds["devices"], finds["memberships"]) == (2, 1, 1), finds
