"""Who an ingestion operation addresses: identifiers (profile id, email,
cioId, anonymous id) resolved to people in a working set, people created
for new identifiers, identifiers claimed and released.

An identity document (`identities`, keyed by workspace, kind and value) is
how a profile id, email or anonymous id finds its person; its `_id` is the
uniqueness check when written (rules/ingest/write.py).
"""

from __future__ import annotations

from typing import Any

from rules import topics as topic
from rules.ingest.operations import IngestError
from rules.ingest.working_set import WorkingSet
from rules.people.identifiers import Identifier, IdKind, identity_document, identity_key, new_cio_id
from rules.store.documents import person_document


def describe(identifier: Identifier) -> str:
    return f"no person with {identifier.kind.value} {identifier.value!r}"


def set_identifier_field(person: dict[str, Any], kind: IdKind, value: str) -> None:
    person[kind.value] = value
    if kind is IdKind.EMAIL:
        person["emailLower"] = value.lower()


class IdentityResolver:
    """Identifiers to people, over the documents of a working set."""

    def __init__(self, working: WorkingSet) -> None:
        self.working = working

    async def resolve(self, identifier: Identifier) -> str | None:
        """The cioId of the person the identifier addresses now, or None."""
        working = self.working
        if identifier.kind is IdKind.CIO_ID:
            person_id = identifier.value
        else:
            key = identity_key(working.ws, identifier.kind, identifier.value)
            await working.load(working.identities, [key])
            identity = working.identities.peek(key)
            if identity is None:
                return None
            person_id = identity["personId"]
        # An identity whose person is gone (an interrupted write) addresses nobody.
        await working.load(working.people, [person_id])
        return person_id if working.people.peek(person_id) is not None else None

    async def existing(self, identifier: Identifier, where: str) -> str:
        person_id = await self.resolve(identifier)
        if person_id is None:
            raise IngestError(field=where, problem=describe(identifier), status=404)
        return person_id

    async def resolve_or_create(self, identifier: Identifier, where: str) -> str:
        """Customer.io creates the person a call addresses by id or email; a cio_ id must exist."""
        person_id = await self.resolve(identifier)
        if person_id is not None:
            return person_id
        if identifier.kind is IdKind.CIO_ID:
            raise IngestError(field=where, problem=describe(identifier), status=404)
        return self.create_person(identifier)

    def create_person(self, identifier: Identifier) -> str:
        working = self.working
        person_id = new_cio_id()
        doc = person_document(
            working.ws,
            person_id,
            profile_id=identifier.value if identifier.kind is IdKind.ID else None,
            email=identifier.value if identifier.kind is IdKind.EMAIL else None,
            attributes={},
            created_at=working.now,
            now=working.now,
        )
        working.people.put(person_id, doc)
        self.claim(identifier.kind, identifier.value, person_id)
        working.touch(person_id, topic.CREATED)
        return person_id

    def claim(self, kind: str, value: str, person_id: str) -> None:
        key = identity_key(self.working.ws, kind, value)
        self.working.identities.put(key, identity_document(self.working.ws, kind, value, person_id))

    async def release(self, kind: str, value: str | None) -> None:
        if value:
            key = identity_key(self.working.ws, kind, value)
            await self.working.load(self.working.identities, [key])
            self.working.identities.delete(key)

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
        set_identifier_field(person, kind, value)
        self.working.touch(person["_id"], topic.ATTRIBUTES, topic.attribute(kind.value))
