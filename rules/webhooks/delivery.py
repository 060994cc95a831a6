"""Delivery of membership changes to webhook endpoints.

The membership history is the outbox: each endpoint keeps a cursor (a
change sequence number) into it and reads only up to the stable horizon
(rules/membership/change_log.py), so a change recorded before a crash is delivered
after it, and none is skipped. Per endpoint, one delivery is in flight at a
time: the next batch is cut from the history only when the previous one was
delivered. That keeps every endpoint's changes in history order (so the
changes of one person to one segment arrive in order) at the cost of
head-of-line blocking while an endpoint fails, which is what a receiver
that applies changes in order needs.

A delivery (`webhook_deliveries`) is written before its first attempt, with
an id derived from (endpoint, first sequence number), so cutting the same
batch again after a crash finds it instead of duplicating it. Its body is
stored and re-sent unchanged with the same `webhook-id` on every attempt:
receivers de-duplicate on it (or on each change's `changeId`).

One service process delivers at a time (a lease, rules/store/leases.py); another
takes over when the lease is not renewed for `lease_seconds`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
import time
from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx
from pymongo import ReturnDocument

from rules.membership.change_log import ChangeSignal, changes_after, describe_changes, iso_time, stable_horizon
from rules.clock import Clock
from rules.store.collections import WEBHOOK_DELIVERIES, WEBHOOK_ENDPOINTS
from rules.store.leases import Leases
from rules.membership.journal import insert_ignoring_duplicates
from rules.store.types import Database
from rules.webhooks.endpoints import ServiceAddress, WebhookEndpoint
from rules.webhooks.secrets import SecretBox
from rules.webhooks.signing import signed_headers

log = logging.getLogger("segments")

EVENT_TYPE = "segment.membership.changed"
# Changes read from the history at once for the endpoints of a workspace
HISTORY_WINDOW = 200
DISPATCHER_LEASE = "webhook-dispatcher"


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"  # not yet delivered; `nextAttemptAt` says when it is tried
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"  # given up after retrying for `give_up_after`; the endpoint was disabled


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """Exponential backoff with jitter: the n-th retry waits
    `first_delay * factor**(n-1)` (at most `max_delay`), each +-`jitter`.
    A delivery is retried until its first attempt is `give_up_after` old."""

    first_delay: float = 5.0
    factor: float = 4.0
    max_delay: float = 8 * 3600.0
    jitter: float = 0.2
    give_up_after: float = 26 * 3600.0

    def delay(self, failed_attempts: int, rng: random.Random) -> float:
        base = min(self.max_delay, self.first_delay * self.factor ** (failed_attempts - 1))
        return base * (1 + rng.uniform(-self.jitter, self.jitter))


@dataclass(frozen=True, kw_only=True)
class DeliverySettings:
    batch_size: int = 100
    lease_seconds: float = 10.0
    retry: RetryPolicy = RetryPolicy()


def delivery_id(endpoint_id: str, first_seq: int) -> str:
    return "msg_" + hashlib.sha256(f"{endpoint_id}|{first_seq}".encode()).hexdigest()[:26]


class WebhookDispatcher:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        box: SecretBox,
        own: ServiceAddress,
        signal: ChangeSignal,
        wall_clock: Clock,
        settings: DeliverySettings = DeliverySettings(),
        rng: random.Random | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        # `webhook-timestamp` is compared by receivers with their own clock, so it
        # is the wall clock's even where the service runs on a fake one (tests).
        self._wall_clock = wall_clock
        self._box = box
        self._own = own
        self._signal = signal
        self._settings = settings
        self._rng = rng or random.Random()
        self._leases = Leases(db, seconds=settings.lease_seconds, clock=clock)
        self._http: httpx.AsyncClient | None = None
        self._loop: asyncio.Task[None] | None = None

    async def start(self) -> None:
        # Redirects are not followed: a receiver could point them at anything.
        self._http = httpx.AsyncClient(follow_redirects=False)
        self._loop = asyncio.create_task(self._run(), name="webhook-dispatcher")

    async def stop(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            await asyncio.gather(self._loop, return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()

    async def _run(self) -> None:
        with self._signal.listening() as wake:
            while True:
                wake.clear()
                try:
                    worked = await self._leases.claim(DISPATCHER_LEASE) and await self.dispatch_once()
                except Exception:
                    log.exception("webhook dispatch failed; retrying")
                    worked = False
                if not worked:
                    await wake.wait(self._signal.poll_interval)

    async def dispatch_once(self) -> bool:
        """One round over the enabled endpoints: cut the next batch where none
        is pending, attempt the deliveries that are due. True if anything was sent."""
        horizon = await stable_horizon(self._db)
        by_workspace: dict[str, list[WebhookEndpoint]] = defaultdict(list)
        async for doc in self._db[WEBHOOK_ENDPOINTS].find({"enabled": True}):
            by_workspace[doc["ws"]].append(WebhookEndpoint.from_document(doc))
        sent = await asyncio.gather(*(self._serve_workspace(endpoints, horizon) for endpoints in by_workspace.values()))
        return any(sent)

    async def _serve_workspace(self, endpoints: list[WebhookEndpoint], horizon: int) -> bool:
        pending = {
            endpoint.id: await self._db[WEBHOOK_DELIVERIES].find_one(
                {"endpointId": endpoint.id, "status": str(DeliveryStatus.PENDING)}
            )
            for endpoint in endpoints
        }
        # The endpoints that need a new batch share one read of the history.
        behind = [e for e in endpoints if pending[e.id] is None and e.cursor < horizon]
        if behind:
            window = await changes_after(
                self._db, behind[0].workspace_id, min(e.cursor for e in behind), up_to=horizon, limit=HISTORY_WINDOW
            )
            window_end = window[-1]["seq"] if len(window) == HISTORY_WINDOW else horizon
            for endpoint in behind:
                changes = [c for c in window if c["seq"] > endpoint.cursor and endpoint.follows(c)]
                pending[endpoint.id] = await self._next_delivery(endpoint, changes[: self._settings.batch_size], window_end)
        due = [(e, d) for e in endpoints if (d := pending[e.id]) is not None and d["nextAttemptAt"] <= self._clock.now()]
        await asyncio.gather(*(self._attempt(e, d, manual=False) for e, d in due))
        return bool(due)

    async def _next_delivery(
        self, endpoint: WebhookEndpoint, changes: list[dict[str, Any]], read_up_to: int
    ) -> dict[str, Any] | None:
        """The delivery of `changes` (the next the endpoint follows), or, when
        there are none up to `read_up_to`, None with the cursor moved there."""
        endpoints = self._db[WEBHOOK_ENDPOINTS]
        if not changes:
            await endpoints.update_one({"_id": endpoint.id}, {"$max": {"cursor": read_up_to}})
            return None
        now = self._clock.now()
        doc = {
            "_id": delivery_id(endpoint.id, changes[0]["seq"]),
            "ws": endpoint.workspace_id,
            "endpointId": endpoint.id,
            "firstSeq": changes[0]["seq"],
            "lastSeq": changes[-1]["seq"],
            "changeCount": len(changes),
            "body": await self._body(endpoint.workspace_id, changes, now),
            "status": str(DeliveryStatus.PENDING),
            "attempts": [],
            "createdAt": now,
            "firstAttemptAt": None,
            "nextAttemptAt": now,
            "deliveredAt": None,
        }
        await insert_ignoring_duplicates(self._db[WEBHOOK_DELIVERIES], [doc])
        # After a crash between these two writes the same batch is cut again and found here.
        stored = await self._db[WEBHOOK_DELIVERIES].find_one({"_id": doc["_id"]})
        assert stored is not None  # written just above (or by the run that crashed)
        await endpoints.update_one({"_id": endpoint.id}, {"$max": {"cursor": stored["lastSeq"]}})
        return stored if stored["status"] == DeliveryStatus.PENDING else None

    async def _body(self, workspace_id: str, changes: list[dict[str, Any]], now: float) -> str:
        data = await describe_changes(self._db, workspace_id, changes)
        return json.dumps({"type": EVENT_TYPE, "timestamp": iso_time(now), "data": data}, separators=(",", ":"))

    async def _attempt(self, endpoint: WebhookEndpoint, delivery: dict[str, Any], *, manual: bool) -> dict[str, Any] | None:
        assert self._http is not None, "the dispatcher is not started"
        now = self._clock.now()
        status_code, error = None, None
        # A duration, not a moment of the domain: measured on the monotonic timer.
        started = time.perf_counter()
        host = httpx.URL(endpoint.url)
        if self._own.is_own(host.host, host.port or (443 if host.scheme == "https" else 80)):
            error = "refused: the URL points at this service itself"
        else:
            headers = signed_headers(
                self._box.open(endpoint.sealed_secret), delivery["_id"], int(self._wall_clock.now()), delivery["body"]
            )
            try:
                response = await self._http.post(
                    endpoint.url, content=delivery["body"].encode(), headers=headers, timeout=endpoint.timeout_seconds
                )
                status_code = response.status_code
                if not 200 <= status_code < 300:
                    error = f"HTTP {status_code}"
            except httpx.TimeoutException:
                error = f"no answer within {endpoint.timeout_seconds:g} s"
            except httpx.HTTPError as failure:
                error = f"{type(failure).__name__}: {failure}" if str(failure) else type(failure).__name__
        attempt = {
            "at": now,
            "statusCode": status_code,
            "latencyMs": round((time.perf_counter() - started) * 1000, 1),
            "error": error,
            "manual": manual,
        }
        return await self._record(endpoint, delivery, attempt)

    async def _record(self, endpoint: WebhookEndpoint, delivery: dict[str, Any], attempt: dict[str, Any]) -> dict[str, Any] | None:
        """The delivery after this attempt; None if it was deleted meanwhile (with its endpoint or workspace)."""
        now = attempt["at"]
        first_attempt_at = delivery["firstAttemptAt"] or now
        changes: dict[str, Any] = {"firstAttemptAt": first_attempt_at}
        if attempt["error"] is None:
            changes |= {"status": str(DeliveryStatus.DELIVERED), "deliveredAt": now, "nextAttemptAt": None}
        elif delivery["status"] == DeliveryStatus.PENDING:
            failed = sum(1 for a in delivery["attempts"] if a["error"] is not None) + 1
            policy = self._settings.retry
            if now - first_attempt_at >= policy.give_up_after:
                changes |= {"status": str(DeliveryStatus.FAILED), "nextAttemptAt": None}
                reason = (
                    f"delivery {delivery['_id']} failed {failed} attempts over "
                    f"{(now - first_attempt_at) / 3600:.1f} h (last: {attempt['error']})"
                )
                await self._db[WEBHOOK_ENDPOINTS].update_one(
                    {"_id": endpoint.id}, {"$set": {"enabled": False, "disabledReason": reason, "updatedAt": now}}
                )
                log.warning("webhook endpoint %s disabled: %s", endpoint.id, reason)
            else:
                changes["nextAttemptAt"] = now + policy.delay(failed, self._rng)
        return await self._db[WEBHOOK_DELIVERIES].find_one_and_update(
            {"_id": delivery["_id"]},
            {"$set": changes, "$push": {"attempts": attempt}},
            return_document=ReturnDocument.AFTER,
        )

    async def retry_now(self, workspace_id: str, delivery_id: str) -> dict[str, Any] | None:
        """One attempt of the delivery at once (by hand); None if it does not exist."""
        delivery = await self._db[WEBHOOK_DELIVERIES].find_one({"_id": delivery_id, "ws": workspace_id})
        if delivery is None:
            return None
        endpoint = await self._db[WEBHOOK_ENDPOINTS].find_one({"_id": delivery["endpointId"], "ws": workspace_id})
        if endpoint is None:
            return None
        return await self._attempt(WebhookEndpoint.from_document(endpoint), delivery, manual=True)
