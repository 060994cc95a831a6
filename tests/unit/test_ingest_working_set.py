"""A working set's checkpoint and rollback cover all it holds at once: the
keyed tables, the journal of new events and set operations, the client
event ids seen and the topics of the request being applied."""

import pytest

from rules.ingest.working_set import SetOperation, WorkingSet
from rules.store.collections import EVENTS, PEOPLE

WS = "ws_working_set"
NOW = 1_767_225_600.0


async def test_rollback_undoes_everything_since_the_checkpoint_and_keeps_what_came_before(db):
    await db[PEOPLE].insert_many([{"_id": "p1", "ws": WS, "attributes": {"plan": "free"}}])
    working = WorkingSet(db, WS, NOW)
    first = await working.person("p1")
    first["attributes"]["plan"] = "pro"
    working.people.put("p1", first)
    working.journal.events.append({"_id": "e1"})
    working.known_event_ids.add("e1")

    working.checkpoint()
    assert working.topics == {}
    working.people.delete("p1")
    working.people.put("p2", {"_id": "p2", "ws": WS})
    working.journal.events.append({"_id": "e2"})
    working.journal.set_operations.append(SetOperation(collection=EVENTS, filter={"personId": "p1"}, update=None))
    working.known_event_ids.add("e2")
    working.touch("p1", "deleted")
    working.rollback()

    assert working.people.peek("p1")["attributes"] == {"plan": "pro"}
    assert working.people.peek("p2") is None
    assert working.journal.events == [{"_id": "e1"}]
    assert working.journal.set_operations == []
    assert working.known_event_ids == {"e1"}
    assert working.topics == {}
    inserts, updates, deletes = working.people.changes()
    assert (inserts, deletes) == ([], []) and [final["attributes"] for _, final in updates] == [{"plan": "pro"}]


async def test_a_person_asked_for_but_not_held_is_a_named_error_not_none(db):
    # Handlers ask only for people they resolved; one that is missing is a bug, reported by name.
    await db[PEOPLE].insert_many([{"_id": "p1", "ws": WS, "attributes": {}}])
    working = WorkingSet(db, WS, NOW)
    with pytest.raises(LookupError, match="people 'nobody' is not in the working set"):
        await working.person("nobody")
    working.people.delete("p1")
    with pytest.raises(LookupError, match="people 'p1' is not in the working set"):
        await working.person("p1")
