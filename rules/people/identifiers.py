"""How a person is addressed, and the identities that keep ids and emails unique.

The Track API addresses a person with one string (docs/data-model.md):
`cio_<cioId>` is the internal id, a string containing `@` is an email
(compared case-insensitively), anything else is the profile `id`.
Uniqueness of profile ids, emails and anonymous ids within a workspace
lives in the `identities` collection, keyed by `_id`, so it holds on any
engine and shard layout.
"""

from __future__ import annotations

import enum
import re
import secrets
from dataclasses import dataclass
from typing import Any, Iterable

from rules.store.collections import IDENTITIES, PEOPLE
from rules.store.types import Database

# Customer.io: ids and emails are at most 150 bytes.
MAX_IDENTIFIER_BYTES = 150
CIO_PREFIX = "cio_"
_CIO_ID = re.compile(r"[0-9a-f]{20}")


class IdKind(enum.StrEnum):
    ID = "id"
    EMAIL = "email"
    CIO_ID = "cio_id"


class InvalidIdentifier(ValueError):
    """An identifier that cannot address anybody; the message names the problem."""


@dataclass(frozen=True, kw_only=True)
class Identifier:
    kind: IdKind
    value: str

    def __post_init__(self) -> None:
        problem = identifier_problem(self.kind, self.value)
        if problem:
            raise InvalidIdentifier(problem)

    def __str__(self) -> str:
        return f"{CIO_PREFIX}{self.value}" if self.kind is IdKind.CIO_ID else self.value


def identifier_problem(kind: IdKind, value: Any) -> str | None:
    """Why `value` cannot be an identifier of `kind`, or None."""
    if not isinstance(value, str):
        return "must be a string" if value is not None else "must be a string, got null"
    if not value.strip():
        return "must not be empty"
    if len(value.encode("utf-8")) > MAX_IDENTIFIER_BYTES:
        return f"must be at most {MAX_IDENTIFIER_BYTES} bytes"
    if kind is IdKind.EMAIL and "@" not in value:
        return "is not an email address (no @)"
    if kind is IdKind.CIO_ID and not _CIO_ID.fullmatch(value):
        return "is not a cio id (20 lowercase hex characters)"
    return None


def parse_identifier(raw: str) -> Identifier:
    """The Track API path convention: cio_<cioId>, an email, or a profile id."""
    if isinstance(raw, str) and raw.startswith(CIO_PREFIX):
        return Identifier(kind=IdKind.CIO_ID, value=raw[len(CIO_PREFIX) :])
    if isinstance(raw, str) and "@" in raw:
        return Identifier(kind=IdKind.EMAIL, value=raw)
    return Identifier(kind=IdKind.ID, value=raw)


def new_cio_id() -> str:
    return secrets.token_hex(10)


def identity_key(workspace_id: str, kind: str, value: str) -> str:
    """`_id` in `identities`: "{ws}|id|{id}", "{ws}|email|{lowercased}", "{ws}|anon|{anonymous id}"."""
    return f"{workspace_id}|{kind}|{value.lower() if kind == IdKind.EMAIL else value}"


def anonymous_key(workspace_id: str, anonymous_id: str) -> str:
    return identity_key(workspace_id, "anon", anonymous_id)


def identity_document(workspace_id: str, kind: str, value: str, person_id: str) -> dict[str, Any]:
    doc_id = identity_key(workspace_id, kind, value)
    # `key` repeats the `_id` without the workspace: a person's identities listed by kind and value alone.
    return {"_id": doc_id, "ws": workspace_id, "personId": person_id, "key": doc_id.split("|", 1)[1]}


def person_identity_documents(workspace_id: str, person: dict[str, Any]) -> list[dict[str, Any]]:
    """The identities a person document claims (its profile id and email)."""
    return [
        identity_document(workspace_id, kind, person[kind], person["_id"])
        for kind in (IdKind.ID, IdKind.EMAIL)
        if person.get(kind)
    ]


async def resolve_people(db: Database, workspace_id: str, identifiers: Iterable[Identifier]) -> dict[Identifier, str]:
    """Map each identifier to the cioId of the person it addresses; unknown ones are left out."""
    wanted = set(identifiers)
    found: dict[Identifier, str] = {}
    cio_ids = [ident.value for ident in wanted if ident.kind is IdKind.CIO_ID]
    existing = {doc["_id"] async for doc in db[PEOPLE].find({"ws": workspace_id, "_id": {"$in": cio_ids}}, {"_id": 1})}
    found.update({ident: ident.value for ident in wanted if ident.kind is IdKind.CIO_ID and ident.value in existing})
    keyed = {identity_key(workspace_id, ident.kind, ident.value): ident for ident in wanted if ident.kind is not IdKind.CIO_ID}
    async for doc in db[IDENTITIES].find({"ws": workspace_id, "_id": {"$in": list(keyed)}}, {"personId": 1}):
        found[keyed[doc["_id"]]] = doc["personId"]
    return found
