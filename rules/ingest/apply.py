"""Writing people and their activity: apply Track API operations to the store.

`apply_requests` takes the operations of one or more requests of a
workspace (a v2 batch, or single v1 calls grouped by the writer in
rules/ingest/group_commit.py), loads what they touch by `_id` up front, applies
them in memory and in order, and writes the result with grouped writes:
`insert_many` for new documents, `bulk_write` updates for changed ones,
`update_many`/`delete_many` for a person's activity on merge and delete.
A request whose operation fails (a `cio_` id nobody has, an email that
belongs to someone else, ...) is rolled back in memory and rejected whole;
the other requests of the group are written. Nothing is written for a
rejected request.

Why grouped: MongoDB is fastest with batches, and the embedded engine scans
the whole collection for every lone inserted document (docs/track-api.md).

Order of the writes (so that a crash in between leaves nothing visible that
points nowhere): identities claimed first (their `_id` is the uniqueness
check), then people, devices, deliveries, events, then the set operations in
the order they were planned, then deletions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from rules.store.collections import DELIVERIES, DEVICES, EVENTS, IDENTITIES, PEOPLE
from rules.people.identifiers import Identifier, IdKind, anonymous_key, identity_document, identity_key, new_cio_id
from rules.store.documents import (
    delivery_document,
    delivery_key,
    device_document,
    device_key,
    event_document,
    event_id,
    person_document,
)
from rules import topics as topic
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
from rules.ingest.working_set import Journal, SetOperation, Table
from rules.ingest.write import IdentityTaken, write_changes
from rules.json_values import same_value
from rules.topics import Topic

# A concurrent writer (another process on a real MongoDB) may claim an identity
# between our read and our write; the group is then planned again from the store.
MAX_ATTEMPTS = 3
ACTIVITY_COLLECTIONS = (EVENTS, DEVICES, DELIVERIES)


@dataclass(frozen=True, kw_only=True)
class Accepted:
    # person id -> topics for Services.people_changed
    topics: dict[str, frozenset[Topic]]


@dataclass(frozen=True, kw_only=True)
class Rejected:
    error: IngestError


Outcome = Accepted | Rejected


def _describe(identifier: Identifier) -> str:
    return f"no person with {identifier.kind.value} {identifier.value!r}"


class _Plan:
    """Operations applied in memory to the documents they touch."""

    def __init__(self, db: Any, workspace_id: str, now: float) -> None:
        self.db = db
        self.ws = workspace_id
        self.now = now
        self.people = Table(PEOPLE)
        self.identities = Table(IDENTITIES)
        self.devices = Table(DEVICES)
        self.deliveries = Table(DELIVERIES)
        self.tables = (self.identities, self.people, self.devices, self.deliveries)
        self.known_event_ids: set[str] = set()
        # anonymous id -> topics of its not yet identified events in the store
        self.anonymous_topics: dict[str, set[Topic]] = {}
        self.journal = Journal()
        # person id -> topics, for the request being applied
        self.topics: dict[str, set[Topic]] = {}

    # -- loading ---------------------------------------------------------------

    async def _load(self, table: Table, keys: Iterable[str]) -> None:
        missing = table.missing(set(keys))
        if missing:
            found = await self.db[table.collection].find({"ws": self.ws, "_id": {"$in": missing}}).to_list()
            table.loaded(found, missing)

    async def prefetch(self, operations: list[Operation]) -> None:
        """Load up front what the operations will touch; anything missed loads on demand."""
        identifiers = [ident for op in operations for ident in _identifiers_of(op)]
        identity_keys = {identity_key(self.ws, i.kind, i.value) for i in identifiers if i.kind is not IdKind.CIO_ID}
        anonymous_ids = {op.anonymous_id for op in operations if isinstance(op, (Identify, TrackEvent)) and op.anonymous_id}
        identity_keys |= {anonymous_key(self.ws, anon) for anon in anonymous_ids}
        await self._load(self.identities, identity_keys)
        await self._load(self.devices, {device_key(self.ws, op.token) for op in operations if isinstance(op, (AddDevice, DeleteDevice))})
        await self._load(self.deliveries, {delivery_key(self.ws, op.delivery_id) for op in operations if isinstance(op, DeliveryMetric)})
        person_ids = {i.value for i in identifiers if i.kind is IdKind.CIO_ID}
        person_ids |= {doc["personId"] for table in (self.identities, self.devices, self.deliveries) for doc in table.current_docs()}
        await self._load(self.people, person_ids)
        self.known_event_ids = set()
        for anonymous_id in {op.anonymous_id for op in operations if isinstance(op, Identify) and op.anonymous_id}:
            pending = self.db[EVENTS].find({"anonymousId": anonymous_id, "ws": self.ws, "personId": None}, {"type": 1, "name": 1})
            self.anonymous_topics[anonymous_id] = {topic.activity(doc["type"], doc["name"]) async for doc in pending}

    # -- people and identities ---------------------------------------------------

    async def person(self, person_id: str) -> dict[str, Any] | None:
        await self._load(self.people, [person_id])
        return self.people.get(person_id)

    async def resolve(self, identifier: Identifier) -> str | None:
        """The cioId of the person the identifier addresses now, or None."""
        if identifier.kind is IdKind.CIO_ID:
            person_id = identifier.value
        else:
            key = identity_key(self.ws, identifier.kind, identifier.value)
            await self._load(self.identities, [key])
            identity = self.identities.peek(key)
            if identity is None:
                return None
            person_id = identity["personId"]
        # An identity whose person is gone (an interrupted write) addresses nobody.
        await self._load(self.people, [person_id])
        return person_id if self.people.peek(person_id) is not None else None

    async def existing(self, identifier: Identifier, where: str) -> str:
        person_id = await self.resolve(identifier)
        if person_id is None:
            raise IngestError(field=where, problem=_describe(identifier), status=404)
        return person_id

    async def resolve_or_create(self, identifier: Identifier, where: str) -> str:
        """Customer.io creates the person a call addresses by id or email; a cio_ id must exist."""
        person_id = await self.resolve(identifier)
        if person_id is not None:
            return person_id
        if identifier.kind is IdKind.CIO_ID:
            raise IngestError(field=where, problem=_describe(identifier), status=404)
        return self.create_person(identifier)

    def create_person(self, identifier: Identifier) -> str:
        person_id = new_cio_id()
        doc = person_document(
            self.ws,
            person_id,
            profile_id=identifier.value if identifier.kind is IdKind.ID else None,
            email=identifier.value if identifier.kind is IdKind.EMAIL else None,
            attributes={},
            created_at=self.now,
            now=self.now,
        )
        self.people.put(person_id, doc)
        self.claim(identifier.kind, identifier.value, person_id)
        self.touch(person_id, topic.CREATED)
        return person_id

    def claim(self, kind: str, value: str, person_id: str) -> None:
        key = identity_key(self.ws, kind, value)
        self.identities.put(key, identity_document(self.ws, kind, value, person_id))

    async def release(self, kind: str, value: str | None) -> None:
        if value:
            key = identity_key(self.ws, kind, value)
            await self._load(self.identities, [key])
            self.identities.delete(key)

    async def set_identifier(self, person: dict[str, Any], kind: IdKind, value: str, where: str) -> None:
        """Give the person a profile id or email, unless someone else has it."""
        owner = await self.resolve(Identifier(kind=kind, value=value))
        if owner is not None and owner != person["_id"]:
            raise IngestError(field=where, problem=f"{value!r} already belongs to another person")
        current = person[kind.value]
        if current == value:
            return
        if current is not None and kind is IdKind.EMAIL and current.lower() == value.lower():
            person["email"] = value  # same identity, new spelling
            return
        await self.release(kind, current)
        self.claim(kind, value, person["_id"])
        _set_identifier_field(person, kind, value)
        self.touch(person["_id"], topic.ATTRIBUTES, topic.attribute(kind.value))

    def is_suppressed(self, person_id: str) -> bool:
        doc = self.people.peek(person_id)
        return bool(doc and doc.get("suppressed"))

    # -- operations ----------------------------------------------------------------

    async def apply(self, op: Operation) -> None:
        match op:
            case Identify():
                await self.identify(op)
            case TrackEvent():
                await self.track_event(op)
            case AddDevice():
                await self.add_device(op)
            case DeleteDevice():
                await self.delete_device(op)
            case DeletePerson():
                await self.delete_person(op)
            case SetSuppressed():
                await self.set_suppressed(op)
            case Merge():
                await self.merge(op)
            case DeliveryMetric():
                await self.delivery_metric(op)
            case _:
                raise UnsupportedOperation(op)

    async def identify(self, op: Identify) -> None:
        person_id = await self.resolve(op.target)
        if person_id is None:
            if op.target.kind is IdKind.CIO_ID:
                raise IngestError(field=op.where, problem=_describe(op.target), status=404)
            if op.update_only:
                return  # `_update: true` never creates (as Customer.io)
            person_id = await self._person_for_new_identifier(op)
        if self.is_suppressed(person_id):
            return  # Customer.io ignores data sent for a suppressed person
        person = await self.person(person_id)
        body = op.attributes_where
        # Changing an identifier needs the person addressed by another one (as Customer.io).
        for kind, value in ((IdKind.ID, op.profile_id), (IdKind.EMAIL, op.email)):
            if value is UNSET:
                continue
            same = value.lower() == (person[kind.value] or "").lower() if kind is IdKind.EMAIL else value == person[kind.value]
            if op.target.kind is kind and person[kind.value] is not None and not same:
                raise IngestError(field=f"{body}.{kind.value}", problem=f"differs from the {kind.value} in the path; address the person by cio_<cioId> to change it")
            await self.set_identifier(person, kind, value, f"{body}.{kind.value}")
        changed = _apply_attributes(person["attributes"], op.attributes)
        if op.created_at is not None and person["createdAt"] != op.created_at:
            person["createdAt"] = op.created_at
            changed.add("created_at")
        if changed:
            self.touch(person_id, topic.ATTRIBUTES, *(topic.attribute(key) for key in changed))
        if op.anonymous_id:
            self._adopt_anonymous(person_id, op.anonymous_id)
        if not same_value(person, self.people.peek(person_id)):
            person["updatedAt"] = self.now
            self.people.put(person_id, person)

    async def _person_for_new_identifier(self, op: Identify) -> str:
        """The path identifier is new: attach it to whoever the body's identifiers name, or create a person."""
        owners = set()
        for kind, value in ((IdKind.ID, op.profile_id), (IdKind.EMAIL, op.email)):
            if value is not UNSET and kind is not op.target.kind:
                owner = await self.resolve(Identifier(kind=kind, value=value))
                if owner is not None:
                    owners.add(owner)
        if len(owners) > 1:
            raise IngestError(field=op.where, problem="the id and email given belong to two different people")
        if not owners:
            return self.create_person(op.target)
        person = await self.person(owners.pop())
        if self.is_suppressed(person["_id"]):
            return person["_id"]
        if person[op.target.kind.value] is not None:
            problem = f"the person the body names already has the {op.target.kind.value} {person[op.target.kind.value]!r}"
            raise IngestError(field=op.where, problem=problem)
        await self.set_identifier(person, op.target.kind, op.target.value, op.where)
        self.people.put(person["_id"], person)
        return person["_id"]

    def _adopt_anonymous(self, person_id: str, anonymous_id: str) -> None:
        """Anonymous events sent with this id become the person's; later ones go to them directly."""
        key = anonymous_key(self.ws, anonymous_id)
        if self.identities.peek(key) is not None:
            return  # already identified (by this person or, first, by someone else)
        self.identities.put(key, identity_document(self.ws, "anon", anonymous_id, person_id))
        self.journal.set_operations.append(
            SetOperation(
                collection=EVENTS,
                filter={"anonymousId": anonymous_id, "ws": self.ws, "personId": None},
                update={"$set": {"personId": person_id}},
            )
        )
        # The set operation runs after the new events are inserted, so it adopts this group's too.
        self.touch(person_id, *self.anonymous_topics.get(anonymous_id, ()))
        self.touch(
            person_id,
            *(topic.activity(e["type"], e["name"]) for e in self.journal.events if e["anonymousId"] == anonymous_id and e["personId"] is None),
        )

    async def track_event(self, op: TrackEvent) -> None:
        if op.target is not None:
            person_id = await self.resolve_or_create(op.target, op.where)
        else:
            anonymous = self.identities.peek(anonymous_key(self.ws, op.anonymous_id))
            person_id = await self.resolve(Identifier(kind=IdKind.CIO_ID, value=anonymous["personId"])) if anonymous else None
        if person_id is not None and self.is_suppressed(person_id):
            return
        doc_id = event_id(self.ws, op.client_id)
        if op.client_id:
            if doc_id in self.known_event_ids or await self._event_stored(doc_id, person_id, op.anonymous_id):
                return  # the same client event id again: de-duplicated
            self.known_event_ids.add(doc_id)
        self.journal.events.append(
            event_document(
                self.ws,
                doc_id=doc_id,
                person_id=person_id,
                anonymous_id=op.anonymous_id,
                type=op.type,
                name=op.name,
                data=op.data,
                ts=self.now if op.timestamp is None else op.timestamp,
                received_at=self.now,
                context=op.context,
            )
        )
        if person_id is not None:
            self.touch(person_id, topic.activity(op.type, op.name))

    async def _event_stored(self, doc_id: str, person_id: str | None, anonymous_id: str | None) -> bool:
        # Looked up with its owner, the events' shard key and index prefix
        # (a new event's id is usually not stored, and a miss through the
        # owner's index is cheap). An id stored under another owner is still
        # caught by the insert, which skips duplicate `_id`s (rules/ingest/write.py).
        owner = {"personId": person_id} if person_id is not None else {"anonymousId": anonymous_id}
        return await self.db[EVENTS].find_one({"ws": self.ws, **owner, "_id": doc_id}, {"_id": 1}) is not None

    async def add_device(self, op: AddDevice) -> None:
        person_id = await self.resolve_or_create(op.target, op.where)
        if self.is_suppressed(person_id):
            return
        key = device_key(self.ws, op.token)
        await self._load(self.devices, [key])
        previous = self.devices.get(key)
        attributes = previous["attributes"] if previous else {}
        _apply_attributes(attributes, op.attributes)
        doc = device_document(
            self.ws,
            person_id=person_id,
            token=op.token,
            platform=op.platform,
            last_used=self.now if op.last_used is None else op.last_used,
            attributes=attributes,
        )
        self.devices.put(key, doc)
        if previous and previous["personId"] != person_id:
            self.touch(previous["personId"], topic.DEVICE)  # a token belongs to one device, one person
        self.touch(person_id, topic.DEVICE)

    async def delete_device(self, op: DeleteDevice) -> None:
        person_id = await self.resolve(op.target)
        key = device_key(self.ws, op.token)
        await self._load(self.devices, [key])
        device = self.devices.peek(key)
        if person_id is None or device is None or device["personId"] != person_id:
            return  # nothing to delete: deleting is idempotent
        self.devices.delete(key)
        self.touch(person_id, topic.DEVICE)

    async def delete_person(self, op: DeletePerson) -> None:
        person_id = await self.resolve(op.target)
        if person_id is None:
            return  # already gone: deleting is idempotent
        person = await self.person(person_id)
        await self.release(IdKind.ID, person["id"])
        await self.release(IdKind.EMAIL, person["email"])
        self.people.delete(person_id)
        for table in (self.devices, self.deliveries):
            for key in table.owned_by(person_id):
                table.delete(key)
        # Everything else they own in the store: anonymous ids, events, devices, deliveries.
        for collection in (IDENTITIES, *ACTIVITY_COLLECTIONS):
            self.journal.set_operations.append(SetOperation(collection=collection, filter={"personId": person_id, "ws": self.ws}, update=None))
        self.touch(person_id, topic.DELETED)

    async def set_suppressed(self, op: SetSuppressed) -> None:
        person_id = await self.existing(op.target, op.where)
        person = await self.person(person_id)
        if person["suppressed"] != op.suppressed:
            person["suppressed"] = op.suppressed
            person["updatedAt"] = self.now
            self.people.put(person_id, person)
            self.touch(person_id, topic.SUPPRESSED)

    async def merge(self, op: Merge) -> None:
        primary_id = await self.existing(op.primary, op.primary_where)
        secondary_id = await self.existing(op.secondary, op.secondary_where)
        if primary_id == secondary_id:
            raise IngestError(field=op.secondary_where, problem="is the same person as primary")
        primary = await self.person(primary_id)
        secondary = await self.person(secondary_id)
        # The secondary's attributes fill what the primary lacks or has empty (as Customer.io).
        filled = {key for key, value in secondary["attributes"].items() if primary["attributes"].get(key) in (None, "")}
        primary["attributes"].update({key: secondary["attributes"][key] for key in filled})
        self.people.delete(secondary_id)
        for kind in (IdKind.ID, IdKind.EMAIL):
            value = secondary[kind.value]
            await self.release(kind, value)
            if value and primary[kind.value] is None:
                self.claim(kind, value, primary_id)
                _set_identifier_field(primary, kind, value)
                filled.add(kind.value)
        primary["updatedAt"] = self.now
        self.people.put(primary_id, primary)
        for table in (self.devices, self.deliveries):
            for key in table.owned_by(secondary_id):
                table.put(key, {**table.get(key), "personId": primary_id})
        # Set operations run after the new documents are inserted: they move this group's events too.
        for collection in (IDENTITIES, *ACTIVITY_COLLECTIONS):
            self.journal.set_operations.append(
                SetOperation(collection=collection, filter={"personId": secondary_id, "ws": self.ws}, update={"$set": {"personId": primary_id}})
            )
        self.touch(primary_id, topic.MERGED, *((topic.ATTRIBUTES, *(topic.attribute(key) for key in filled)) if filled else ()))
        self.touch(secondary_id, topic.DELETED, topic.MERGED)

    async def delivery_metric(self, op: DeliveryMetric) -> None:
        key = delivery_key(self.ws, op.delivery_id)
        await self._load(self.deliveries, [key])
        at = self.now if op.timestamp is None else op.timestamp
        delivery = self.deliveries.get(key)
        prefix = op.prefix
        if delivery is None:
            if op.person is None:
                raise IngestError(field=f"{prefix}person", problem="required when a delivery is first reported")
            if op.channel is None:
                raise IngestError(field=f"{prefix}attributes.channel", problem="required when a delivery is first reported")
            delivery = delivery_document(
                self.ws,
                delivery_id=op.delivery_id,
                person_id=await self.existing(op.person, f"{prefix}person"),
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
        self.deliveries.put(key, delivery)
        self.touch(delivery["personId"], topic.MESSAGE)

    def touch(self, person_id: str, *topics: Topic) -> None:
        self.topics.setdefault(person_id, set()).update(topics)

    # -- requests ------------------------------------------------------------------

    async def apply_request(self, operations: list[Operation]) -> Outcome:
        """All of one request's operations, or none of them."""
        for table in self.tables:
            table.checkpoint()
        events, set_operations = len(self.journal.events), len(self.journal.set_operations)
        known_event_ids = set(self.known_event_ids)
        self.topics = {}
        try:
            for op in operations:
                await self.apply(op)
        except IngestError as error:
            for table in self.tables:
                table.rollback()
            del self.journal.events[events:]
            del self.journal.set_operations[set_operations:]
            self.known_event_ids = known_event_ids
            return Rejected(error=error)
        return Accepted(topics={person_id: frozenset(topics) for person_id, topics in self.topics.items()})



def _set_identifier_field(person: dict[str, Any], kind: IdKind, value: str) -> None:
    person[kind.value] = value
    if kind is IdKind.EMAIL:
        person["emailLower"] = value.lower()


def _apply_attributes(attributes: dict[str, Any], changes: dict[str, Any]) -> set[str]:
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


def _identifiers_of(op: Operation) -> list[Identifier]:
    """Every person identifier an operation mentions, for prefetching."""
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


async def apply_requests(db: Any, workspace_id: str, requests: list[list[Operation]], *, now: float) -> list[Outcome]:
    """Apply each request's operations all-or-nothing, in order; write the accepted ones together."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        plan = _Plan(db, workspace_id, now)
        await plan.prefetch([op for request in requests for op in request])
        outcomes = [await plan.apply_request(request) for request in requests]
        try:
            await write_changes(db, workspace_id, plan.tables, plan.journal)
        except IdentityTaken:
            if attempt == MAX_ATTEMPTS:
                raise
            continue
        return outcomes
    raise AssertionError("unreachable")
