"""The `segments` command line tool."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys

from api.settings import Settings
from rules.identifiers import IdKind


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app

    overrides = {}
    if args.port is not None:
        overrides["port"] = args.port
    settings = Settings.from_env(**overrides)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    print(f"Segments on http://{settings.host}:{settings.port}  (console at /, GraphiQL at /graphql)", flush=True)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")
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

    async def action(db):
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


def _demo(args: argparse.Namespace) -> int:
    import time

    from tqdm import tqdm

    from rules.collections import WORKSPACES
    from rules.demo import load_demo
    from rules.workspaces import create_workspace

    async def action(db):
        now = time.time()
        if args.workspace:
            if await db[WORKSPACES].find_one({"_id": args.workspace}) is None:
                raise ValueError(f"no workspace {args.workspace} (see: segments workspace list)")
            printed = {"workspaceId": args.workspace}
        else:
            printed = (await create_workspace(db, "Demo", now=now)).as_json()
        with tqdm(total=0, unit="doc", desc="demo data", file=sys.stderr) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            loaded = await load_demo(db, printed["workspaceId"], now=now, people=args.people, progress=progress)
        return {**printed, "loaded": loaded}

    try:
        result = asyncio.run(_with_store(action))
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2))
    return 0


def _import_members(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tqdm import tqdm

    from rules.clock import SystemClock
    from rules.collections import SEGMENTS
    from rules.csv_import import CsvImportError, ImportMode, import_members
    from rules.membership import MembershipEngine, NotAManualSegment

    path = Path(args.file)
    if not path.is_file():
        print(f"error: FILE: no file {args.file}", file=sys.stderr)
        return 2

    async def action(db):
        # A segment id names its workspace; the CLI has the whole store.
        segment = await db[SEGMENTS].find_one({"_id": args.segment}, {"ws": 1})
        if segment is None:
            raise ValueError(f"SEGMENT: no segment {args.segment}")
        with path.open("rb") as file, tqdm(total=path.stat().st_size, unit="B", unit_scale=True, desc="import", file=sys.stderr) as bar:
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
                on_progress=lambda rows: bar.update(file.tell() - bar.n),
            )
            bar.update(bar.total - bar.n)
        return report

    try:
        report = asyncio.run(_with_store(action))
    except (ValueError, CsvImportError, NotAManualSegment) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(report.as_json(), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="segments", description="Live audience segments service")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the API (GraphiQL at /graphql)")
    serve.add_argument("--port", type=int, help="port (default 8000 or SEGMENTS_PORT)")
    serve.set_defaults(func=_serve)

    workspace = sub.add_parser("workspace", help="manage workspaces")
    ws_sub = workspace.add_subparsers(dest="workspace_command", required=True)
    create = ws_sub.add_parser("create", help="create a workspace and print its keys as JSON")
    create.add_argument("name")
    create.set_defaults(func=_workspace_create)
    ws_list = ws_sub.add_parser("list", help="list workspaces")
    ws_list.set_defaults(func=_workspace_list)

    demo = sub.add_parser("demo", help="load a realistic demo data set (creates a workspace unless --workspace)")
    demo.add_argument("--workspace", help="an existing, empty workspace id")
    demo.add_argument("--people", type=int, default=2000, help="how many people (default 2000)")
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
