"""CSV exports, authorized by the app key (`Authorization: Bearer <appApiKey>`).

- `GET /exports/segments/{id}.csv?attributes=plan,country`: a segment's
  members with `entered_at`;
- `GET /exports/people.csv?segmentId=&notInSegmentId=&email=&profileId=&attributePath=&attributeValue=&attributes=`:
  any people search, with the filters of GraphQL `people`
  (`attributeValue` is JSON, as in GraphQL: `"pro"`, `30000`, `true`).

Both neutralise spreadsheet formulas in text cells (a leading `'`);
`?raw=true` gives the values as stored.

Rows are streamed as they are read (rules/people/csv_export.py), never built whole.
Errors are JSON: 401 without a valid app key, 404 for an unknown segment,
400 for a bad parameter.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from api.graphql_app import UNAUTHENTICATED, _workspace_for
from api.services import services_of
from resolvers.errors import UserError
from resolvers.people.queries import AttributeFilterInput, PeopleFilter, people_filter_of
from rules.store.collections import PEOPLE
from rules.people.csv_export import ExportColumns, ExportInvalid, attribute_paths, csv_chunks, file_name, raw_values
from rules.people.segment_members import all_segment_people
from rules.segments.records import find_segment
from rules.store.types import Database

Rows = AsyncIterator[tuple[dict[str, Any], float | None]]


def _error(status: int, message: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"errors": [{"message": message}]}, status_code=status, headers=headers)


def _csv(columns: ExportColumns, rows: Rows, name: str) -> StreamingResponse:
    return StreamingResponse(
        csv_chunks(columns, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def _members(db: Database, workspace_id: str, segment_id: str, match: dict[str, Any], people_filter: PeopleFilter) -> Rows:
    async for member in all_segment_people(db, workspace_id, segment_id, match=match):
        if people_filter.keeps(member.person):
            yield member.person, member.entered_at


async def _people(db: Database, match: dict[str, Any], people_filter: PeopleFilter) -> Rows:
    async for person in db[PEOPLE].find(match).sort([("_id", 1)]):
        if people_filter.keeps(person):
            yield person, None


async def _people_filter(db: Database, workspace_id: str, params: Any) -> PeopleFilter:
    path, raw_value = params.get("attributePath"), params.get("attributeValue")
    attribute = None
    if path is not None or raw_value is not None:
        if path is None or raw_value is None:
            raise ExportInvalid("attributePath and attributeValue: give both or neither")
        try:
            value = json.loads(raw_value)
        except ValueError:
            raise ExportInvalid(f'attributeValue: not JSON (a string needs quotes: "pro"), got {raw_value!r}') from None
        attribute = AttributeFilterInput(path=path, value=value)
    return await people_filter_of(
        db,
        workspace_id,
        email=params.get("email"),
        profile_id=params.get("profileId"),
        attribute=attribute,
        segment_id=params.get("segmentId"),
        not_in_segment_id=params.get("notInSegmentId"),
    )


async def _export(request: Request, *, segment_path: bool) -> Response:
    services = services_of(request)
    workspace = await _workspace_for(services.db, request.headers.get("authorization"))
    if workspace is None:
        return _error(401, UNAUTHENTICATED)
    db, now = services.db, services.clock.now()
    try:
        attributes = attribute_paths(request.query_params.get("attributes"))
        raw = raw_values(request.query_params.get("raw"))
        if segment_path:
            people_filter = PeopleFilter(segment_id=request.path_params["segment_id"])
        else:
            people_filter = await _people_filter(db, workspace.id, request.query_params)
        match = people_filter.match(workspace.id)
    except (ExportInvalid, UserError) as invalid:
        return _error(400, str(invalid))
    if people_filter.segment_id is None:
        return _csv(ExportColumns(attributes=attributes, raw=raw), _people(db, match, people_filter), file_name("people", "search", now))
    segment = await find_segment(db, workspace.id, people_filter.segment_id)
    if segment is None:
        return _error(404, f"segment {people_filter.segment_id!r} does not exist in this workspace")
    return _csv(
        ExportColumns(attributes=attributes, entered_at=True, raw=raw),
        _members(db, workspace.id, segment.id, match, people_filter),
        file_name(segment.name, "members", now),
    )


async def export_segment(request: Request) -> Response:
    return await _export(request, segment_path=True)


async def export_people(request: Request) -> Response:
    return await _export(request, segment_path=False)


routes = [
    Route("/exports/segments/{segment_id}.csv", export_segment, methods=["GET"]),
    Route("/exports/people.csv", export_people, methods=["GET"]),
]
