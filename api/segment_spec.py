"""Segment-spec ingestion: `POST /v1/batch`, `/v1/identify`, `/v1/track`,
`/v1/page`, `/v1/screen`, `/v1/alias`, `/v1/group` (docs/segment-spec.md).

Authentication as Segment's HTTP API: HTTP Basic with the write key as the
user name and an empty password, or `writeKey` in the body. The write key is
the workspace's Track API key (unique per workspace, so it names the
workspace; no site id is needed). Bodies may be gzip-compressed
(`Content-Encoding: gzip`, as the RudderStack SDK sends by default).

Messages are parsed whole (rules/ingest/segment_spec_parse.py) before anything is
written; one invalid message rejects its request with 400 and nothing is
written. Then the operations go to the Track API's group-commit writer.
Answers: 200 `{"success": true}`; errors `{"code": ..., "message": ...}`,
the shape Segment's SDKs read.
"""

from __future__ import annotations

import base64
import binascii
import logging
import zlib
from typing import Any, Callable, Sequence

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from api.services import services_of
from api.track import _Refused, parse_json_body, read_capped
from rules.ingest.apply import Rejected
from rules.ingest.operations import IngestError, Operation
from rules.ingest.segment_spec_parse import MAX_BATCH_BYTES, MAX_MESSAGE_BYTES, MESSAGE_TYPES, batch_messages, single_message
from rules.workspaces import Workspace, authenticate_write_key

log = logging.getLogger("segments.segment_spec")

_CODES = {400: "invalid_request", 401: "unauthorized", 404: "not_found", 503: "unavailable"}


def _error(status: int, message: str, errors: Sequence[IngestError] = ()) -> JSONResponse:
    body: dict[str, Any] = {"code": _CODES.get(status, "error"), "message": message}
    if len(errors) > 1:
        body["errors"] = [{"field": e.field, "message": str(e)} for e in errors]
    headers = {"WWW-Authenticate": 'Basic realm="segment"'} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


async def _raw_body(request: Request, limit: int) -> bytes:
    """The body, gunzipped if it says so; 400 beyond `limit` bytes (compressed or not)."""
    raw = await read_capped(request, limit)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding != "gzip":
        raise _Refused(400, f"Content-Encoding: only gzip is supported, got {encoding!r}")
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        inflated = inflater.decompress(raw, limit + 1)
    except zlib.error as error:
        raise _Refused(400, f"body: not valid gzip ({error})") from None
    if len(inflated) > limit:
        raise _Refused(400, f"body: larger than {limit} bytes once decompressed")
    if not inflater.eof:
        raise _Refused(400, "body: truncated gzip stream")
    return inflated


def _write_key(request: Request, body: Any) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() == "basic" and encoded.strip():
        try:
            return base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")[0] or None
        except (binascii.Error, UnicodeDecodeError):
            return None
    key = body.get("writeKey") if isinstance(body, dict) else None
    return key if isinstance(key, str) and key else None


async def _workspace(request: Request, body: Any) -> Workspace:
    key = _write_key(request, body)
    if key is None:
        raise _Refused(401, "unauthorized: HTTP Basic auth with the write key (the workspace's Track API key) as the user name is required")
    services = services_of(request)
    workspace = await authenticate_write_key(services.db, key)
    if workspace is None:
        raise _Refused(401, "unauthorized: unknown write key")
    return workspace


def _route(path: str, limit: int, parse: Callable[[Any, float], list[Operation]]) -> Route:
    async def endpoint(request: Request) -> JSONResponse:
        services = services_of(request)
        try:
            body = parse_json_body(await _raw_body(request, limit))
            workspace = await _workspace(request, body)
            try:
                operations = parse(body, services.clock.now())
            except IngestError as error:
                raise _Refused(error.status, str(error), errors=[error]) from None
            outcome = await services.track_writer.submit(workspace.id, operations)
        except _Refused as refused:
            return _error(refused.status, refused.message, refused.errors)
        except Exception:  # the store failed; the SDKs retry a 5xx
            log.exception("POST %s failed", path)
            return _error(503, "the store could not complete this write; retry the request")
        if isinstance(outcome, Rejected):
            return _error(400, str(outcome.error))
        return JSONResponse({"success": True})

    return Route(path, endpoint, methods=["POST"])


def _batch(body: Any, received_at: float) -> list[Operation]:
    operations, errors = batch_messages(body, received_at=received_at)
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise _Refused(400, f"{errors[0]}{more}", errors=errors)
    return operations


def _single(type: str) -> Callable[[Any, float], list[Operation]]:
    return lambda body, received_at: single_message(type, body, received_at=received_at)


routes = [
    _route("/v1/batch", MAX_BATCH_BYTES, _batch),
    *(_route(f"/v1/{type}", MAX_MESSAGE_BYTES, _single(type)) for type in MESSAGE_TYPES),
]
