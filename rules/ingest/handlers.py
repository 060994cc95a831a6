"""One handler per Track operation, applied in memory to a working set.

`HANDLERS` maps each operation type to its handler; `apply_operation` fails
closed: an operation type with no handler raises `UnsupportedOperation`
(its whole group fails) instead of being silently ignored.
tests/unit/test_ingest_dispatch.py checks that every `Operation` has one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rules import topics as topic
from rules.ingest.identities import IdentityResolver, describe, set_identifier_field
from rules.ingest.operations import (
    UNSET,
    AddDevice,
    DeleteDevice,
    DeletePerson,
    DeliveryMetric,
    Identify,
    IngestError,
    Merge,
    Operation,
    SetSuppressed,
    TrackEvent,
    UnsupportedOperation,
)
from rules.ingest.working_set import SetOperation, WorkingSet
from rules.json_values import same_value
from rules.people.identifiers import Identifier, IdKind, anonymous_key, identity_document
from rules.store.collections import DELIVERIES, DEVICES, EVENTS, IDENTITIES
from rules.store.documents import delivery_document, delivery_key, device_document, device_key, event_document, event_id

ACTIVITY_COLLECTIONS = (EVENTS, DEVICES, DELIVERIES)

Handler = Callable[[Any, WorkingSet, IdentityResolver], Awaitable[None]]


async def apply_operation(op: Operation, working: WorkingSet, people: IdentityResolver) -> None:
    handler = HANDLERS.get(type(op))
    if handler is None:
        raise UnsupportedOperation(op)
    await handler(op, working, people)


# -- identify ------------------------------------------------------------------------


async def identify(op: Identify, working: WorkingSet, people: IdentityResolver) -> None:
    person_id = await people.resolve(op.target)
    if person_id is None:
        if op.target.kind is IdKind.CIO_ID:
            raise IngestError(field=op.where, problem=describe(op.target), status=404)
        if op.update_only:
            return  # `_update: true` never creates (as Customer.io)
        person_id = await _person_for_new_identifier(op, working, people)
    if working.is_suppressed(person_id):
        return  # Customer.io ignores data sent for a suppressed person
    person = await working.person(person_id)
    body = op.attributes_where
    # Changing an identifier needs the person addressed by another one (as Customer.io).
    for kind, value in ((IdKind.ID, op.profile_id), (IdKind.EMAIL, op.email)):
        if value is UNSET:
            continue
        same = value.lower() == (person[kind.value] or "").lower() if kind is IdKind.EMAIL else value == person[kind.value]
        if op.target.kind is kind and person[kind.value] is not None and not same:
            raise IngestError(field=f"{body}.{kind.value}", problem=f"differs from the {kind.value} in the path; address the person by cio_<cioId> to change it")
        await people.set_identifier(person, kind, value, f"{body}.{kind.value}")
    changed = apply_attributes(person["attributes"], op.attributes)
    if op.created_at is not None and person["createdAt"] != op.created_at:
        person["createdAt"] = op.created_at
        changed.add("created_at")
    if changed:
        working.touch(person_id, topic.ATTRIBUTES, *(topic.attribute(key) for key in changed))
    if op.anonymous_id:
        _adopt_anonymous(working, person_id, op.anonymous_id)
    if not same_value(person, working.people.peek(person_id)):
        person["updatedAt"] = working.now
        working.people.put(person_id, person)


async def _person_for_new_identifier(op: Identify, working: WorkingSet, people: IdentityResolver) -> str:
    """The path identifier is new: attach it to whoever the body's identifiers name, or create a person."""
    owners = set()
    for kind, value in ((IdKind.ID, op.profile_id), (IdKind.EMAIL, op.email)):
        if value is not UNSET and kind is not op.target.kind:
            owner = await people.resolve(Identifier(kind=kind, value=value))
            if owner is not None:
                owners.add(owner)
    if len(owners) > 1:
        raise IngestError(field=op.where, problem="the id and email given belong to two different people")
    if not owners:
        return people.create_person(op.target)
    person = await working.person(owners.pop())
    if working.is_suppressed(person["_id"]):
        return person["_id"]
    if person[op.target.kind.value] is not None:
        problem = f"the person the body names already has the {op.target.kind.value} {person[op.target.kind.value]!r}"
        raise IngestError(field=op.where, problem=problem)
    await people.set_identifier(person, op.target.kind, op.target.value, op.where)
    working.people.put(person["_id"], person)
    return person["_id"]


def _adopt_anonymous(working: WorkingSet, person_id: str, anonymous_id: str) -> None:
    """Anonymous events sent with this id become the person's; later ones go to them directly."""
    key = anonymous_key(working.ws, anonymous_id)
    if working.identities.peek(key) is not None:
        return  # already identified (by this person or, first, by someone else)
    working.identities.put(key, identity_document(working.ws, "anon", anonymous_id, person_id))
    working.journal.set_operations.append(
        SetOperation(
            collection=EVENTS,
            filter={"ws": working.ws, "anonymousId": anonymous_id, "personId": None},
            update={"$set": {"personId": person_id}},
        )
    )
    # The set operation runs after the new events are inserted, so it adopts this group's too.
    working.touch(person_id, *working.anonymous_topics.get(anonymous_id, ()))
    working.touch(
        person_id,
        *(topic.activity(e["type"], e["name"]) for e in working.journal.events if e["anonymousId"] == anonymous_id and e["personId"] is None),
    )


def apply_attributes(attributes: dict[str, Any], changes: dict[str, Any]) -> set[str]:
    """Apply attribute changes in place (None removes); returns the keys whose value changed.

    Changed means not `same_value` (false -> 0 is a change, 1 -> 1.0 is not)."""
    changed = set()
    for key, value in changes.items():
        if value is None:
            if key in attributes:
                del attributes[key]
                changed.add(key)
        elif key not in attributes or not same_value(attributes[key], value):
            attributes[key] = value
            changed.add(key)
    return changed


# -- activity ------------------------------------------------------------------------


async def track_event(op: TrackEvent, working: WorkingSet, people: IdentityResolver) -> None:
    person_id: str | None
    if op.target is not None:
        person_id = await people.resolve_or_create(op.target, op.where)
    else:
        assert op.anonymous_id is not None, "parse gives an event without a person its anonymous id"
        anonymous = working.identities.peek(anonymous_key(working.ws, op.anonymous_id))
        person_id = await people.resolve(Identifier(kind=IdKind.CIO_ID, value=anonymous["personId"])) if anonymous else None
    if person_id is not None and working.is_suppressed(person_id):
        return
    doc_id = event_id(working.ws, op.client_id)
    if op.client_id:
        if doc_id in working.known_event_ids or await working.event_stored(doc_id, person_id, op.anonymous_id):
            return  # the same client event id again: de-duplicated
        working.known_event_ids.add(doc_id)
    working.journal.events.append(
        event_document(
            working.ws,
            doc_id=doc_id,
            person_id=person_id,
            anonymous_id=op.anonymous_id,
            type=op.type,
            name=op.name,
            data=op.data,
            ts=working.now if op.timestamp is None else op.timestamp,
            received_at=working.now,
            context=op.context,
        )
    )
    if person_id is not None:
        working.touch(person_id, topic.activity(op.type, op.name))


async def add_device(op: AddDevice, working: WorkingSet, people: IdentityResolver) -> None:
    person_id = await people.resolve_or_create(op.target, op.where)
    if working.is_suppressed(person_id):
        return
    key = device_key(working.ws, op.token)
    await working.load(working.devices, [key])
    previous = working.devices.get(key)
    attributes = previous["attributes"] if previous else {}
    apply_attributes(attributes, op.attributes)
    doc = device_document(
        working.ws,
        person_id=person_id,
        token=op.token,
        platform=op.platform,
        last_used=working.now if op.last_used is None else op.last_used,
        attributes=attributes,
    )
    working.devices.put(key, doc)
    if previous and previous["personId"] != person_id:
        working.touch(previous["personId"], topic.DEVICE)  # a token belongs to one device, one person
    working.touch(person_id, topic.DEVICE)


async def delete_device(op: DeleteDevice, working: WorkingSet, people: IdentityResolver) -> None:
    person_id = await people.resolve(op.target)
    key = device_key(working.ws, op.token)
    await working.load(working.devices, [key])
    device = working.devices.peek(key)
    if person_id is None or device is None or device["personId"] != person_id:
        return  # nothing to delete: deleting is idempotent
    working.devices.delete(key)
    working.touch(person_id, topic.DEVICE)


async def delivery_metric(op: DeliveryMetric, working: WorkingSet, people: IdentityResolver) -> None:
    key = delivery_key(working.ws, op.delivery_id)
    await working.load(working.deliveries, [key])
    at = working.now if op.timestamp is None else op.timestamp
    delivery = working.deliveries.get(key)
    prefix = op.prefix
    if delivery is None:
        if op.person is None:
            raise IngestError(field=f"{prefix}person", problem="required when a delivery is first reported")
        if op.channel is None:
            raise IngestError(field=f"{prefix}attributes.channel", problem="required when a delivery is first reported")
        delivery = delivery_document(
            working.ws,
            delivery_id=op.delivery_id,
            person_id=await people.existing(op.person, f"{prefix}person"),
            message_id=op.message_id,
            campaign_id=op.campaign_id,
            broadcast_id=op.broadcast_id,
            channel=op.channel,
            metrics={},
            created_at=at,
        )
    for field_name, value in (("messageId", op.message_id), ("campaignId", op.campaign_id), ("broadcastId", op.broadcast_id)):
        if delivery[field_name] is None and value is not None:
            delivery[field_name] = value
    # Metrics keep the time of their first occurrence.
    delivery["metrics"][op.metric] = min(at, delivery["metrics"].get(op.metric, at))
    working.deliveries.put(key, delivery)
    working.touch(delivery["personId"], topic.MESSAGE)


# -- people as a whole -----------------------------------------------------------------


async def delete_person(op: DeletePerson, working: WorkingSet, people: IdentityResolver) -> None:
    person_id = await people.resolve(op.target)
    if person_id is None:
        return  # already gone: deleting is idempotent
    person = await working.person(person_id)
    await people.release(IdKind.ID, person["id"])
    await people.release(IdKind.EMAIL, person["email"])
    working.people.delete(person_id)
    for table in (working.devices, working.deliveries):
        for key in table.owned_by(person_id):
            table.delete(key)
    # Everything else they own in the store: anonymous ids, events, devices, deliveries.
    for collection in (IDENTITIES, *ACTIVITY_COLLECTIONS):
        working.journal.set_operations.append(SetOperation(collection=collection, filter={"ws": working.ws, "personId": person_id}, update=None))
    working.touch(person_id, topic.DELETED)


async def set_suppressed(op: SetSuppressed, working: WorkingSet, people: IdentityResolver) -> None:
    person_id = await people.existing(op.target, op.where)
    person = await working.person(person_id)
    if person["suppressed"] != op.suppressed:
        person["suppressed"] = op.suppressed
        person["updatedAt"] = working.now
        working.people.put(person_id, person)
        working.touch(person_id, topic.SUPPRESSED)


async def merge(op: Merge, working: WorkingSet, people: IdentityResolver) -> None:
    primary_id = await people.existing(op.primary, op.primary_where)
    secondary_id = await people.existing(op.secondary, op.secondary_where)
    if primary_id == secondary_id:
        raise IngestError(field=op.secondary_where, problem="is the same person as primary")
    primary = await working.person(primary_id)
    secondary = await working.person(secondary_id)
    # The secondary's attributes fill what the primary lacks or has empty (as Customer.io).
    filled = {key for key, value in secondary["attributes"].items() if primary["attributes"].get(key) in (None, "")}
    primary["attributes"].update({key: secondary["attributes"][key] for key in filled})
    working.people.delete(secondary_id)
    for kind in (IdKind.ID, IdKind.EMAIL):
        value = secondary[kind.value]
        await people.release(kind, value)
        if value and primary[kind.value] is None:
            people.claim(kind, value, primary_id)
            set_identifier_field(primary, kind, value)
            filled.add(kind.value)
    primary["updatedAt"] = working.now
    working.people.put(primary_id, primary)
    for table in (working.devices, working.deliveries):
        for key in table.owned_by(secondary_id):
            table.put(key, {**table.require(key), "personId": primary_id})
    # Set operations run after the new documents are inserted: they move this group's events too.
    for collection in (IDENTITIES, *ACTIVITY_COLLECTIONS):
        working.journal.set_operations.append(
            SetOperation(collection=collection, filter={"ws": working.ws, "personId": secondary_id}, update={"$set": {"personId": primary_id}})
        )
    working.touch(primary_id, topic.MERGED, *((topic.ATTRIBUTES, *(topic.attribute(key) for key in filled)) if filled else ()))
    working.touch(secondary_id, topic.DELETED, topic.MERGED)


HANDLERS: dict[type, Handler] = {
    Identify: identify,
    TrackEvent: track_event,
    AddDevice: add_device,
    DeleteDevice: delete_device,
    DeletePerson: delete_person,
    SetSuppressed: set_suppressed,
    Merge: merge,
    DeliveryMetric: delivery_metric,
}
