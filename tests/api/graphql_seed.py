"""Store documents for GraphQL tests, built by the same builders as the
Track API (rules/store/documents.py) and written with batch inserts
(single inserts are slow on the embedded store)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from rules.people.identifiers import new_cio_id, person_identity_documents
from rules.store.documents import delivery_document, device_document, event_document, event_id, person_document

Documents = dict[str, list[dict[str, Any]]]

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def documents() -> Documents:
    return defaultdict(list)


def person(
    ws: str,
    docs: Documents,
    *,
    id: str | None = None,
    email: str | None = None,
    attributes: dict[str, Any] | None = None,
) -> str:
    """Adds a person and their identities to `docs`; returns the cioId."""
    document = person_document(
        ws, new_cio_id(), profile_id=id, email=email, attributes=attributes or {}, created_at=T0, now=T0 + 60
    )
    docs["people"].append(document)
    docs["identities"].extend(person_identity_documents(ws, document))
    return document["_id"]


def event(ws: str, docs: Documents, person_id: str, *, name: str, ts: float, type: str = "event", **data) -> None:
    docs["events"].append(
        event_document(
            ws,
            doc_id=event_id(ws, None),
            person_id=person_id,
            anonymous_id=None,
            type=type,
            name=name,
            data=data,
            ts=ts,
            received_at=ts + 1,
        )
    )


def device(ws: str, docs: Documents, person_id: str, *, token: str, platform: str, last_used: float) -> None:
    docs["devices"].append(
        device_document(
            ws, person_id=person_id, token=token, platform=platform, last_used=last_used, attributes={"app_version": "1.2"}
        )
    )


def delivery(ws: str, docs: Documents, person_id: str, *, delivery_id: str, metrics: dict[str, float]) -> None:
    docs["deliveries"].append(
        delivery_document(
            ws,
            delivery_id=delivery_id,
            person_id=person_id,
            message_id="welcome-1",
            campaign_id="welcome",
            broadcast_id=None,
            channel="email",
            metrics=metrics,
            created_at=min(metrics.values()),
        )
    )


def insert(server: Any, docs: Documents) -> None:
    async def write(services: Any) -> None:
        for collection, batch in docs.items():
            await services.db[collection].insert_many(batch)

    server.call(write)
