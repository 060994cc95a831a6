"""Small worlds of people and activity for condition tests, stored for real,
and the two ways to ask who matches: compiled pipelines and the evaluator."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from rules.store.collections import DELIVERIES, DEVICES, EVENTS, MEMBERSHIPS, PEOPLE
from rules.conditions.compile import matching_person_ids
from rules.conditions.evaluate import PersonData, evaluate, load_person_data
from rules.conditions.model import Condition

NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z
MINUTE, HOUR, DAY = 60, 3_600, 86_400


@dataclass(frozen=True, kw_only=True)
class Person:
    key: str  # the test's name for the person
    attributes: dict[str, Any] = field(default_factory=dict)
    events: tuple[dict, ...] = ()  # {"type", "name", "data", "ts"}
    devices: tuple[dict, ...] = ()  # {"platform", "lastUsed", "attributes"}
    deliveries: tuple[dict, ...] = ()  # {"messageId", "campaignId", "channel", "metrics"}
    segments: tuple[str, ...] = ()


def event(name: str, *, at: float = NOW - HOUR, **data: Any) -> dict:
    return {"type": "event", "name": name, "data": data, "ts": at}


def page(url: str, *, at: float = NOW - HOUR, **data: Any) -> dict:
    return {"type": "page", "name": url, "data": data, "ts": at}


def device(platform: str, *, last_used: float = NOW - HOUR, **attributes: Any) -> dict:
    return {"platform": platform, "lastUsed": last_used, "attributes": attributes}


def delivery(*, message_id=None, campaign_id=None, channel="email", **metrics: float) -> dict:
    return {"messageId": message_id, "campaignId": campaign_id, "channel": channel, "metrics": metrics}


def _id() -> str:
    return uuid.uuid4().hex


async def store_world(db, workspace_id: str, people: list[Person], *, anonymous_events: tuple[dict, ...] = ()) -> dict[str, str]:
    """Writes the people and their activity; returns test key -> person id."""
    ids = {person.key: _id()[:20] for person in people}
    scoped = lambda person, doc: {"_id": _id(), "ws": workspace_id, "personId": ids[person.key], **doc}  # noqa: E731
    documents: dict[str, list[dict]] = {PEOPLE: [], EVENTS: [], DEVICES: [], DELIVERIES: [], MEMBERSHIPS: []}
    for person in people:
        documents[PEOPLE].append(
            {"_id": ids[person.key], "ws": workspace_id, "id": person.key, "email": None, "attributes": person.attributes,
             "createdAt": NOW - 30 * DAY, "updatedAt": NOW - DAY, "suppressed": False}
        )
        documents[EVENTS] += [scoped(person, {"anonymousId": None, "receivedAt": NOW, **e}) for e in person.events]
        documents[DEVICES] += [scoped(person, {"token": _id(), **d}) for d in person.devices]
        documents[DELIVERIES] += [scoped(person, {"deliveryId": _id(), "createdAt": NOW - DAY, **d}) for d in person.deliveries]
        documents[MEMBERSHIPS] += [
            {"_id": f"{s}|{ids[person.key]}", "ws": workspace_id, "segmentId": s, "personId": ids[person.key], "enteredAt": NOW - DAY}
            for s in person.segments
        ]
    documents[EVENTS] += [
        {"_id": _id(), "ws": workspace_id, "personId": None, "anonymousId": "anon", "receivedAt": NOW, **e}
        for e in anonymous_events
    ]
    for collection, docs in documents.items():
        if docs:
            await db[collection].insert_many(docs)
    return ids


async def members_by_pipelines(db, workspace_id: str, condition: Condition, ids: dict[str, str], *, now: float = NOW) -> set[str]:
    keys = {person_id: key for key, person_id in ids.items()}
    matched = await matching_person_ids(db, condition, workspace_id=workspace_id, now=now)
    return {keys[person_id] for person_id in matched}


async def members_by_evaluator(db, workspace_id: str, condition: Condition, ids: dict[str, str], *, now: float = NOW) -> set[str]:
    members = set()
    for key, person_id in ids.items():
        person = await load_person_data(db, workspace_id, person_id)
        if evaluate(condition, person, now=now).holds:
            members.add(key)
    return members


BACKENDS = {"pipelines": members_by_pipelines, "evaluator": members_by_evaluator}


def person_data(person: Person, *, person_id: str = "p") -> PersonData:
    """The evaluator's view of a person without a store (for pure tests)."""
    return PersonData(
        profile={"_id": person_id, "attributes": person.attributes},
        events=[dict(e) for e in person.events],
        devices=[dict(d) for d in person.devices],
        deliveries=[dict(d) for d in person.deliveries],
        segment_ids=frozenset(person.segments),
    )
