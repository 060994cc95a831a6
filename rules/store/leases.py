"""Leases in the store: which service process does a piece of shared work.

Several `segments serve` processes may share one store (one MongoDB, or
the embedded store's file, docs/decisions.md #15). Work that must run once (a segment's
build, the time-window scheduler, webhook delivery) is claimed with a lease:
a document in `leases` whose `_id` names the work, holding the owner (a
random token per process) and the moment it expires. A claim succeeds if
nobody holds the lease, if it is ours (a renewal), or if it expired: a
killed holder's work is taken over `seconds` after its last renewal.

The claim is one `find_one_and_update` with upsert on `_id`: two processes
racing for a free lease both try to insert the same `_id`, and the loser
gets a duplicate key error. Expiry is judged by wall-clock time, so the
machines sharing a store need synchronised clocks (NTP), and a holder that
cannot renew within `seconds` (a blocked event loop, a paused VM) loses the
lease; work that writes in batches checks it still holds the lease before
each batch (`LeaseLost`) so that a taken-over holder stops writing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator

from pymongo.errors import DuplicateKeyError

from rules.clock import Clock, SystemClock
from rules.store.collections import LEASES
from rules.store.types import Database

log = logging.getLogger("segments")


class LeaseLost(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(f"lease {name!r} was taken over by another process")
        self.name = name


class Leases:
    """The leases of one process (one owner token)."""

    def __init__(self, db: Database, *, seconds: float, clock: Clock | None = None) -> None:
        self._db = db
        self.seconds = seconds
        self._clock = clock or SystemClock()
        self.owner = secrets.token_hex(8)

    async def claim(self, name: str) -> bool:
        """Take or renew the lease `name`; False if another process holds it."""
        now = self._clock.now()
        try:
            await self._db[LEASES].find_one_and_update(
                {"_id": name, "$or": [{"owner": self.owner}, {"until": {"$lt": now, "$type": "number"}}]},
                {"$set": {"owner": self.owner, "until": now + self.seconds}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False
        return True

    async def confirm(self, name: str) -> None:
        """Renew `name` before writing; raises LeaseLost if another process took it."""
        if not await self.claim(name):
            raise LeaseLost(name)

    async def release(self, name: str) -> None:
        await self._db[LEASES].delete_one({"_id": name, "owner": self.owner})

    @contextlib.asynccontextmanager
    async def held(self, name: str) -> AsyncIterator[bool]:
        """Claim `name` for a block of work, renewing it in the background
        while the block runs and releasing it after; yields whether it was
        claimed (the block does nothing when it was not)."""
        if not await self.claim(name):
            yield False
            return
        renewing = asyncio.create_task(self._renew(name), name=f"lease-{name}")
        try:
            yield True
        finally:
            renewing.cancel()
            await asyncio.gather(renewing, return_exceptions=True)
            await self.release(name)

    async def _renew(self, name: str) -> None:
        while True:
            await asyncio.sleep(self.seconds / 3)
            try:
                if not await self.claim(name):
                    log.warning("lease %s was taken over by another process", name)
                    return
            except Exception:
                log.exception("renewing lease %s failed; retrying", name)
