"""The stored shape of people and their activity (docs/data-model.md).

One builder per collection, shared by the Track API writes and the demo
loader, so the shapes cannot drift apart.
"""

from __future__ import annotations

import secrets
from typing import Any

# Keys of an identify body that are not attributes.
RESERVED_ATTRIBUTE_KEYS = frozenset({"id", "email", "created_at", "cio_id", "anonymous_id", "_update"})

EVENT_TYPES = ("event", "page", "screen")
DELIVERY_METRICS = (
    "sent",
    "delivered",
    "opened",
    "clicked",
    "converted",
    "bounced",
    "failed",
    "spammed",
    "unsubscribed",
)


def person_document(
    workspace_id: str,
    cio_id: str,
    *,
    profile_id: str | None,
    email: str | None,
    attributes: dict[str, Any],
    created_at: float,
    now: float,
) -> dict[str, Any]:
    return {
        "_id": cio_id,
        "ws": workspace_id,
        "id": profile_id,
        "email": email,
        "emailLower": email.lower() if email else None,
        "attributes": attributes,
        "createdAt": created_at,
        "updatedAt": now,
        "suppressed": False,
    }


def event_id(workspace_id: str, client_event_id: str | None) -> str:
    """Client ids de-duplicate: the same id in the same workspace is one event."""
    return f"{workspace_id}|{client_event_id}" if client_event_id else secrets.token_hex(12)


def event_document(
    workspace_id: str,
    *,
    doc_id: str,
    person_id: str | None,
    anonymous_id: str | None,
    type: str,
    name: str,
    data: dict[str, Any],
    ts: float,
    received_at: float,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    document = {
        "_id": doc_id,
        "ws": workspace_id,
        "personId": person_id,
        "anonymousId": anonymous_id,
        "type": type,
        "name": name,
        "data": data,
        "ts": ts,
        "receivedAt": received_at,
    }
    if context is not None:
        document["context"] = context
    return document


def device_key(workspace_id: str, token: str) -> str:
    return f"{workspace_id}|{token}"


def device_document(
    workspace_id: str,
    *,
    person_id: str,
    token: str,
    platform: str,
    last_used: float,
    attributes: dict[str, Any],
) -> dict[str, Any]:
    return {
        "_id": device_key(workspace_id, token),
        "ws": workspace_id,
        "personId": person_id,
        "token": token,
        "platform": platform,
        "lastUsed": last_used,
        "attributes": attributes,
    }


def delivery_key(workspace_id: str, delivery_id: str) -> str:
    return f"{workspace_id}|{delivery_id}"


def delivery_document(
    workspace_id: str,
    *,
    delivery_id: str,
    person_id: str,
    message_id: str | None,
    campaign_id: str | None,
    broadcast_id: str | None,
    channel: str,
    metrics: dict[str, float],
    created_at: float,
) -> dict[str, Any]:
    return {
        "_id": delivery_key(workspace_id, delivery_id),
        "ws": workspace_id,
        "personId": person_id,
        "deliveryId": delivery_id,
        "messageId": message_id,
        "campaignId": campaign_id,
        "broadcastId": broadcast_id,
        "channel": channel,
        "metrics": metrics,
        "createdAt": created_at,
    }
