"""Several requests applied as one group (what the group-commit writer does):
each is all-or-nothing, and later requests see what earlier ones did."""

from __future__ import annotations

from rules.ingest import parse
from rules.ingest.apply import Accepted, Rejected, apply_requests

WS = "ws_grouping"
NOW = 1_767_225_600.0
UNKNOWN_CIO = "cio_0123456789abcdef0123"


async def _people(db) -> dict:
    return {p["id"]: p async for p in db["people"].find({"ws": WS})}


async def test_a_rejected_request_leaves_nothing_and_the_others_are_written(db):
    requests = [
        [parse.v1_identify("u1", {"plan": "pro"})],
        # Creates u2, then fails: u2 must not exist afterwards, nor the identity it claimed.
        [parse.v1_identify("u2", {"plan": "free"}), parse.v1_event(UNKNOWN_CIO, {"name": "x"})],
        [parse.v1_event("u1", {"name": "purchase", "id": "e-1"}), parse.v1_event("u3", {"name": "signed_in"})],
    ]
    outcomes = await apply_requests(db, WS, requests, now=NOW)
    assert [type(o) for o in outcomes] == [Accepted, Rejected, Accepted]
    assert str(outcomes[1].error) == "identifier: no person with cio_id '0123456789abcdef0123'"
    people = await _people(db)
    assert set(people) == {"u1", "u3"}
    assert await db["identities"].count_documents({"ws": WS}) == 2
    assert {e["name"] for e in await db["events"].find({"ws": WS}).to_list()} == {"purchase", "signed_in"}
    # The third request saw the first one's person: no duplicate u1.
    assert outcomes[2].topics == {people["u1"]["_id"]: frozenset({"event:purchase"}), people["u3"]["_id"]: frozenset({"created", "event:signed_in"})}


async def test_later_requests_build_on_earlier_ones_of_the_group(db):
    requests = [
        [parse.v1_anonymous_event({"anonymous_id": "a-1", "name": "visit"})],
        [parse.v1_identify("u1", {"anonymous_id": "a-1"})],
        [parse.v1_event("dup@example.com", {"name": "purchase"})],
        [parse.v1_merge({"primary": {"id": "u1"}, "secondary": {"email": "dup@example.com"}})],
        [parse.v1_event("gone", {"name": "x"}), parse.v1_delete("gone")],
        [parse.v1_event("u1", {"name": "again", "id": "e-1"}), parse.v1_event("u1", {"name": "again", "id": "e-1"})],
    ]
    outcomes = await apply_requests(db, WS, requests, now=NOW)
    assert all(isinstance(o, Accepted) for o in outcomes), outcomes
    people = await _people(db)
    assert set(people) == {"u1"} and people["u1"]["email"] == "dup@example.com"
    owner = people["u1"]["_id"]
    events = sorted((e["name"], e["personId"]) for e in await db["events"].find({"ws": WS}).to_list())
    # The anonymous visit was adopted, the secondary's purchase moved, the deleted person's event is gone,
    # and the client event id was stored once.
    assert events == [("again", owner), ("purchase", owner), ("visit", owner)]
    assert outcomes[1].topics[owner] >= {"created", "event:visit"}
