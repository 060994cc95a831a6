"""Loading up front what a group's operations will touch, in a few grouped
reads instead of one read per operation; anything missed loads on demand
(rules/ingest/working_set.py)."""

from __future__ import annotations

from rules import topics as topic
from rules.ingest.operations import (
    UNSET,
    AddDevice,
    DeleteDevice,
    DeletePerson,
    DeliveryMetric,
    Identify,
    Merge,
    Operation,
    SetSuppressed,
    TrackEvent,
    UnsupportedOperation,
)
from rules.ingest.working_set import WorkingSet
from rules.people.identifiers import Identifier, IdKind, anonymous_key, identity_key
from rules.store.collections import EVENTS
from rules.store.documents import delivery_key, device_key


async def prefetch(working: WorkingSet, operations: list[Operation]) -> None:
    ws = working.ws
    identifiers = [ident for op in operations for ident in identifiers_of(op)]
    identity_keys = {identity_key(ws, i.kind, i.value) for i in identifiers if i.kind is not IdKind.CIO_ID}
    anonymous_ids = {op.anonymous_id for op in operations if isinstance(op, (Identify, TrackEvent)) and op.anonymous_id}
    identity_keys |= {anonymous_key(ws, anon) for anon in anonymous_ids}
    await working.load(working.identities, identity_keys)
    await working.load(working.devices, {device_key(ws, op.token) for op in operations if isinstance(op, (AddDevice, DeleteDevice))})
    await working.load(working.deliveries, {delivery_key(ws, op.delivery_id) for op in operations if isinstance(op, DeliveryMetric)})
    person_ids = {i.value for i in identifiers if i.kind is IdKind.CIO_ID}
    person_ids |= {doc["personId"] for table in (working.identities, working.devices, working.deliveries) for doc in table.current_docs()}
    await working.load(working.people, person_ids)
    for anonymous_id in {op.anonymous_id for op in operations if isinstance(op, Identify) and op.anonymous_id}:
        pending = working.db[EVENTS].find({"ws": ws, "anonymousId": anonymous_id, "personId": None}, {"type": 1, "name": 1})
        working.anonymous_topics[anonymous_id] = {topic.activity(doc["type"], doc["name"]) async for doc in pending}


def identifiers_of(op: Operation) -> list[Identifier]:
    """Every person identifier an operation mentions."""
    match op:
        case Identify():
            mentioned = [op.target]
            if op.profile_id is not UNSET:
                mentioned.append(Identifier(kind=IdKind.ID, value=op.profile_id))
            if op.email is not UNSET:
                mentioned.append(Identifier(kind=IdKind.EMAIL, value=op.email))
            return mentioned
        case Merge():
            return [op.primary, op.secondary]
        case DeliveryMetric():
            return [op.person] if op.person else []
        case TrackEvent():
            return [op.target] if op.target else []
        case AddDevice() | DeleteDevice() | DeletePerson() | SetSuppressed():
            return [op.target]
        case _:
            raise UnsupportedOperation(op)
