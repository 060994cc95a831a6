"""Store documents for GraphQL tests, in the shapes of docs/data-model.md,
written with batch inserts (single inserts are slow on the embedded store)."""

from __future__ import annotations

import secrets
from collections import defaultdict
from typing import Any

Documents = dict[str, list[dict[str, Any]]]

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def new_cio_id() -> str:
    return secrets.token_hex(10)


def person(
    ws: str,
    documents: Documents,
    *,
    id: str | None = None,
    email: str | None = None,
    attributes: dict[str, Any] | None = None,
) -> str:
    """Adds a person and their identities to `documents`; returns the cioId."""
    cio_id = new_cio_id()
    documents["people"].append(
        {
            "_id": cio_id,
            "ws": ws,
            "id": id,
            "email": email,
            "emailLower": email.lower() if email else None,
            "attributes": attributes or {},
            "createdAt": T0,
            "updatedAt": T0 + 60,
            "suppressed": False,
        }
    )
    if id is not None:
        documents["identities"].append({"_id": f"{ws}|id|{id}", "ws": ws, "personId": cio_id})
    if email is not None:
        documents["identities"].append({"_id": f"{ws}|email|{email.lower()}", "ws": ws, "personId": cio_id})
    return cio_id


def event(ws: str, documents: Documents, person_id: str, *, name: str, ts: float, type: str = "event", **data) -> None:
    documents["events"].append(
        {
            "_id": secrets.token_hex(12),
            "ws": ws,
            "personId": person_id,
            "anonymousId": None,
            "type": type,
            "name": name,
            "data": data,
            "ts": ts,
            "receivedAt": ts + 1,
        }
    )


def device(ws: str, documents: Documents, person_id: str, *, token: str, platform: str, last_used: float) -> None:
    documents["devices"].append(
        {
            "_id": f"{ws}|{token}",
            "ws": ws,
            "personId": person_id,
            "token": token,
            "platform": platform,
            "lastUsed": last_used,
            "attributes": {"app_version": "1.2"},
        }
    )


def delivery(ws: str, documents: Documents, person_id: str, *, delivery_id: str, metrics: dict[str, float]) -> None:
    documents["deliveries"].append(
        {
            "_id": f"{ws}|{delivery_id}",
            "ws": ws,
            "personId": person_id,
            "deliveryId": delivery_id,
            "messageId": "welcome-1",
            "campaignId": "welcome",
            "broadcastId": None,
            "channel": "email",
            "metrics": metrics,
            "createdAt": min(metrics.values()),
        }
    )


def documents() -> Documents:
    return defaultdict(list)


def insert(server: Any, docs: Documents) -> None:
    async def write(services: Any) -> None:
        for collection, batch in docs.items():
            await services.db[collection].insert_many(batch)

    server.call(write)
