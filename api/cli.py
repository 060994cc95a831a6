"""The `segments` command line tool."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from typing import Any

from api.settings import Settings
from rules.people.identifiers import IdKind
from rules.store.types import Database


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app

    overrides = {}
    if args.port is not None:
        overrides["port"] = args.port
    settings = Settings.from_env(**overrides)
    trust_hint = ""
    if args.self_signed:
        if settings.tls_cert is not None:
            return _fail("--self-signed: SEGMENTS_TLS_CERT is set too; use one or the other")
        from api.tls import local_certificate

        local = local_certificate(settings.data_dir)
        settings = Settings(**{**settings.__dict__, "tls_cert": local.cert, "tls_key": local.key})
        trust_hint = f"\nClients trust {local.ca.resolve()} (Python SDK: REQUESTS_CA_BUNDLE=..., Node.js: NODE_EXTRA_CA_CERTS=...)"
    scheme = "https" if settings.tls_cert is not None else "http"
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    print(f"Segments on {scheme}://{settings.host}:{settings.port}  (console at /, GraphiQL at /graphql){trust_hint}", flush=True)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        ssl_certfile=settings.tls_cert,
        ssl_keyfile=settings.tls_key,
    )
    return 0


class _Progress:
    """A tqdm bar on stderr drawn at the first report of work done, so that a
    command failing before any work (a bad flag, a bad header) shows no bar."""

    def __init__(self, **options) -> None:
        self._options = options
        self._bar: Any = None  # a tqdm bar (tqdm ships no types)

    def update(self, done: int, total: int) -> None:
        from tqdm import tqdm

        if self._bar is None:
            self._bar = tqdm(total=total, file=sys.stderr, **self._options)
        self._bar.total = total
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _print_json(value) -> int:
    print(json.dumps(value, indent=2))
    return 0


async def _with_store(action):
    from api.store import open_store

    store = await open_store(Settings.from_env())
    try:
        return await action(store.db)
    finally:
        await store.close()


def _workspace_create(args: argparse.Namespace) -> int:
    import time

    from rules.workspaces import create_workspace

    async def action(db: Database):
        return await create_workspace(db, args.name, now=time.time())

    try:
        created = asyncio.run(_with_store(action))
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(created.as_json(), indent=2))
    return 0


def _workspace_list(args: argparse.Namespace) -> int:
    from rules.workspaces import list_workspaces

    workspaces = asyncio.run(_with_store(list_workspaces))
    if not workspaces:
        print("No workspaces yet: segments workspace create NAME")
    for ws in workspaces:
        print(f"{ws.id}  site {ws.site_id}  {ws.name}")
    return 0


def _workspace_keys(args: argparse.Namespace) -> int:
    from rules.store.collections import API_KEYS
    from rules.workspaces import find_workspace

    async def action(db: Database):
        workspace = await find_workspace(db, args.workspace)
        keys = [doc async for doc in db[API_KEYS].find({"workspaceId": workspace.id}).sort("createdAt", 1)]
        return {
            "workspaceId": workspace.id,
            "name": workspace.name,
            "siteId": workspace.site_id,
            # Only digests are stored: a lost key is replaced with rotate-keys.
            "keys": [{"kind": key["kind"], "digestPrefix": key["_id"][:12], "createdAt": key.get("createdAt")} for key in keys],
        }

    try:
        return _print_json(asyncio.run(_with_store(action)))
    except ValueError as error:
        return _fail(str(error))


def _workspace_rotate_keys(args: argparse.Namespace) -> int:
    import time

    from rules.workspaces import KeyKind, rotate_keys

    kinds = [KeyKind(kind) for kind in args.kind] if args.kind else list(KeyKind)

    async def action(db: Database):
        return await rotate_keys(db, args.workspace, kinds, now=time.time())

    try:
        keys = asyncio.run(_with_store(action))
    except ValueError as error:
        return _fail(str(error))
    names = {"track": "trackApiKey", "app": "appApiKey"}
    return _print_json({"workspaceId": args.workspace, **{names[key.kind]: key.value for key in keys}})


def _workspace_delete(args: argparse.Namespace) -> int:
    from rules.workspaces import delete_workspace, find_workspace

    async def action(db: Database):
        workspace = await find_workspace(db, args.workspace)
        if args.yes != workspace.id:
            raise ValueError(f"--yes: deleting removes every person, event and segment of {workspace.name!r}; repeat its id: --yes {workspace.id}")
        return await delete_workspace(db, workspace.id)

    try:
        deleted = asyncio.run(_with_store(action))
    except ValueError as error:
        return _fail(str(error))
    return _print_json({"workspaceId": args.workspace, "deleted": deleted})


def _demo(args: argparse.Namespace) -> int:
    import time

    from rules.demo import load_demo
    from rules.workspaces import create_workspace, find_workspace

    if args.people < 1:
        return _fail(f"--people: at least 1, got {args.people}")
    if args.events_per_person is not None and args.events_per_person <= 0:
        return _fail(f"--events-per-person: more than 0, got {args.events_per_person}")

    async def action(db: Database):
        now = time.time()
        if args.workspace:
            printed = {"workspaceId": (await find_workspace(db, args.workspace)).id}
        else:
            printed = (await create_workspace(db, "Demo", now=now)).as_json()
        progress = _Progress(unit="person", desc="demo data")
        try:
            loaded = await load_demo(
                db, printed["workspaceId"], now=now, people=args.people,
                events_per_person=args.events_per_person, progress=progress.update,
            )
        finally:
            progress.close()
        return {**printed, "loaded": loaded}

    try:
        result = asyncio.run(_with_store(action))
    except ValueError as error:
        return _fail(str(error))
    return _print_json(result)


async def _workspace_for_listing(db: Database, workspace_id: str | None):
    """The --workspace given, or the only workspace there is."""
    from rules.workspaces import find_workspace, list_workspaces

    if workspace_id:
        return await find_workspace(db, workspace_id)
    workspaces = await list_workspaces(db)
    if len(workspaces) != 1:
        raise ValueError(f"--workspace: there are {len(workspaces)} workspaces, say which one (segments workspace list)")
    return workspaces[0]


async def _segment_of(db: Database, segment_id: str):
    """A segment by id alone: its id names its workspace, and the CLI holds the whole store."""
    from rules.store.collections import SEGMENTS
    from rules.segments.records import Segment

    doc = await db[SEGMENTS].find_one({"_id": segment_id})
    if doc is None:
        raise ValueError(f"SEGMENT: no segment {segment_id} (see: segments segments list)")
    return Segment.from_document(doc)


def _segments_list(args: argparse.Namespace) -> int:
    from rules.segments.records import list_segments

    async def action(db: Database):
        workspace = await _workspace_for_listing(db, args.workspace)
        return await list_segments(db, workspace.id)

    try:
        segments = asyncio.run(_with_store(action))
    except ValueError as error:
        return _fail(str(error))
    if not segments:
        print("No segments yet (createSegment in GraphQL)")
    for segment in segments:
        print(f"{segment.id}  {segment.type.value:<11}  {segment.state.value:<8}  {segment.member_count:>8} members  {segment.name}")
    return 0


def _segments_count(args: argparse.Namespace) -> int:
    async def action(db: Database):
        return await _segment_of(db, args.segment)

    try:
        segment = asyncio.run(_with_store(action))
    except ValueError as error:
        return _fail(str(error))
    print(segment.member_count)
    return 0


def _segments_export(args: argparse.Namespace) -> int:
    from rules.people.csv_export import ExportColumns, ExportInvalid, attribute_paths, csv_chunks
    from rules.people.segment_members import all_segment_people

    try:
        columns = ExportColumns(attributes=attribute_paths(args.attributes), entered_at=True)
    except ExportInvalid as invalid:
        return _fail(f"--{invalid}")

    async def action(db: Database):
        segment = await _segment_of(db, args.segment)

        async def rows():
            async for member in all_segment_people(db, segment.workspace_id, segment.id, match={"ws": segment.workspace_id}):
                yield member.person, member.entered_at

        output = sys.stdout.buffer if args.output == "-" else open(args.output, "wb")
        try:
            async for chunk in csv_chunks(columns, rows()):
                output.write(chunk)
        finally:
            if output is not sys.stdout.buffer:
                output.close()

    try:
        asyncio.run(_with_store(action))
    except ValueError as error:
        return _fail(str(error))
    return 0


def _import_members(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rules.clock import SystemClock
    from rules.store.collections import SEGMENTS
    from rules.manual.csv_import import CsvImportError, ImportMode, import_members
    from rules.membership.engine import MembershipEngine, NotAManualSegment

    path = Path(args.file)
    if not path.is_file():
        print(f"error: FILE: no file {args.file}", file=sys.stderr)
        return 2

    async def action(db: Database):
        # A segment id names its workspace; the CLI has the whole store.
        segment = await db[SEGMENTS].find_one({"_id": args.segment}, {"ws": 1})
        if segment is None:
            raise ValueError(f"SEGMENT: no segment {args.segment}")
        size = path.stat().st_size
        progress = _Progress(unit="B", unit_scale=True, desc="import")
        try:
            with path.open("rb") as file:
                report = await import_members(
                    db,
                    MembershipEngine(db, SystemClock()),
                    segment["ws"],
                    args.segment,
                    file,
                    mode=ImportMode(args.mode.upper()),
                    dry_run=args.dry_run,
                    column=args.column,
                    id_type=IdKind(args.id_type) if args.id_type else None,
                    on_progress=lambda rows: progress.update(file.tell(), size),
                )
        finally:
            progress.close()
        return report

    try:
        report = asyncio.run(_with_store(action))
    except CsvImportError as error:
        flag = IMPORT_FLAGS.get(error.parameter or "")
        return _fail(f"{flag}: {error.problem}" if flag else str(error))
    except (ValueError, NotAManualSegment) as error:
        return _fail(str(error))
    return _print_json(report.as_json())


# The import's parameters (named as in GraphQL by rules/manual/csv_import.py) -> this CLI's flags.
IMPORT_FLAGS = {"column": "--column", "idType": "--id-type"}


def build_parser() -> argparse.ArgumentParser:
    from importlib.metadata import version

    parser = argparse.ArgumentParser(prog="segments", description="Live audience segments service")
    parser.add_argument("--version", action="version", version=f"segments {version('segments')}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the API (GraphiQL at /graphql)")
    serve.add_argument("--port", type=int, help="port (default 8000 or SEGMENTS_PORT)")
    serve.add_argument(
        "--self-signed",
        action="store_true",
        help="serve https with a local certificate made under SEGMENTS_DATA_DIR/tls (for SDKs that only speak https)",
    )
    serve.set_defaults(func=_serve)

    workspace = sub.add_parser("workspace", help="manage workspaces")
    ws_sub = workspace.add_subparsers(dest="workspace_command", required=True)
    create = ws_sub.add_parser("create", help="create a workspace and print its keys as JSON")
    create.add_argument("name")
    create.set_defaults(func=_workspace_create)
    ws_list = ws_sub.add_parser("list", help="list workspaces")
    ws_list.set_defaults(func=_workspace_list)
    ws_keys = ws_sub.add_parser("keys", help="show a workspace's site id and its keys (only digests are stored: see rotate-keys)")
    ws_keys.add_argument("workspace", metavar="WORKSPACE", help="the workspace id")
    ws_keys.set_defaults(func=_workspace_keys)
    rotate = ws_sub.add_parser("rotate-keys", help="replace a workspace's keys and print the new ones; the old ones stop working at once")
    rotate.add_argument("workspace", metavar="WORKSPACE", help="the workspace id")
    rotate.add_argument("--kind", action="append", choices=["track", "app"], help="only this key (repeatable; default both)")
    rotate.set_defaults(func=_workspace_rotate_keys)
    ws_delete = ws_sub.add_parser("delete", help="delete a workspace with all its people, activity, segments and keys")
    ws_delete.add_argument("workspace", metavar="WORKSPACE", help="the workspace id")
    ws_delete.add_argument("--yes", metavar="WORKSPACE", help="the workspace id again, to confirm")
    ws_delete.set_defaults(func=_workspace_delete)

    segments = sub.add_parser("segments", help="read segments: list, count, export")
    seg_sub = segments.add_subparsers(dest="segments_command", required=True)
    seg_list = seg_sub.add_parser("list", help="segments of a workspace with their member counts")
    seg_list.add_argument("--workspace", help="the workspace id (optional when there is only one)")
    seg_list.set_defaults(func=_segments_list)
    seg_count = seg_sub.add_parser("count", help="print a segment's member count")
    seg_count.add_argument("segment", metavar="SEGMENT", help="the segment id")
    seg_count.set_defaults(func=_segments_count)
    seg_export = seg_sub.add_parser("export", help="write a segment's members as CSV (as GET /exports/segments/ID.csv)")
    seg_export.add_argument("segment", metavar="SEGMENT", help="the segment id")
    seg_export.add_argument("--attributes", help="attribute columns, comma-separated paths (e.g. plan,address.city)")
    seg_export.add_argument("-o", "--output", default="-", help="file to write (default: standard output)")
    seg_export.set_defaults(func=_segments_export)

    demo = sub.add_parser("demo", help="load a realistic demo data set (creates a workspace unless --workspace)")
    demo.add_argument("--workspace", help="an existing workspace without people (e.g. the one just created); default: a new one")
    demo.add_argument("--people", type=int, default=2000, help="how many people (default 2000)")
    demo.add_argument("--events-per-person", type=float, help="average events of all kinds per person (default about 8.5)")
    demo.set_defaults(func=_demo)

    members = sub.add_parser("import-members", help="import a CSV file into a MANUAL segment (docs/manual-segments.md)")
    members.add_argument("segment", metavar="SEGMENT", help="the segment id")
    members.add_argument("file", metavar="FILE", help="a CSV file with a header naming id, email or cio_id")
    members.add_argument("--mode", choices=["append", "replace"], default="append", help="default append")
    members.add_argument("--dry-run", action="store_true", help="report what would change; change nothing")
    members.add_argument("--column", help="the identifier column, if not named id, email or cio_id")
    members.add_argument("--id-type", choices=[kind.value for kind in IdKind], help="what --column holds")
    members.set_defaults(func=_import_members)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
