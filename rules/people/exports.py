"""People exports as Customer.io's App API runs them: create an export from
a filter (rules/people/search.py) and extra attribute columns, read its
status, ask for a download link, fetch the CSV through that link.

An export stores its filter, columns and the number of people it matched
when created (`total`). The link is a random token valid for 15 minutes (as
Customer.io's signed links); the file is written as it is downloaded
(rules/people/csv_export.py), so its rows are the matching people at download time.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from rules.store.collections import EXPORTS
from rules.people.csv_export import ExportInvalid, attribute_paths
from rules.people.search import PeopleSearchInvalid, matching_people, parse_filter
from rules.store.types import Database

DOWNLOAD_LINK_SECONDS = 15 * 60


@dataclass(frozen=True, kw_only=True)
class PeopleExport:
    id: str
    workspace_id: str
    filters: Any
    attributes: tuple[str, ...]
    total: int
    downloads: int
    created_at: float
    updated_at: float

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> PeopleExport:
        return cls(
            id=doc["_id"],
            workspace_id=doc["ws"],
            filters=doc["filters"],
            attributes=tuple(doc["attributes"]),
            total=doc["total"],
            downloads=doc["downloads"],
            created_at=doc["createdAt"],
            updated_at=doc["updatedAt"],
        )


def export_columns(raw: Any) -> tuple[str, ...]:
    """`attributes`: a list of attribute names (dots for nested objects)."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(name, str) and "," not in name for name in raw):
        raise PeopleSearchInvalid("attributes: must be a list of attribute names")
    try:
        return attribute_paths(",".join(raw))
    except ExportInvalid as invalid:
        raise PeopleSearchInvalid(str(invalid)) from None


async def create_export(db: Database, workspace_id: str, filters: Any, attributes: Any, *, now: float) -> PeopleExport:
    """Validates the filter and columns (PeopleSearchInvalid) and counts the people they match."""
    columns = export_columns(attributes)
    node = parse_filter(filters, "filters")
    total = 0
    async for _ in matching_people(db, workspace_id, node):
        total += 1
    doc = {
        "_id": f"exp_{secrets.token_hex(8)}",
        "ws": workspace_id,
        "filters": filters,
        "attributes": list(columns),
        "total": total,
        "downloads": 0,
        "createdAt": now,
        "updatedAt": now,
    }
    await db[EXPORTS].insert_many([doc])
    return PeopleExport.from_document(doc)


async def find_export(db: Database, workspace_id: str, export_id: str) -> PeopleExport | None:
    doc = await db[EXPORTS].find_one({"_id": export_id, "ws": workspace_id})
    return PeopleExport.from_document(doc) if doc else None


async def list_exports(db: Database, workspace_id: str) -> list[PeopleExport]:
    cursor = db[EXPORTS].find({"ws": workspace_id}).sort([("createdAt", 1), ("_id", 1)])
    return [PeopleExport.from_document(doc) async for doc in cursor]


async def issue_download_token(db: Database, export: PeopleExport, *, now: float) -> str:
    """A new link token for the export, valid for DOWNLOAD_LINK_SECONDS."""
    token = secrets.token_urlsafe(24)
    await db[EXPORTS].update_one(
        {"_id": export.id, "ws": export.workspace_id},
        {"$set": {"downloadToken": token, "downloadExpires": now + DOWNLOAD_LINK_SECONDS, "updatedAt": now}, "$inc": {"downloads": 1}},
    )
    return token


async def export_for_token(db: Database, export_id: str, token: str, *, now: float) -> PeopleExport | None:
    """The export a download link names, if its token is the current one and not expired."""
    doc = await db[EXPORTS].find_one({"_id": export_id})
    if doc is None or not doc.get("downloadToken") or doc.get("downloadExpires", 0) < now:
        return None
    if not hmac.compare_digest(doc["downloadToken"], token):
        return None
    return PeopleExport.from_document(doc)
