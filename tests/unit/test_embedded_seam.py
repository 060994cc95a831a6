"""The embedded-engine seam (api/embedded_store.py) answers as the engine
itself does, only faster: every rule is checked against the same query on
mongoeco without the seam, whose `$in`, `distinct` and `delete_many` are
correct (just slow), on the memory and the sqlite engine, which the seam answers differently."""

from __future__ import annotations

import re

import pytest
from mongoeco import AsyncMongoClient
from mongoeco.engines.memory import MemoryEngine
from pymongo import UpdateOne
from pymongo.errors import BulkWriteError

from api.embedded_sqlite import SharedFileSQLiteEngine
from api.embedded_store import LONE_INSERT_COMPANION, EmbeddedDatabase, SeamCursor
from api.settings import Settings
from api.store import open_store
from rules.store.collections import EVENTS, IDENTITIES, MEMBERSHIPS, PEOPLE, SCHEDULES, ensure_indexes


def _people() -> list[dict]:
    return [
        {"_id": f"p{i}", "ws": "ws_a" if i < 8 else "ws_b", "email": f"p{i}@example.com", "attributes": {"n": i}}
        for i in range(10)
    ]


def _identities() -> list[dict]:
    # The same identity value in two workspaces: only the `_id` tells them apart.
    return [
        {"_id": f"{ws}|email|{name}@example.com", "ws": ws, "personId": f"{ws}-{name}", "key": f"email|{name}@example.com"}
        for ws in ("ws_a", "ws_b")
        for name in ("ada", "bob")
    ]


def _events() -> list[dict]:
    return [
        {
            "_id": f"e{i}",
            "ws": "ws_a" if i % 5 else "ws_b",
            "personId": f"p{i % 4}" if i % 7 else None,
            "type": "page" if i % 3 else "event",
            "name": f"n{i % 2}",
            "ts": float(i // 3),  # ties, broken by `_id` in the sorts below
        }
        for i in range(60)
    ]


@pytest.fixture(params=["memory", "sqlite"])
async def stores(request, tmp_path):
    """(mongoeco as it is, the same database behind the seam), on each engine: the seam answers
    rules 3 and 4 differently on each."""
    engine = MemoryEngine() if request.param == "memory" else SharedFileSQLiteEngine(path=str(tmp_path / "seam.sqlite"))
    async with AsyncMongoClient(engine) as client:
        raw = client["seam_test"]
        seam = EmbeddedDatabase(raw, engine=request.param)
        await ensure_indexes(seam)
        await raw[PEOPLE].insert_many(_people())
        await raw[IDENTITIES].insert_many(_identities())
        await raw[EVENTS].insert_many(_events())
        yield raw, seam


def _by_id(docs: list[dict]) -> list[dict]:
    return sorted(docs, key=lambda doc: doc["_id"])


@pytest.mark.parametrize("projection", [None, {"_id": 1}, {"email": 1}, {"attributes": 0}])
async def test_id_lookups_answer_as_the_engine_does(stores, projection):
    raw, seam = stores
    wanted = ["p1", "p3", "p3", "p9", "nobody"]  # a duplicate, another workspace's person, a missing one
    query = {"ws": "ws_a", "_id": {"$in": wanted}}
    found = await seam[PEOPLE].find(query, projection).to_list()
    assert _by_id(found) == _by_id(await raw[PEOPLE].find(query, projection).to_list())
    assert [doc["_id"] for doc in _by_id(found)] == ["p1", "p3"]
    one = {"ws": "ws_a", "_id": "p2"}
    assert await seam[PEOPLE].find_one(one, projection) == await raw[PEOPLE].find_one(one, projection)
    assert await seam[PEOPLE].find_one({"ws": "ws_b", "_id": "p2"}, projection) is None


async def test_id_lookups_through_the_key_field_stay_in_their_workspace(stores):
    raw, seam = stores
    query = {"ws": "ws_b", "_id": {"$in": ["ws_b|email|ada@example.com", "ws_a|email|bob@example.com", "ws_b|email|eve@example.com"]}}
    found = await seam[IDENTITIES].find(query, {"personId": 1}).to_list()
    assert found == await raw[IDENTITIES].find(query, {"personId": 1}).to_list()
    assert found == [{"_id": "ws_b|email|ada@example.com", "personId": "ws_b-ada"}]


async def test_id_lookups_with_other_conditions(stores):
    raw, seam = stores
    query = {"ws": "ws_a", "_id": {"$in": ["p1", "p2", "p5", "p9"]}, "attributes.n": {"$gte": 2, "$type": "number"}}
    found = await seam[PEOPLE].find(query).sort([("_id", -1)]).to_list()
    assert found == await raw[PEOPLE].find(query).sort([("_id", -1)]).to_list()
    assert [doc["_id"] for doc in found] == ["p5", "p2"]
    # A new event looked up with its owner: found only under that owner.
    assert await seam[EVENTS].find_one({"ws": "ws_a", "personId": "p1", "_id": "e1"}, {"_id": 1}) == {"_id": "e1"}
    assert await seam[EVENTS].find_one({"ws": "ws_a", "personId": "p2", "_id": "e1"}, {"_id": 1}) is None


@pytest.mark.parametrize("projection", [None, {"personId": 1}, {"name": 1, "_id": 0}])
async def test_in_on_an_indexed_field_answers_as_the_engine_does(stores, projection):
    raw, seam = stores
    query = {"ws": "ws_a", "personId": {"$in": ["p1", "p2", "p3", "p1", "nobody"]}, "type": "page"}
    order = [("ts", -1), ("_id", -1)]
    found = await seam[EVENTS].find(query, projection).sort(order).to_list()
    assert found == await raw[EVENTS].find(query, projection).sort(order).to_list()
    assert len(found) > 5
    page = await seam[EVENTS].find(query, projection).sort(order).skip(2).limit(3).to_list()
    assert page == found[2:5]
    streamed = [doc async for doc in seam[EVENTS].find(query, projection).sort(order)]
    assert streamed == found


@pytest.mark.parametrize(
    "narrowing",
    [{"type": "event", "name": {"$in": ["n1"]}}, {"$or": [{"type": "page"}, {"type": "event", "name": {"$in": ["n0"]}}]}],
)
async def test_in_on_an_indexed_field_with_an_in_on_another_field(stores, narrowing):
    """A windowed build's read of named events: the `$in` on `personId` is the seam's, the one on `name` the engine's."""
    raw, seam = stores
    query = {"ws": "ws_a", "personId": {"$in": ["p1", "p2", "p3"]}, **narrowing}
    cursor = seam[EVENTS].find(query).sort([("_id", 1)])
    assert type(cursor).__name__ == "SeamCursor"
    found = await cursor.to_list()
    assert found == await raw[EVENTS].find(query).sort([("_id", 1)]).to_list()
    assert found


async def test_in_on_an_indexed_field_with_another_fields_in(stores):
    raw, seam = stores
    query = {"ws": "ws_a", "personId": {"$in": ["p1", "p2", "nobody"]}, "name": {"$in": ["n1"]}}
    cursor = seam[EVENTS].find(query, {"name": 1})
    assert isinstance(cursor, SeamCursor)  # rule 4, not the engine's `$in`
    found = await cursor.sort([("_id", 1)]).to_list()
    assert found == await raw[EVENTS].find(query, {"name": 1}).sort([("_id", 1)]).to_list()
    assert len(found) > 3 and {doc["name"] for doc in found} == {"n1"}


def test_an_unknown_engine_is_refused():
    with pytest.raises(ValueError, match="engine: 'postgres' is not one of memory, sqlite"):
        EmbeddedDatabase(None, engine="postgres")


async def test_a_cursor_method_the_seam_does_not_support_raises(stores):
    _, seam = stores
    cursor = seam[EVENTS].find({"ws": "ws_a", "personId": {"$in": ["p1"]}})
    with pytest.raises(AttributeError, match="batch_size: not supported"):
        cursor.batch_size(10)


async def test_delete_by_ids_deletes_what_the_engine_deletes(stores):
    raw, seam = stores
    schedules = [{"_id": f"s{i}", "ws": "ws_a" if i < 6 else "ws_b", "at": float(i)} for i in range(9)]
    await raw[SCHEDULES].insert_many(schedules)
    await raw[MEMBERSHIPS].insert_many(schedules)  # the engine's own answer, in another collection
    query = {"ws": "ws_a", "_id": {"$in": [f"s{i}" for i in range(9)] + ["s1", "nothing"]}, "at": {"$lte": 3.0, "$type": "number"}}
    deleted = await seam[SCHEDULES].delete_many(query)
    expected = await raw[MEMBERSHIPS].delete_many(query)
    assert deleted.deleted_count == expected.deleted_count == 4
    remaining = await raw[SCHEDULES].find({}).sort([("_id", 1)]).to_list()
    assert remaining == await raw[MEMBERSHIPS].find({}).sort([("_id", 1)]).to_list()
    assert (await seam[SCHEDULES].delete_many({"ws": "ws_a", "_id": {"$in": []}})).deleted_count == 0


async def test_delete_by_ids_with_plain_conditions_stays_in_its_workspace(stores):
    raw, seam = stores
    schedules = [{"_id": f"s{i}", "ws": "ws_a" if i < 6 else "ws_b", "segmentId": "seg", "at": float(i)} for i in range(9)]
    await raw[SCHEDULES].insert_many(schedules)
    await raw[MEMBERSHIPS].insert_many(schedules)  # the engine's own answer, in another collection
    query = {"ws": "ws_a", "segmentId": "seg", "_id": {"$in": ["s1", "s1", "s4", "s7", "nothing"]}}
    deleted = await seam[SCHEDULES].delete_many(query)
    expected = await raw[MEMBERSHIPS].delete_many(query)
    assert deleted.deleted_count == expected.deleted_count == 2
    remaining = await raw[SCHEDULES].find({}).sort([("_id", 1)]).to_list()
    assert remaining == await raw[MEMBERSHIPS].find({}).sort([("_id", 1)]).to_list()
    assert [doc["_id"] for doc in remaining] == ["s0", "s2", "s3", "s5", "s6", "s7", "s8"]  # ws_b's s7 kept


async def test_distinct_gives_each_value_once(stores):
    _, seam = stores
    found = await seam[EVENTS].distinct("personId", {"ws": "ws_a", "type": "event"})
    expected = {e["personId"] for e in _events() if e["ws"] == "ws_a" and e["type"] == "event"}
    assert sorted(found, key=str) == sorted(expected, key=str) and len(found) == len(expected)
    # as MongoDB: documents without the field add nothing, arrays add their elements
    await seam[PEOPLE].insert_many([{"_id": "t1", "ws": "ws_t", "tags": ["x", "y"]}, {"_id": "t2", "ws": "ws_t", "tags": "x"}, {"_id": "t3", "ws": "ws_t"}])
    assert sorted(await seam[PEOPLE].distinct("tags", {"ws": "ws_t"})) == ["x", "y"]


async def test_declared_compound_indexes_become_single_field_ones(stores):
    raw, _ = stores
    events = await raw[EVENTS].index_information()
    identities = await raw[IDENTITIES].index_information()
    assert {"personId_1", "ws_1", "anonymousId_1"} <= set(events)
    assert "key_1" in identities  # the key field the `_id` lookups go through
    assert all(len(index["key"]) == 1 for index in [*events.values(), *identities.values()])


async def test_a_lone_insert_leaves_no_companion(stores):
    raw, seam = stores
    result = await seam[EVENTS].insert_one({"ws": "ws_a", "personId": "p1", "type": "event", "name": "late", "ts": 99.0})
    assert await raw[EVENTS].find_one({"_id": result.inserted_id}, {"name": 1}) == {"_id": result.inserted_id, "name": "late"}
    assert await raw[EVENTS].count_documents({"_id": {"$regex": f"^{re.escape(LONE_INSERT_COMPANION)}"}}) == 0


@pytest.mark.parametrize(("value", "wrapped"), [("on", True), ("off", False)])
async def test_the_setting_serves_the_engine_with_or_without_the_seam(value, wrapped):
    settings = Settings.from_env({"SEGMENTS_EMBEDDED_SEAM": value}, embedded_engine="memory", database="seam_setting")
    store = await open_store(settings)
    try:
        assert isinstance(store.db, EmbeddedDatabase) is wrapped
        assert store.description.endswith("without the seam") is not wrapped
        await store.db[PEOPLE].insert_one({"_id": "p1", "ws": "ws_a"})
        assert await store.db[PEOPLE].find({"ws": "ws_a", "_id": {"$in": ["p1", "p2"]}}).to_list() == [{"_id": "p1", "ws": "ws_a"}]
    finally:
        await store.close()


def test_an_unknown_seam_setting_is_refused():
    with pytest.raises(SystemExit, match="SEGMENTS_EMBEDDED_SEAM must be 'on' or 'off', got 'no'"):
        Settings.from_env({"SEGMENTS_EMBEDDED_SEAM": "no"})


async def test_upserts_by_id_write_what_the_engine_writes(stores):
    raw, seam = stores
    existing = [{"_id": f"s{i}", "ws": "ws_a", "segmentId": "seg", "personId": f"p{i}", "at": 1.0} for i in range(3)]
    await raw[SCHEDULES].insert_many(existing)
    await raw[MEMBERSHIPS].insert_many(existing)  # the engine's own answer, in another collection

    def upserts() -> list:
        return [
            UpdateOne({"_id": f"s{i}", "ws": "ws_a"}, {"$set": {"segmentId": "seg", "personId": f"p{i}", "at": 2.0 + i}}, upsert=True)
            for i in range(1, 5)
        ]

    result = await seam[SCHEDULES].bulk_write(upserts(), ordered=False)
    expected = await raw[MEMBERSHIPS].bulk_write(upserts(), ordered=False)
    assert (result.upserted_count, result.matched_count, result.modified_count) == (2, 2, 2)
    assert (result.upserted_count, result.matched_count, result.modified_count, result.upserted_ids) == (
        expected.upserted_count,
        expected.matched_count,
        expected.modified_count,
        expected.upserted_ids,
    )
    assert await raw[SCHEDULES].find({}).sort([("_id", 1)]).to_list() == await raw[MEMBERSHIPS].find({}).sort([("_id", 1)]).to_list()

    # An `_id` held in another workspace: the upsert fails as the engine's does, and changes nothing.
    foreign = [UpdateOne({"_id": "s0", "ws": "ws_b"}, {"$set": {"segmentId": "seg", "personId": "p0", "at": 9.0}}, upsert=True)]
    with pytest.raises(BulkWriteError):
        await raw[MEMBERSHIPS].bulk_write(foreign, ordered=False)
    with pytest.raises(BulkWriteError):
        await seam[SCHEDULES].bulk_write(foreign, ordered=False)
    assert await raw[SCHEDULES].find_one({"_id": "s0"}) == existing[0]
