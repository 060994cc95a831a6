"""Customer.io's App API, the segment and people routes (docs/app-api.md):
same paths, parameters and response shapes, `Authorization: Bearer <appApiKey>`.

- `GET /v1/segments`, `POST /v1/segments`, `GET|DELETE /v1/segments/{id}`
- `GET /v1/segments/{id}/customer_count`, `/membership?start=&limit=`, `/used_by`
- `GET /v1/customers/{identifier}/segments?id_type=id|email|cio_id`
- `POST /v1/customers?start=&limit=` (people search, `{"filter": ...}`)
- `POST /v1/exports/customers`, `GET /v1/exports`, `GET /v1/exports/{id}`,
  `GET /v1/exports/{id}/download` -> `{"url"}`; the URL serves the CSV for 15 minutes.

Errors are Customer.io's `{"meta": {"error": "..."}}` (what customerio-node
reads): 401 without a valid app key, 404 for what does not exist in the
key's workspace, 400 naming the bad parameter.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any, Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from api.graphql_app import _workspace_for
from api.services import Services, services_of
from api.track import _Refused, _json_body
from rules.people.csv_export import ExportColumns, csv_chunks, file_name
from rules.people.identifiers import IdKind, resolve_people
from rules.manual.changes import identifier_of_kind
from rules.membership.journal import segments_of_person
from rules.people.exports import (
    PeopleExport,
    create_export,
    export_for_token,
    find_export,
    issue_download_token,
    list_exports,
)
from rules.people.search import PeopleSearchInvalid, matching_people, parse_filter
from rules.people.segment_members import segment_people
from rules.segments.records import (
    Segment,
    SegmentInUse,
    SegmentInvalid,
    SegmentNotFound,
    SegmentState,
    SegmentType,
    find_segment,
    list_segments,
    referrers_of,
)
from rules.segments.service import SegmentDraft, SegmentService
from rules.workspaces import Workspace

log = logging.getLogger("segments.app_api")

MAX_BODY_BYTES = 128_000
MEMBERSHIP_MAX_LIMIT = 30_000
SEARCH_MAX_LIMIT = 1_000
DEFAULT_LIMIT = 1_000
_STATES = {SegmentState.READY: "finished", SegmentState.BUILDING: "build", SegmentState.FAILED: "failed"}
_TYPES = {SegmentType.DATA_DRIVEN: "dynamic", SegmentType.MANUAL: "manual"}


def _error(status: int, message: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"meta": {"error": message}}, status_code=status, headers=headers)


def segment_json(segment: Segment) -> dict[str, Any]:
    """Customer.io's segment object; ids are our string ids."""
    building = segment.state is SegmentState.BUILDING
    progress = segment.progress
    return {
        "id": segment.id,
        "deduplicate_id": f"{segment.id}:{int(segment.updated_at)}",
        "name": segment.name,
        "description": segment.description,
        "state": _STATES[segment.state],
        "progress": (100 * progress.done // progress.total if progress.total else 0) if building else None,
        "type": _TYPES[segment.type],
        "tags": None,
        "created_at": int(segment.created_at),
        "updated_at": int(segment.updated_at),
    }


def _identifiers(people: list[dict[str, Any]], next_cursor: str) -> dict[str, Any]:
    return {
        "identifiers": [{"id": p.get("id"), "email": p.get("email"), "cio_id": p["_id"]} for p in people],
        # Customer.io's legacy list: profile ids, "" for people without one.
        "ids": [p.get("id") or "" for p in people],
        "next": next_cursor,
    }


def _limit(request: Request, maximum: int) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return min(DEFAULT_LIMIT, maximum)
    try:
        limit = int(raw)
    except ValueError:
        raise _Refused(400, f"limit: must be a whole number, got {raw!r}") from None
    if not 1 <= limit <= maximum:
        raise _Refused(400, f"limit: must be between 1 and {maximum}, got {limit}")
    return limit


async def _page(people: AsyncGenerator[dict[str, Any], None], limit: int) -> tuple[list[dict[str, Any]], str]:
    """Up to `limit` people and the cursor of the next page ("" when there is none)."""
    page: list[dict[str, Any]] = []
    async with aclosing(people) as stream:  # stops the store cursor when the page is full
        async for person in stream:
            if len(page) == limit:
                return page, page[-1]["_id"]
            page.append(person)
    return page, ""


async def _segment(services: Services, workspace: Workspace, segment_id: str) -> Segment:
    segment = await find_segment(services.db, workspace.id, segment_id)
    if segment is None:
        raise _Refused(404, f"segment {segment_id!r} does not exist in this workspace")
    return segment


Handler = Callable[[Request, Services, Workspace], Awaitable[Response]]


def _route(path: str, method: str, handler: Handler) -> Route:
    async def endpoint(request: Request) -> Response:
        services = services_of(request)
        workspace = await _workspace_for(services.db, request.headers.get("authorization"))
        if workspace is None:
            return _error(401, "unauthorized: send Authorization: Bearer <appApiKey> (the app API key of a workspace)")
        try:
            return await handler(request, services, workspace)
        except _Refused as refused:
            return _error(refused.status, refused.message)
        except PeopleSearchInvalid as invalid:
            return _error(400, str(invalid))

    return Route(path, endpoint, methods=[method])


# -- segments ------------------------------------------------------------------------


async def get_segments(request: Request, services: Services, workspace: Workspace) -> Response:
    return JSONResponse({"segments": [segment_json(s) for s in await list_segments(services.db, workspace.id)]})


async def create_segment(request: Request, services: Services, workspace: Workspace) -> Response:
    body = await _json_body(request, MAX_BODY_BYTES)
    fields = body.get("segment") if isinstance(body, dict) else None
    if not isinstance(fields, dict):
        raise _Refused(400, 'segment: the body must be {"segment": {"name": ..., "description": ...}}')
    name, description = fields.get("name"), fields.get("description")
    if not isinstance(name, str):
        raise _Refused(400, "segment.name: required, a string")
    if description is not None and not isinstance(description, str):
        raise _Refused(400, "segment.description: must be a string")
    service = SegmentService(services.db, services.clock, services.membership)
    try:
        segment = await service.create(workspace.id, SegmentDraft(name=name, description=description, type=SegmentType.MANUAL))
    except SegmentInvalid as invalid:
        raise _Refused(400, "; ".join(f"segment.{p.path.lstrip('/')}: {p.message}" for p in invalid.problems)) from None
    return JSONResponse({"segment": segment_json(segment)})


async def get_segment(request: Request, services: Services, workspace: Workspace) -> Response:
    return JSONResponse({"segment": segment_json(await _segment(services, workspace, request.path_params["segment_id"]))})


async def delete_segment(request: Request, services: Services, workspace: Workspace) -> Response:
    service = SegmentService(services.db, services.clock, services.membership)
    try:
        await service.delete(workspace.id, request.path_params["segment_id"])
    except SegmentNotFound as missing:
        raise _Refused(404, str(missing)) from None
    except SegmentInUse as in_use:
        raise _Refused(400, str(in_use)) from None
    return Response(status_code=204)


async def customer_count(request: Request, services: Services, workspace: Workspace) -> Response:
    segment = await _segment(services, workspace, request.path_params["segment_id"])
    return JSONResponse({"segment_id": segment.id, "count": segment.member_count})


async def membership(request: Request, services: Services, workspace: Workspace) -> Response:
    segment = await _segment(services, workspace, request.path_params["segment_id"])
    limit = _limit(request, MEMBERSHIP_MAX_LIMIT)
    members = segment_people(services.db, workspace.id, segment.id, match={"ws": workspace.id}, after=request.query_params.get("start") or None)
    people, next_cursor = await _page((m.person async for m in members), limit)
    return JSONResponse(_identifiers(people, next_cursor))


async def used_by(request: Request, services: Services, workspace: Workspace) -> Response:
    """Customer.io lists the campaigns and newsletters that use a segment; here
    segments use segments, so `segments` lists those whose condition refers to it."""
    segment = await _segment(services, workspace, request.path_params["segment_id"])
    referrers = referrers_of(segment.id, await list_segments(services.db, workspace.id))
    used = {"campaigns": [], "sent_newsletters": [], "draft_newsletters": [], "segments": [s.id for s in referrers]}
    return JSONResponse({"segment_id": segment.id, "used_by": used})


# -- customers -------------------------------------------------------------------------


async def customer_segments(request: Request, services: Services, workspace: Workspace) -> Response:
    raw_kind = request.query_params.get("id_type", IdKind.ID.value)
    try:
        kind = IdKind(raw_kind)
    except ValueError:
        raise _Refused(400, f"id_type: must be id, email or cio_id, got {raw_kind!r}") from None
    identifier = identifier_of_kind(kind, request.path_params["identifier"])
    if isinstance(identifier, str):
        raise _Refused(400, f"customer_id: {identifier}")
    person_id = (await resolve_people(services.db, workspace.id, [identifier])).get(identifier)
    if person_id is None:
        raise _Refused(404, f"no person with {kind.value} {identifier.value!r} in this workspace")
    member_of = await segments_of_person(services.db, workspace.id, person_id)
    segments = [s for s in await list_segments(services.db, workspace.id) if s.id in member_of]
    return JSONResponse({"segments": [{"id": s.id, "name": s.name, "description": s.description} for s in segments]})


async def search_customers(request: Request, services: Services, workspace: Workspace) -> Response:
    limit = _limit(request, SEARCH_MAX_LIMIT)
    body = await _json_body(request, MAX_BODY_BYTES)
    if not isinstance(body, dict) or "filter" not in body:
        raise _Refused(400, 'filter: required, the body is {"filter": {...}}')
    node = parse_filter(body["filter"])
    people = matching_people(services.db, workspace.id, node, after=request.query_params.get("start") or None)
    return JSONResponse(_identifiers(*await _page(people, limit)))


# -- exports ---------------------------------------------------------------------------


def export_json(export: PeopleExport) -> dict[str, Any]:
    """Customer.io's export object; exports are done once created (the file is written on download)."""
    return {
        "id": export.id,
        "user_id": 0,
        "user_email": None,
        "total": export.total,
        "deduplicate_id": f"{export.id}:{int(export.created_at)}",
        "type": "customers",
        "failed": False,
        "status": "done",
        "description": f"Customers matching {json.dumps(export.filters, separators=(',', ':'))}",
        "downloads": export.downloads,
        "created_at": int(export.created_at),
        "updated_at": int(export.updated_at),
    }


async def _export(services: Services, workspace: Workspace, export_id: str) -> PeopleExport:
    export = await find_export(services.db, workspace.id, export_id)
    if export is None:
        raise _Refused(404, f"export {export_id!r} does not exist in this workspace")
    return export


async def create_customers_export(request: Request, services: Services, workspace: Workspace) -> Response:
    body = await _json_body(request, MAX_BODY_BYTES)
    if not isinstance(body, dict) or "filters" not in body:
        raise _Refused(400, 'filters: required, the body is {"filters": {...}, "attributes": [...]}')
    export = await create_export(services.db, workspace.id, body["filters"], body.get("attributes"), now=services.clock.now())
    return JSONResponse({"export": export_json(export)})


async def get_exports(request: Request, services: Services, workspace: Workspace) -> Response:
    return JSONResponse({"exports": [export_json(e) for e in await list_exports(services.db, workspace.id)]})


async def get_export(request: Request, services: Services, workspace: Workspace) -> Response:
    return JSONResponse({"export": export_json(await _export(services, workspace, request.path_params["export_id"]))})


async def download_export(request: Request, services: Services, workspace: Workspace) -> Response:
    export = await _export(services, workspace, request.path_params["export_id"])
    token = await issue_download_token(services.db, export, now=services.clock.now())
    url = request.url_for("export_file", export_id=export.id).include_query_params(token=token)
    return JSONResponse({"url": str(url)})


async def export_file(request: Request) -> Response:
    """The download link itself: no Authorization header, the token is the credential."""
    services = services_of(request)
    now = services.clock.now()
    export = await export_for_token(services.db, request.path_params["export_id"], request.query_params.get("token", ""), now=now)
    if export is None:
        return _error(404, "this download link does not exist or has expired; ask /v1/exports/{id}/download for a new one")
    node = parse_filter(export.filters, "filters")

    async def rows():
        async for person in matching_people(services.db, export.workspace_id, node):
            yield person, None

    return StreamingResponse(
        csv_chunks(ExportColumns(attributes=export.attributes), rows()),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{file_name("customers", "export", now)}"'},
    )


routes = [
    _route("/v1/segments", "GET", get_segments),
    _route("/v1/segments", "POST", create_segment),
    _route("/v1/segments/{segment_id}", "GET", get_segment),
    _route("/v1/segments/{segment_id}", "DELETE", delete_segment),
    _route("/v1/segments/{segment_id}/customer_count", "GET", customer_count),
    _route("/v1/segments/{segment_id}/membership", "GET", membership),
    _route("/v1/segments/{segment_id}/used_by", "GET", used_by),
    _route("/v1/customers/{identifier}/segments", "GET", customer_segments),
    _route("/v1/customers", "POST", search_customers),
    _route("/v1/exports/customers", "POST", create_customers_export),
    _route("/v1/exports", "GET", get_exports),
    _route("/v1/exports/{export_id}", "GET", get_export),
    _route("/v1/exports/{export_id}/download", "GET", download_export),
    Route("/v1/exports/{export_id}/file", export_file, methods=["GET"], name="export_file"),
]
