"""The demo data set: deterministic for a seed, shaped as docs/data-model.md says."""

import pytest

from rules.demo import load_demo

NOW = 1_767_225_600.0


async def _snapshot(db, ws):
    people = await db["people"].find({"ws": ws}, {"_id": 0, "ws": 0}).sort("id", 1).to_list()
    names = sorted([(e["type"], e["name"], e["ts"]) async for e in db["events"].find({"ws": ws})])
    return people, names


async def test_demo_is_deterministic_and_covers_every_kind(db):
    seen = []
    first = await load_demo(db, "ws_a", now=NOW, people=60, progress=lambda done, total: seen.append((done, total)))
    second = await load_demo(db, "ws_b", now=NOW, people=60)
    assert {k: v for k, v in first.items() if k != "workspaceId"} == {k: v for k, v in second.items() if k != "workspaceId"}
    assert await _snapshot(db, "ws_a") == await _snapshot(db, "ws_b")
    assert first["people"] == 60 and min(first["events"], first["pageViews"], first["devices"], first["deliveries"]) > 0
    assert seen[-1][0] == seen[-1][1]

    people = await db["people"].find({"ws": "ws_a"}).to_list()
    values = [p["attributes"].get("lifetime_value") for p in people]
    assert {type(v) for v in values} >= {float, str}  # a type trap is present
    assert {p["attributes"]["plan"] for p in people} <= {"free", "pro", "enterprise"}
    assert await db["identities"].count_documents({"ws": "ws_a"}) == 120
    delivery = await db["deliveries"].find_one({"ws": "ws_a"})
    assert delivery["metrics"]["sent"] <= NOW and delivery["campaignId"].startswith("cmp_")
    offers = await db["events"].count_documents({"ws": "ws_a", "type": "page", "name": {"$regex": "^/offers/"}})
    assert offers > 0


async def test_demo_refuses_a_workspace_that_has_people(db):
    await load_demo(db, "ws_a", now=NOW, people=3)
    with pytest.raises(ValueError, match="already has people"):
        await load_demo(db, "ws_a", now=NOW, people=3)


def test_segments_demo_command_creates_a_workspace_and_prints_its_keys(monkeypatch, capsys):
    import json

    from api.cli import main

    monkeypatch.setenv("SEGMENTS_EMBEDDED_ENGINE", "memory")
    monkeypatch.delenv("SEGMENTS_MONGODB_URI", raising=False)
    assert main(["demo", "--people", "15"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["trackApiKey"].startswith("trk_") and printed["siteId"]
    assert printed["loaded"]["people"] == 15 and printed["loaded"]["workspaceId"] == printed["workspaceId"]
    assert main(["demo", "--workspace", "ws_nope"]) == 2
    assert "no workspace ws_nope" in capsys.readouterr().err


async def test_events_per_person_scales_every_kind_of_activity(db):
    default = await load_demo(db, "ws_a", now=NOW, people=400)
    tripled = await load_demo(db, "ws_b", now=NOW, people=400, events_per_person=3 * 8.55)
    for kind in ("events", "pageViews", "screens"):
        assert 2 < tripled[kind] / default[kind] < 4, (kind, default, tripled)
    total = tripled["events"] + tripled["pageViews"] + tripled["screens"]
    assert 0.85 < total / (400 * 3 * 8.55) < 1.15
    assert await db["events"].count_documents({"ws": "ws_b"}) == total
    with pytest.raises(ValueError, match="events per person"):
        await load_demo(db, "ws_c", now=NOW, people=3, events_per_person=0)
