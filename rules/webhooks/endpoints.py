"""Webhook endpoints: the repository over `webhook_endpoints` and the
validation of what a workspace asks for.

An endpoint follows some segments of its workspace (or all, `segmentIds`
None) for some change kinds, and reads the membership history from its own
`cursor` (a change sequence number, rules/membership/change_log.py): the history is
the outbox, so nothing is lost between recording a change and delivering it.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from rules.membership.change_log import current_sequence
from rules.membership.changefeed import ChangeKind
from rules.store.collections import SEGMENTS, WEBHOOK_DELIVERIES, WEBHOOK_ENDPOINTS
from rules.segments.records import InputProblem
from rules.store.types import Database
from rules.webhooks.secrets import SecretBox, new_signing_secret

MAX_URL_LENGTH = 2048
MIN_TIMEOUT_SECONDS = 1.0
MAX_TIMEOUT_SECONDS = 30.0
DEFAULT_TIMEOUT_SECONDS = 10.0
MAX_FOLLOWED_SEGMENTS = 1000


@dataclass(frozen=True, kw_only=True)
class ServiceAddress:
    """Where this service listens: endpoints may not point back at it."""

    host: str
    port: int

    def is_own(self, host: str, port: int) -> bool:
        """The rule (checked on the URL as written, without DNS): the same port
        on a loopback or unspecified address, `localhost`, the configured host
        or this machine's name."""
        if port != self.port:
            return False
        host = host.lower().rstrip(".")
        names = {"localhost", self.host.lower(), socket.gethostname().lower(), socket.getfqdn().lower()}
        if host in names or host.endswith(".localhost"):
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return address.is_loopback or address.is_unspecified


@dataclass(frozen=True, kw_only=True)
class WebhookEndpoint:
    id: str
    workspace_id: str
    url: str
    segment_ids: tuple[str, ...] | None  # None: every segment of the workspace
    kinds: tuple[ChangeKind, ...]
    enabled: bool
    disabled_reason: str | None
    timeout_seconds: float
    sealed_secret: str
    cursor: int  # the last change sequence number handed to a delivery
    created_at: float
    updated_at: float

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> WebhookEndpoint:
        return cls(
            id=doc["_id"],
            workspace_id=doc["ws"],
            url=doc["url"],
            segment_ids=None if doc.get("segmentIds") is None else tuple(doc["segmentIds"]),
            kinds=tuple(ChangeKind(k) for k in doc["kinds"]),
            enabled=doc["enabled"],
            disabled_reason=doc.get("disabledReason"),
            timeout_seconds=doc["timeoutSeconds"],
            sealed_secret=doc["secret"],
            cursor=doc.get("cursor", 0),
            created_at=doc["createdAt"],
            updated_at=doc["updatedAt"],
        )

    def follows(self, change: dict[str, Any]) -> bool:
        """Whether a change record is for this endpoint."""
        segment_followed = self.segment_ids is None or change["segmentId"] in self.segment_ids
        return segment_followed and change["kind"] in self.kinds


@dataclass(frozen=True, kw_only=True)
class EndpointDraft:
    url: str
    segment_ids: list[str] | None = None
    kinds: list[ChangeKind] = field(default_factory=lambda: list(ChangeKind))
    enabled: bool = True
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS


@dataclass(frozen=True, kw_only=True)
class EndpointPatch:
    """Fields to change; None leaves a field as it is (`follow_all_segments` sets segment_ids to all)."""

    url: str | None = None
    segment_ids: list[str] | None = None
    follow_all_segments: bool = False
    kinds: list[ChangeKind] | None = None
    enabled: bool | None = None
    timeout_seconds: float | None = None


class EndpointInvalid(Exception):
    def __init__(self, problems: list[InputProblem]) -> None:
        super().__init__("; ".join(f"{p.path}: {p.message}" for p in problems))
        self.problems = problems


class EndpointNotFound(Exception):
    pass


def url_problems(url: str, own: ServiceAddress) -> list[InputProblem]:
    def problem(code: str, message: str) -> list[InputProblem]:
        return [InputProblem(code=code, path="/url", message=message)]

    if len(url) > MAX_URL_LENGTH:
        return problem("too_long", f"at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        return problem("invalid_url", f"not a URL: {error}")
    if parts.scheme not in ("http", "https"):
        return problem("invalid_scheme", "must start with http:// or https://")
    if not parts.hostname:
        return problem("invalid_url", "has no host")
    if parts.username or parts.password:
        # they would be stored in clear with the URL; the signature authenticates us instead
        return problem("credentials_in_url", "must not contain a user name or password")
    if any(c.isspace() for c in url):
        return problem("invalid_url", "must not contain spaces")
    if own.is_own(parts.hostname, port):
        return problem("own_address", "points at this service itself; deliveries never go to its own routes")
    return []


def _timeout_problems(timeout: float) -> list[InputProblem]:
    if not MIN_TIMEOUT_SECONDS <= timeout <= MAX_TIMEOUT_SECONDS:
        message = f"must be between {MIN_TIMEOUT_SECONDS:g} and {MAX_TIMEOUT_SECONDS:g} seconds, got {timeout:g}"
        return [InputProblem(code="out_of_range", path="/timeoutSeconds", message=message)]
    return []


def _kinds_problems(kinds: list[ChangeKind]) -> list[InputProblem]:
    if not kinds:
        return [InputProblem(code="empty", path="/kinds", message="at least one of ENTERED, EXITED")]
    return []


async def _segment_problems(db: Database, workspace_id: str, segment_ids: list[str]) -> list[InputProblem]:
    if not segment_ids:
        return [InputProblem(code="empty", path="/segmentIds", message="at least one segment (or leave it out to follow all)")]
    if len(segment_ids) > MAX_FOLLOWED_SEGMENTS:
        return [InputProblem(code="too_many", path="/segmentIds", message=f"at most {MAX_FOLLOWED_SEGMENTS} segments")]
    query = {"ws": workspace_id, "_id": {"$in": list(dict.fromkeys(segment_ids))}}
    found = {doc["_id"] async for doc in db[SEGMENTS].find(query, {"_id": 1})}
    return [
        InputProblem(code="not_found", path=f"/segmentIds/{i}", message=f"segment {segment_id!r} does not exist in this workspace")
        for i, segment_id in enumerate(segment_ids)
        if segment_id not in found
    ]


class WebhookEndpoints:
    """Create, change, delete and list the endpoints of a workspace."""

    def __init__(self, db: Database, box: SecretBox, own: ServiceAddress) -> None:
        self._db = db
        self._box = box
        self._own = own

    async def create(self, workspace_id: str, draft: EndpointDraft, *, now: float) -> tuple[WebhookEndpoint, str]:
        """The endpoint and its signing secret (the only time it is shown)."""
        problems = url_problems(draft.url, self._own) + _kinds_problems(draft.kinds) + _timeout_problems(draft.timeout_seconds)
        if draft.segment_ids is not None:
            problems += await _segment_problems(self._db, workspace_id, draft.segment_ids)
        if problems:
            raise EndpointInvalid(problems)
        secret = new_signing_secret()
        doc = {
            "_id": f"whe_{secrets.token_hex(8)}",
            "ws": workspace_id,
            "url": draft.url,
            "segmentIds": None if draft.segment_ids is None else list(dict.fromkeys(draft.segment_ids)),
            "kinds": [str(k) for k in dict.fromkeys(draft.kinds)],
            "enabled": draft.enabled,
            "disabledReason": None,
            "timeoutSeconds": float(draft.timeout_seconds),
            "secret": self._box.seal(secret),
            # changes recorded from now on
            "cursor": await current_sequence(self._db),
            "createdAt": now,
            "updatedAt": now,
        }
        await self._db[WEBHOOK_ENDPOINTS].insert_many([doc])
        return WebhookEndpoint.from_document(doc), secret

    async def update(self, workspace_id: str, endpoint_id: str, patch: EndpointPatch, *, now: float) -> WebhookEndpoint:
        await self.get(workspace_id, endpoint_id)
        problems: list[InputProblem] = []
        changes: dict[str, Any] = {"updatedAt": now}
        if patch.url is not None:
            problems += url_problems(patch.url, self._own)
            changes["url"] = patch.url
        if patch.follow_all_segments and patch.segment_ids is not None:
            problems.append(InputProblem(code="conflict", path="/segmentIds", message="give segmentIds or followAllSegments, not both"))
        elif patch.follow_all_segments:
            changes["segmentIds"] = None
        elif patch.segment_ids is not None:
            problems += await _segment_problems(self._db, workspace_id, patch.segment_ids)
            changes["segmentIds"] = list(dict.fromkeys(patch.segment_ids))
        if patch.kinds is not None:
            problems += _kinds_problems(patch.kinds)
            changes["kinds"] = [str(k) for k in dict.fromkeys(patch.kinds)]
        if patch.timeout_seconds is not None:
            problems += _timeout_problems(patch.timeout_seconds)
            changes["timeoutSeconds"] = float(patch.timeout_seconds)
        if patch.enabled is not None:
            changes["enabled"] = patch.enabled
            if patch.enabled:
                # Enabled again: it resumes where it stopped, and a given-up delivery stays FAILED.
                changes["disabledReason"] = None
        if problems:
            raise EndpointInvalid(problems)
        await self._db[WEBHOOK_ENDPOINTS].update_one({"_id": endpoint_id, "ws": workspace_id}, {"$set": changes})
        return await self.get(workspace_id, endpoint_id)

    async def delete(self, workspace_id: str, endpoint_id: str) -> WebhookEndpoint:
        endpoint = await self.get(workspace_id, endpoint_id)
        await self._db[WEBHOOK_ENDPOINTS].delete_one({"_id": endpoint_id, "ws": workspace_id})
        await self._db[WEBHOOK_DELIVERIES].delete_many({"ws": workspace_id, "endpointId": endpoint_id})
        return endpoint

    async def get(self, workspace_id: str, endpoint_id: str) -> WebhookEndpoint:
        doc = await self._db[WEBHOOK_ENDPOINTS].find_one({"_id": endpoint_id, "ws": workspace_id})
        if doc is None:
            raise EndpointNotFound(endpoint_id)
        return WebhookEndpoint.from_document(doc)

    async def list(self, workspace_id: str) -> list[WebhookEndpoint]:
        cursor = self._db[WEBHOOK_ENDPOINTS].find({"ws": workspace_id}).sort([("createdAt", 1), ("_id", 1)])
        return [WebhookEndpoint.from_document(doc) async for doc in cursor]
