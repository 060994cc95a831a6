"""The Track API: Customer.io-compatible ingestion routes (docs/track-api.md).

HTTP Basic `siteId:trackApiKey`. Each route turns its JSON body into
validated operations (rules/ingest/parse.py) before anything is written,
hands them to the workspace's group-commit writer (rules/ingest/group_commit.py)
and answers 200 `{}` once they are written and the change listeners were
told. Problems get 400/401/404 with `{"meta": {"error": "<field>: <problem>"}}`.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
from typing import Any, Callable, Sequence

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from api.services import services_of
from rules.ingest import parse
from rules.ingest.apply import Rejected
from rules.ingest.operations import IngestError, Operation
from rules.workspaces import Workspace, authenticate_track

log = logging.getLogger("segments.track")

# Customer.io: v2 batch requests up to 500 KB, v2 entity requests up to 32 KB.
# v1 bodies are bounded by the largest thing they may carry (100,000 bytes of event data).
MAX_BATCH_BYTES = 500_000
MAX_ENTITY_BYTES = 32_000
MAX_V1_BYTES = 128_000
# Data may nest 32 levels (rules/ingest/parse.py) inside a few levels of envelope. The
# decoder's own limit depends on the C stack left in the calling thread, so it is not relied on.
MAX_BODY_NESTING = 64


class _Refused(Exception):
    """Ends a request early with an error response."""

    def __init__(self, status: int, message: str, *, errors: Sequence[IngestError] = ()) -> None:
        self.status = status
        self.message = message
        self.errors = list(errors)


def _error_response(status: int, message: str, errors: Sequence[IngestError] = ()) -> JSONResponse:
    body: dict[str, Any] = {"meta": {"error": message}}
    if len(errors) > 1:
        body["errors"] = [{"field": e.field, "message": str(e)} for e in errors]
    headers = {"WWW-Authenticate": 'Basic realm="track"'} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


async def _workspace(request: Request) -> Workspace:
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise _Refused(401, "unauthorized: HTTP Basic auth with siteId:trackApiKey is required")
    try:
        site_id, separator, key = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise _Refused(401, "unauthorized: malformed Basic credentials") from None
    services = services_of(request)
    workspace = await authenticate_track(services.db, site_id, key) if separator else None
    if workspace is None:
        raise _Refused(401, "unauthorized: unknown siteId or trackApiKey")
    return workspace


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def _nesting_exceeds(value: Any, limit: int) -> bool:
    pending = [(value, 1)]
    while pending:
        current, depth = pending.pop()
        if isinstance(current, (dict, list)):
            if depth > limit:
                return True
            children = current.values() if isinstance(current, dict) else current
            pending.extend((child, depth + 1) for child in children)
    return False


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


async def read_capped(request: Request, limit: int) -> bytes:
    """The raw body, read as it streams in; _Refused(400) as soon as it passes `limit` bytes."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _Refused(400, f"body: larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _json_body(request: Request, limit: int, *, optional: bool = False) -> Any:
    """The parsed body; `optional` bodies may be empty (a DELETE with or without `{}`)."""
    raw = await read_capped(request, limit)
    if not raw.strip() and optional:
        return {}
    return parse_json_body(raw)


def parse_json_body(raw: bytes) -> Any:
    """A request body as JSON; _Refused(400) naming the problem."""
    if not raw.strip():
        raise _Refused(400, "body: a JSON object is required")
    try:
        body = json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)
        if _nesting_exceeds(body, MAX_BODY_NESTING):
            raise RecursionError
        # A "\ud800" escape decodes to a lone surrogate, which no store can keep as text.
        json.dumps(body, ensure_ascii=False).encode("utf-8")
        return body
    except UnicodeDecodeError:
        raise _Refused(400, "body: not UTF-8") from None
    except UnicodeEncodeError:
        raise _Refused(400, "body: a string holds a lone surrogate escape (\\ud800-\\udfff), which is not text") from None
    except RecursionError:
        raise _Refused(400, f"body: nested too deeply (more than {MAX_BODY_NESTING} levels)") from None
    except ValueError as error:
        raise _Refused(400, f"body: malformed JSON ({error})") from None


def _route(path: str, method: str, limit: int, build: Callable[[Request, Any], list[Operation]], *, optional_body: bool = False, batch: bool = False) -> Route:
    """A Track API route: authenticate, read and validate the whole body, write, answer."""

    async def endpoint(request: Request) -> JSONResponse:
        try:
            workspace = await _workspace(request)
            body = await _json_body(request, limit, optional=optional_body)
            try:
                operations = build(request, body)
            except IngestError as error:
                raise _Refused(error.status, str(error), errors=[error]) from None
            outcome = await services_of(request).track_writer.submit(workspace.id, operations)
        except _Refused as refused:
            return _error_response(refused.status, refused.message, refused.errors)
        except Exception:  # last resort: the store failed; SDKs retry a 503
            log.exception("track %s %s failed", method, path)
            return _error_response(503, "the store could not complete this write; retry the request")
        if isinstance(outcome, Rejected):
            return _error_response(400 if batch else outcome.error.status, str(outcome.error))
        return JSONResponse({})

    return Route(path, endpoint, methods=[method])


def _batch(request: Request, body: Any) -> list[Operation]:
    operations, errors = parse.v2_batch(body)
    if errors:
        # One bad operation rejects the whole batch: nothing is written.
        raise _Refused(400, f"{errors[0]}" + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""), errors=errors)
    return operations


def _identifier(request: Request) -> str:
    return request.path_params["identifier"]


routes = [
    _route("/api/v1/customers/{identifier}", "PUT", MAX_V1_BYTES, lambda r, b: [parse.v1_identify(_identifier(r), b)]),
    _route("/api/v1/customers/{identifier}", "DELETE", MAX_V1_BYTES, lambda r, b: [parse.v1_delete(_identifier(r))], optional_body=True),
    _route("/api/v1/customers/{identifier}/events", "POST", MAX_V1_BYTES, lambda r, b: [parse.v1_event(_identifier(r), b)]),
    _route("/api/v1/events", "POST", MAX_V1_BYTES, lambda r, b: [parse.v1_anonymous_event(b)]),
    _route("/api/v1/customers/{identifier}/devices", "PUT", MAX_V1_BYTES, lambda r, b: [parse.v1_add_device(_identifier(r), b)]),
    _route(
        "/api/v1/customers/{identifier}/devices/{token}",
        "DELETE",
        MAX_V1_BYTES,
        lambda r, b: [parse.v1_delete_device(_identifier(r), r.path_params["token"])],
        optional_body=True,
    ),
    _route("/api/v1/customers/{identifier}/suppress", "POST", MAX_V1_BYTES, lambda r, b: [parse.v1_set_suppressed(_identifier(r), True)], optional_body=True),
    _route("/api/v1/customers/{identifier}/unsuppress", "POST", MAX_V1_BYTES, lambda r, b: [parse.v1_set_suppressed(_identifier(r), False)], optional_body=True),
    _route("/api/v1/merge_customers", "POST", MAX_V1_BYTES, lambda r, b: [parse.v1_merge(b)]),
    _route("/api/v2/entity", "POST", MAX_ENTITY_BYTES, lambda r, b: [parse.v2_operation(b)]),
    _route("/api/v2/batch", "POST", MAX_BATCH_BYTES, _batch, batch=True),
]
