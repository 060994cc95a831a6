"""Track API routes of manual segments, as Customer.io's:
`POST /api/v1/segments/{segmentId}/add_customers?id_type=id|email|cio_id`
and `/remove_customers`, body `{"ids": [...]}` (1 to 1,000 identifiers).

Authentication, body reading and error responses are the Track API's own
(api/track.py). The answer reports what happened to each identifier
(docs/manual-segments.md); 404 for an unknown segment, 400 for a
data-driven one or a bad body.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from api.services import services_of
from api.track import MAX_V1_BYTES, _error_response, _json_body, _Refused, _workspace
from rules.people.identifiers import IdKind
from rules.manual.changes import Direction, ManualChangeInvalid, ManualChangeReport, Outcome, change_membership
from rules.membership.engine import NotAManualSegment
from rules.segments.records import SegmentNotFound

log = logging.getLogger("segments.track")

# The answer's members: the identifiers of each outcome, by direction.
_ANSWER_KEYS = {
    Direction.ADD: {Outcome.ADDED: "added", Outcome.ALREADY_MEMBER: "alreadyMembers", Outcome.NOT_FOUND: "notFound"},
    Direction.REMOVE: {Outcome.REMOVED: "removed", Outcome.ALREADY_ABSENT: "alreadyAbsent", Outcome.NOT_FOUND: "notFound"},
}


def _id_kind(request: Request) -> IdKind:
    raw = request.query_params.get("id_type", IdKind.ID.value)
    try:
        return IdKind(raw)
    except ValueError:
        raise _Refused(400, f"id_type: must be id, email or cio_id, got {raw!r}") from None


def _identifiers(body: Any) -> list[str]:
    if not isinstance(body, dict) or not isinstance(body.get("ids"), list):
        raise _Refused(400, 'ids: the body must be an object {"ids": [...]} with a list of identifiers')
    identifiers = []
    for position, value in enumerate(body["ids"]):
        # Customer.io takes numeric profile ids too.
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise _Refused(400, f"ids[{position}]: must be a string, got {type(value).__name__}")
        identifiers.append(value)
    return identifiers


def _answer(report: ManualChangeReport) -> dict[str, Any]:
    keys = _ANSWER_KEYS[report.direction]
    answer: dict[str, list[Any]] = {key: [] for key in keys.values()} | {"invalid": []}
    for outcome in report.outcomes:
        if outcome.outcome is Outcome.INVALID:
            answer["invalid"].append({"id": outcome.identifier, "error": outcome.message})
        else:
            answer[keys[outcome.outcome]].append(outcome.identifier)
    return answer


def _route(action: str, direction: Direction) -> Route:
    path = f"/api/v1/segments/{{segment_id}}/{action}"

    async def endpoint(request: Request) -> JSONResponse:
        services = services_of(request)
        try:
            workspace = await _workspace(request)
            kind = _id_kind(request)
            identifiers = _identifiers(await _json_body(request, MAX_V1_BYTES))
            report = await change_membership(
                services.db,
                services.membership,
                workspace.id,
                request.path_params["segment_id"],
                direction=direction,
                kind=kind,
                identifiers=identifiers,
            )
        except _Refused as refused:
            return _error_response(refused.status, refused.message)
        except SegmentNotFound as missing:
            return _error_response(404, str(missing))
        except (NotAManualSegment, ManualChangeInvalid) as refused:
            return _error_response(400, str(refused))
        except Exception:  # the store failed; SDKs retry a 503
            log.exception("track POST %s failed", path)
            return _error_response(503, "the store could not complete this change; retry the request")
        return JSONResponse(_answer(report))

    return Route(path, endpoint, methods=["POST"])


routes = [_route("add_customers", Direction.ADD), _route("remove_customers", Direction.REMOVE)]
