"""`segments import-members` on the embedded SQLite store, as a user runs it."""

import asyncio
import json
from pathlib import Path

import pytest

from api.cli import main
from api.settings import Settings
from api.store import open_store
from rules.clock import SystemClock
from rules.people.identifiers import new_cio_id, person_identity_documents
from rules.store.documents import person_document
from rules.membership.engine import MembershipEngine
from rules.segments.records import SegmentType
from rules.segments.service import SegmentDraft, SegmentService

WS = "ws_cli"


async def _prepare(settings: Settings) -> tuple[str, str]:
    store = await open_store(settings)
    try:
        docs = [
            person_document(WS, new_cio_id(), profile_id=f"u-{n}", email=None, attributes={}, created_at=1.0, now=1.0)
            for n in range(3)
        ]
        await store.db["people"].insert_many(docs)
        await store.db["identities"].insert_many([i for d in docs for i in person_identity_documents(WS, d)])
        segments = SegmentService(store.db, SystemClock(), MembershipEngine(store.db, SystemClock()))
        manual = await segments.create(WS, SegmentDraft(name="List", type=SegmentType.MANUAL))
        driven = await segments.create(WS, SegmentDraft(name="Pro", condition={"attribute": {"path": "plan", "op": "eq", "value": "pro"}}))
        return manual.id, driven.id
    finally:
        await store.close()


async def _members(settings: Settings, segment_id: str) -> int:
    store = await open_store(settings)
    try:
        return await store.db["memberships"].count_documents({"ws": WS, "segmentId": segment_id})
    finally:
        await store.close()


def test_import_members_reports_and_imports(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("SEGMENTS_EMBEDDED_ENGINE", "sqlite")
    monkeypatch.setenv("SEGMENTS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SEGMENTS_DATABASE", "cli_test")
    monkeypatch.delenv("SEGMENTS_MONGODB_URI", raising=False)
    settings = Settings.from_env()
    manual, driven = asyncio.run(_prepare(settings))
    path = tmp_path / "list.csv"
    path.write_text("Customer\r\nu-0\r\nu-1\r\nu-9\r\n")

    assert main(["import-members", manual, str(path), "--column", "customer", "--id-type", "id", "--dry-run"]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert asyncio.run(_members(settings, manual)) == 0
    assert main(["import-members", manual, str(path), "--column", "Customer", "--id-type", "id"]) == 0
    real = json.loads(capsys.readouterr().out)
    assert dry | {"dryRun": False} == real
    assert (real["added"], real["problems"]) == (2, {"UNKNOWN_PERSON": 1})
    assert real["badRows"] == [{"line": 4, "problem": "UNKNOWN_PERSON", "message": "no person with id 'u-9'"}]
    assert asyncio.run(_members(settings, manual)) == 2

    for argv, message in (
        ([driven, str(path), "--column", "customer", "--id-type", "id"], "is DATA_DRIVEN"),
        ([manual, str(path)], "no identifier column"),
        (["seg_missing", str(path)], "SEGMENT: no segment seg_missing"),
        ([manual, str(tmp_path / "missing.csv")], "FILE: no file"),
    ):
        assert main(["import-members", *argv]) == 2
        assert message in capsys.readouterr().err


def test_mode_must_be_append_or_replace(tmp_path: Path):
    with pytest.raises(SystemExit):
        main(["import-members", "seg_x", str(tmp_path), "--mode", "merge"])
