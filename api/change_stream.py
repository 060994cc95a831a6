"""`GET /api/v1/segments/{id}/changes?after=CURSOR&limit=N&wait=S`: a segment's
membership changes after a cursor, for clients without websockets
(`Authorization: Bearer <appApiKey>`).

The answer is `{"changes": [...], "cursor": "..."}`: the changes in order,
each with its own `cursor`, and the cursor to ask with next time (it may be
ahead of the last change when other segments' changes were passed over).
Without `after` the history is read from its beginning. `wait` (seconds, at
most 30) holds an empty answer open until a change arrives (long polling).
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from api.exports import _error
from api.graphql_app import UNAUTHENTICATED, _workspace_for
from api.services import services_of
from rules.membership.change_log import CursorInvalid, describe_changes, parse_cursor, read_segment_changes
from rules.segments.records import find_segment

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_WAIT_SECONDS = 30.0


def _number(request: Request, name: str, default: float, low: float, high: float) -> float:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name}: must be a number, got {raw[:40]!r}")
    if not low <= value <= high:
        raise ValueError(f"{name}: must be between {low:g} and {high:g}, got {raw}")
    return value


async def segment_changes(request: Request) -> JSONResponse:
    services = services_of(request)
    workspace = await _workspace_for(services.db, request.headers.get("authorization"))
    if workspace is None:
        return _error(401, UNAUTHENTICATED)
    segment_id = request.path_params["segment_id"]
    try:
        after = parse_cursor(request.query_params["after"]) if "after" in request.query_params else 0
    except CursorInvalid as invalid:
        return _error(400, f"after: {invalid}")
    try:
        limit = int(_number(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT))
        wait = _number(request, "wait", 0, 0, MAX_WAIT_SECONDS)
    except ValueError as invalid:
        return _error(400, str(invalid))
    if await find_segment(services.db, workspace.id, segment_id) is None:
        return _error(404, f"segment {segment_id!r} does not exist in this workspace")
    signal = services.webhooks.signal
    deadline = asyncio.get_running_loop().time() + wait
    with signal.listening() as wake:
        while True:
            wake.clear()
            changes, cursor = await read_segment_changes(services.db, workspace.id, segment_id, after, limit=limit)
            remaining = deadline - asyncio.get_running_loop().time()
            if changes or remaining <= 0:
                break
            await wake.wait(min(remaining, signal.poll_interval))
    return JSONResponse({"changes": await describe_changes(services.db, workspace.id, changes), "cursor": str(cursor)})


routes = [Route("/api/v1/segments/{segment_id}/changes", segment_changes, methods=["GET"])]
