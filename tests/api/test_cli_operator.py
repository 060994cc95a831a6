"""The operator's CLI on the embedded SQLite store: workspaces, keys, demo, segments, imports."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

import pytest

from api.cli import main
from api.settings import Settings
from api.store import open_store
from rules.clock import SystemClock
from rules.store.collections import API_KEYS, PEOPLE, SEGMENTS
from rules.membership.engine import MembershipEngine
from rules.segments.records import SegmentType
from rules.segments.service import SegmentDraft, SegmentService
from rules.workspaces import authenticate_app, authenticate_track


@pytest.fixture
def settings(tmp_path: Path, monkeypatch) -> Settings:
    monkeypatch.setenv("SEGMENTS_EMBEDDED_ENGINE", "sqlite")
    monkeypatch.setenv("SEGMENTS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SEGMENTS_DATABASE", "cli_test")
    monkeypatch.delenv("SEGMENTS_MONGODB_URI", raising=False)
    return Settings.from_env()


def _run(settings: Settings, action):
    async def run():
        store = await open_store(settings)
        try:
            return await action(store.db)
        finally:
            await store.close()

    return asyncio.run(run())


def _cli_json(capsys, *argv: str) -> dict:
    assert main(list(argv)) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def _cli_error(capsys, *argv: str) -> str:
    assert main(list(argv)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    return captured.err


def test_version(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["--version"])
    assert exit.value.code == 0
    assert capsys.readouterr().out.startswith("segments 0.")


def test_demo_with_no_people_fails_before_creating_anything(settings, capsys):
    err = _cli_error(capsys, "demo", "--people", "0")
    assert "--people: at least 1" in err
    assert "demo data" not in err  # no progress bar for work that never started
    assert _run(settings, lambda db: db["workspaces"].count_documents({})) == 0


def test_demo_fills_the_workspace_given(settings, capsys):
    created = _cli_json(capsys, "workspace", "create", "Acme")
    loaded = _cli_json(capsys, "demo", "--workspace", created["workspaceId"], "--people", "20")
    assert loaded["workspaceId"] == created["workspaceId"] and loaded["loaded"]["people"] == 20
    assert _run(settings, lambda db: db[PEOPLE].count_documents({"ws": created["workspaceId"]})) == 20
    assert _run(settings, lambda db: db["workspaces"].count_documents({})) == 1
    assert "no workspace ws_nope" in _cli_error(capsys, "demo", "--workspace", "ws_nope")


def test_rotate_keys_and_show_keys(settings, capsys):
    created = _cli_json(capsys, "workspace", "create", "Acme")
    ws = created["workspaceId"]
    rotated = _cli_json(capsys, "workspace", "rotate-keys", ws, "--kind", "track")
    assert set(rotated) == {"workspaceId", "trackApiKey"} and rotated["trackApiKey"] != created["trackApiKey"]
    assert _run(settings, lambda db: authenticate_track(db, created["siteId"], created["trackApiKey"])) is None
    assert _run(settings, lambda db: authenticate_track(db, created["siteId"], rotated["trackApiKey"])).id == ws
    assert _run(settings, lambda db: authenticate_app(db, created["appApiKey"])).id == ws

    both = _cli_json(capsys, "workspace", "rotate-keys", ws)
    assert _run(settings, lambda db: authenticate_app(db, created["appApiKey"])) is None
    assert _run(settings, lambda db: authenticate_app(db, both["appApiKey"])).id == ws
    assert _run(settings, lambda db: authenticate_track(db, created["siteId"], rotated["trackApiKey"])) is None

    shown = _cli_json(capsys, "workspace", "keys", ws)
    assert (shown["siteId"], sorted(key["kind"] for key in shown["keys"])) == (created["siteId"], ["app", "track"])
    assert "no workspace ws_nope" in _cli_error(capsys, "workspace", "rotate-keys", "ws_nope")


def test_delete_workspace_needs_confirmation_and_removes_only_its_data(settings, capsys):
    doomed = _cli_json(capsys, "workspace", "create", "Doomed")
    kept = _cli_json(capsys, "workspace", "create", "Kept")
    for ws in (doomed, kept):
        _cli_json(capsys, "demo", "--workspace", ws["workspaceId"], "--people", "10")

    assert "--yes" in _cli_error(capsys, "workspace", "delete", doomed["workspaceId"])
    assert _run(settings, lambda db: db[PEOPLE].count_documents({"ws": doomed["workspaceId"]})) == 10
    deleted = _cli_json(capsys, "workspace", "delete", doomed["workspaceId"], "--yes", doomed["workspaceId"])
    assert deleted["deleted"]["people"] == 10 and deleted["deleted"]["api_keys"] == 2

    async def remaining(db):
        return {
            "doomed": sum([await db[name].count_documents({"ws": doomed["workspaceId"]}) for name in ("people", "events", "identities", "devices", "deliveries")]),
            "keys": await db[API_KEYS].count_documents({"workspaceId": doomed["workspaceId"]}),
            "kept": await db[PEOPLE].count_documents({"ws": kept["workspaceId"]}),
        }

    assert _run(settings, remaining) == {"doomed": 0, "keys": 0, "kept": 10}
    assert main(["workspace", "list"]) == 0
    listed = capsys.readouterr().out
    assert kept["workspaceId"] in listed and doomed["workspaceId"] not in listed


def test_segments_list_count_and_export(settings, capsys, tmp_path):
    ws = _cli_json(capsys, "workspace", "create", "Acme")["workspaceId"]
    _cli_json(capsys, "demo", "--workspace", ws, "--people", "30")

    async def create(db):
        engine = MembershipEngine(db, SystemClock())
        service = SegmentService(db, SystemClock(), engine)
        segment = await service.create(ws, SegmentDraft(name="Pro", condition={"attribute": {"path": "plan", "op": "eq", "value": "pro"}}))
        await service.create(ws, SegmentDraft(name="List", type=SegmentType.MANUAL))
        await engine.wait_for_builds()
        pro = await db[PEOPLE].count_documents({"ws": ws, "attributes.plan": "pro"})
        return segment.id, pro

    segment_id, pro = _run(settings, create)
    assert pro > 0
    assert main(["segments", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == 2 and any(segment_id in line and "DATA_DRIVEN" in line and "Pro" in line for line in listed)

    assert main(["segments", "count", segment_id]) == 0
    assert int(capsys.readouterr().out) == pro

    assert main(["segments", "export", segment_id, "--attributes", "plan"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == pro and {row["plan"] for row in rows} == {"pro"} and all(row["entered_at"] for row in rows)
    out = tmp_path / "pro.csv"
    assert main(["segments", "export", segment_id, "-o", str(out)]) == 0
    assert len(out.read_text().splitlines()) == pro + 1

    assert "SEGMENT: no segment seg_nope" in _cli_error(capsys, "segments", "count", "seg_nope")
    _cli_json(capsys, "workspace", "create", "Other")
    assert "--workspace: there are 2 workspaces" in _cli_error(capsys, "segments", "list")


def _manual_segment(settings: Settings, ws: str) -> str:
    async def create(db):
        service = SegmentService(db, SystemClock(), MembershipEngine(db, SystemClock()))
        return (await service.create(ws, SegmentDraft(name="List", type=SegmentType.MANUAL))).id

    return _run(settings, create)


def test_import_errors_name_the_flag_and_draw_no_progress_bar(settings, capsys, tmp_path):
    ws = _cli_json(capsys, "workspace", "create", "Acme")["workspaceId"]
    segment = _manual_segment(settings, ws)
    path = tmp_path / "list.csv"
    path.write_text("customer\nu-1\n")
    err = _cli_error(capsys, "import-members", segment, str(path), "--column", "customer")
    assert err.startswith("error: --id-type: column 'customer' is not named id, email or cio_id"), err
    err = _cli_error(capsys, "import-members", segment, str(path), "--column", "nope", "--id-type", "id")
    assert err.startswith("error: --column: the header has no column 'nope'"), err
    assert "import" not in err.replace("import-members", "")


def test_import_reads_semicolon_separated_files(settings, capsys, tmp_path):
    ws = _cli_json(capsys, "workspace", "create", "Acme")["workspaceId"]
    _cli_json(capsys, "demo", "--workspace", ws, "--people", "5")
    emails = _run(settings, lambda db: db[PEOPLE].find({"ws": ws, "email": {"$ne": None}}, {"email": 1}).to_list())
    segment = _manual_segment(settings, ws)
    path = tmp_path / "list.csv"
    # As a spreadsheet in a decimal-comma locale saves it.
    path.write_text("email;name\n" + "".join(f" {doc['email']} ;Someone, Jr.\n" for doc in emails[:3]))
    report = _cli_json(capsys, "import-members", segment, str(path))
    assert (report["added"], report["badRows"]) == (3, [])
    assert _run(settings, lambda db: db[SEGMENTS].find_one({"_id": segment}))["memberCount"] == 3
