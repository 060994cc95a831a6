"""Many people's evaluator data read at once is what reading each alone gives,
whichever way the store answers a batch."""

import json

import pytest

from api.embedded_store import EmbeddedDatabase
from bench.conditions import CONDITIONS, HIGH_VALUE_SEGMENT
from rules.conditions.dependencies import dependencies
from rules.conditions.evaluate import evaluate
from rules.conditions.parse import parse_condition
from rules.store.collections import MEMBERSHIPS
from rules.demo import load_demo
from rules.conditions.evaluate import load_person_data
from rules.conditions.people_data import collections_read, load_people_data

NOW = 1_767_225_600.0


def _comparable(person):
    by_id = lambda docs: sorted(docs, key=lambda d: d["_id"])  # noqa: E731
    return (person.profile, by_id(person.events), by_id(person.devices), by_id(person.deliveries), person.segment_ids)


ANSWERED = pytest.mark.parametrize("answered", ["as-the-store-answers", "by-one-pass"])


def _answered(db, answered: str):
    if answered == "by-one-pass":  # the seam's way on the sqlite engine, here on the test's store
        # Around the engine's own database when the test runs with the seam, around the raw one without it.
        return EmbeddedDatabase(db.engine_database if isinstance(db, EmbeddedDatabase) else db, engine="sqlite")
    return db


@ANSWERED
async def test_people_data_in_a_batch_is_each_persons_data(db, answered):
    db = _answered(db, answered)
    await load_demo(db, "ws_a", now=NOW, people=40)
    await load_demo(db, "ws_b", now=NOW, people=5, seed=8)
    ids = [p["_id"] async for p in db["people"].find({"ws": "ws_a"}, {"_id": 1})]
    await db[MEMBERSHIPS].insert_many([{"_id": f"seg_1|{ids[0]}", "ws": "ws_a", "segmentId": "seg_1", "personId": ids[0], "enteredAt": NOW}])
    other_workspace = (await db["people"].find_one({"ws": "ws_b"}))["_id"]

    loaded = await load_people_data(db, "ws_a", [*ids, "nobody", other_workspace])

    assert set(loaded) == set(ids)  # missing people and other workspaces' people are left out
    for person_id in ids:
        assert _comparable(loaded[person_id]) == _comparable(await load_person_data(db, "ws_a", person_id))
    assert loaded[ids[0]].segment_ids == {"seg_1"}
    assert sum(len(p.events) for p in loaded.values()) > 0


@ANSWERED
async def test_reading_only_what_a_condition_depends_on_evaluates_the_same(db, answered):
    """A windowed build loads its candidates with `reads`: for conditions of
    every kind, the narrowed data gives each person the same truth and the
    same next change as all of their data."""
    db = _answered(db, answered)
    await load_demo(db, "ws_a", now=NOW, people=40)
    ids = [p["_id"] async for p in db["people"].find({"ws": "ws_a"}, {"_id": 1})]
    await db[MEMBERSHIPS].insert_many([{"_id": f"seg_1|{p}", "ws": "ws_a", "segmentId": "seg_1", "personId": p, "enteredAt": NOW} for p in ids[::3]])
    everything = await load_people_data(db, "ws_a", ids)
    narrowed_somewhere = fewer_events_somewhere = False
    all_events = sum(len(person.events) for person in everything.values())
    for name, raw in CONDITIONS.items():
        condition = parse_condition(json.loads(json.dumps(raw).replace(HIGH_VALUE_SEGMENT, "seg_1")))
        reads = dependencies(condition)
        narrowed = await load_people_data(db, "ws_a", ids, reads=reads)
        narrowed_somewhere |= len(collections_read(reads)) < 4
        events_kept = sum(len(person.events) for person in narrowed.values())
        fewer_events_somewhere |= 0 < events_kept < all_events  # only the named events, or page views
        for person_id in ids:
            full, only = evaluate(condition, everything[person_id], now=NOW), evaluate(condition, narrowed[person_id], now=NOW)
            assert (only.holds, only.next_change_at) == (full.holds, full.next_change_at), (name, person_id)
    assert narrowed_somewhere and fewer_events_somewhere
