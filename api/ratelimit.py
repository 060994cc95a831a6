"""Per-key rate limits: a token bucket per API key and API, as Customer.io
limits its APIs (10 requests/s on the App API, 100/s on the Track API), so
one client cannot starve the others.

Each bucket holds up to one second's worth of requests (`rate` tokens, at
least 1) and refills continuously at `rate` per second. A request that finds
its bucket empty gets 429 with `Retry-After` (whole seconds, rounded up) in
its API's own error shape, before any work is done for it.

The key is the credential the request presents, before it is checked: the
Bearer token (App API, exports, GraphQL) or the Track API key of HTTP Basic
(the password of `siteId:trackApiKey`, the user name of Segment-spec
`writeKey:`), so a Track API key has one bucket for both ingestion APIs.
Requests without credentials share a bucket per client address. Buckets live
in this process's memory; several processes each apply the limit.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from api.settings import Settings

# Idle buckets (full again) are forgotten once there are this many; if all
# are busy, further keys share one overflow bucket (keys are not verified
# before the limit, so made-up keys must not grow the table without bound).
MAX_BUCKETS = 10_000
_OVERFLOW = ("overflow",)

SEGMENT_SPEC_PATHS = frozenset(f"/v1/{kind}" for kind in ("batch", "identify", "track", "page", "screen", "alias", "group"))


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """Token buckets by key; `take` answers 0 when a request may go, else the seconds to wait."""

    def __init__(self, rate: float, *, clock: Callable[[], float] = time.monotonic, max_buckets: int = MAX_BUCKETS) -> None:
        self.rate = rate
        self.capacity = max(rate, 1.0)
        self._clock = clock
        self._max_buckets = max_buckets
        self._buckets: dict[Any, _Bucket] = {}
        self._swept = float("-inf")

    def take(self, key: Any) -> float:
        now = self._clock()
        if key not in self._buckets and len(self._buckets) >= self._max_buckets:
            if now - self._swept >= 1:  # at most one sweep a second
                self._forget_idle(now)
                self._swept = now
            if len(self._buckets) >= self._max_buckets:
                key = _OVERFLOW
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(tokens=self.capacity, updated=now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate

    def _forget_idle(self, now: float) -> None:
        full_after = self.capacity / self.rate
        self._buckets = {key: b for key, b in self._buckets.items() if now - b.updated < full_after}


@dataclass(frozen=True, kw_only=True)
class _Api:
    name: str
    buckets: TokenBuckets
    # (message) -> JSON body of the 429, in the API's own error shape
    error_body: Callable[[str], dict[str, Any]]


def _family(path: str) -> str | None:
    if path in SEGMENT_SPEC_PATHS:
        return "segment_spec"
    if path.startswith(("/api/v1/", "/api/v2/")):
        return "track"
    if path.startswith("/v1/"):
        return "app"
    if path.startswith("/exports/"):
        return "exports"
    if path == "/graphql":
        return "graphql"
    return None


def _credential(family: str, authorization: str) -> str | None:
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if not value:
        return None
    if scheme.lower() == "bearer":
        return value
    if scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return (user if family == "segment_spec" else password) or None
    return None


class RateLimitMiddleware:
    """ASGI middleware in front of every HTTP route (websockets are not limited)."""

    def __init__(self, app: Any, settings: Settings) -> None:
        self.app = app
        meta = lambda message: {"meta": {"error": message}}  # noqa: E731 (Customer.io's shape)
        errors = lambda message: {"errors": [{"message": message}]}  # noqa: E731 (GraphQL's and the CSV exports')
        segment = lambda message: {"code": "rate_limited", "message": message}  # noqa: E731 (Segment's)
        app = TokenBuckets(settings.rate_limit_app) if settings.rate_limit_app else None
        track = TokenBuckets(settings.rate_limit_track) if settings.rate_limit_track else None
        graphql = TokenBuckets(settings.rate_limit_graphql) if settings.rate_limit_graphql else None
        # family -> (the limit's name, its buckets, the 429 body); the CSV exports
        # share the app key's App API bucket, Segment-spec the Track API key's.
        families: dict[str, tuple[str, TokenBuckets | None, Callable[[str], dict[str, Any]]]] = {
            "app": ("app", app, meta),
            "exports": ("app", app, errors),
            "track": ("track", track, meta),
            "segment_spec": ("track", track, segment),
            "graphql": ("graphql", graphql, errors),
        }
        self.apis: dict[str, _Api] = {
            family: _Api(name=name, buckets=buckets, error_body=error_body)
            for family, (name, buckets, error_body) in families.items()
            if buckets is not None
        }

    async def __call__(self, scope: dict, receive: Callable[[], Awaitable[dict]], send: Callable[[dict], Awaitable[None]]) -> None:
        family = _family(scope["path"]) if scope["type"] == "http" else None
        api = self.apis.get(family) if family else None
        if family is None or api is None:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        credential = _credential(family, headers.get(b"authorization", b"").decode("latin-1"))
        client = (scope.get("client") or ("unknown", 0))[0]
        wait = api.buckets.take(("key", credential) if credential else ("client", client))
        if not wait:
            await self.app(scope, receive, send)
            return
        rate = api.buckets.rate
        message = f"rate limit exceeded: at most {rate:g} requests per second per API key on the {api.name} API; retry later"
        body = json.dumps(api.error_body(message)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(max(1, math.ceil(wait))).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
