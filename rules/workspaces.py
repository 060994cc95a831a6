"""Workspaces and their API keys.

Keys are stored only as SHA-256 digests in `api_keys`, keyed by `_id`, so a
lookup is a primary-key read and a leaked database does not leak keys.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from rules.store.collections import API_KEYS, WORKSPACE_DATA, WORKSPACES
from rules.store.types import Database


@dataclass(frozen=True, kw_only=True)
class Workspace:
    id: str
    name: str
    site_id: str


@dataclass(frozen=True, kw_only=True)
class NewWorkspace:
    workspace: Workspace
    track_api_key: str
    app_api_key: str

    def as_json(self) -> dict[str, str]:
        return {
            "workspaceId": self.workspace.id,
            "name": self.workspace.name,
            "siteId": self.workspace.site_id,
            "trackApiKey": self.track_api_key,
            "appApiKey": self.app_api_key,
        }


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _workspace(doc: dict[str, Any]) -> Workspace:
    return Workspace(id=doc["_id"], name=doc["name"], site_id=doc["siteId"])


async def create_workspace(db: Database, name: str, *, now: float) -> NewWorkspace:
    name = name.strip()
    if not name:
        raise ValueError("workspace name must not be empty")
    workspace = Workspace(id=f"ws_{secrets.token_hex(8)}", name=name, site_id=secrets.token_hex(10))
    track_key, app_key = _new_key(KeyKind.TRACK), _new_key(KeyKind.APP)
    await db[WORKSPACES].insert_many(
        [{"_id": workspace.id, "name": name, "siteId": workspace.site_id, "createdAt": now}]
    )
    await db[API_KEYS].insert_many([_key_document(workspace.id, key, now=now) for key in (track_key, app_key)])
    return NewWorkspace(workspace=workspace, track_api_key=track_key.value, app_api_key=app_key.value)


class KeyKind(StrEnum):
    TRACK = "track"
    APP = "app"


@dataclass(frozen=True, kw_only=True)
class ApiKey:
    kind: KeyKind
    value: str


_KEY_PREFIX_AND_BYTES = {KeyKind.TRACK: ("trk_", 24), KeyKind.APP: ("app_", 32)}


def _new_key(kind: KeyKind) -> ApiKey:
    prefix, size = _KEY_PREFIX_AND_BYTES[kind]
    return ApiKey(kind=kind, value=f"{prefix}{secrets.token_urlsafe(size)}")


def _key_document(workspace_id: str, key: ApiKey, *, now: float) -> dict[str, Any]:
    return {"_id": key_digest(key.value), "workspaceId": workspace_id, "kind": key.kind.value, "createdAt": now}


class WorkspaceNotFound(ValueError):
    def __init__(self, workspace_id: str) -> None:
        super().__init__(f"no workspace {workspace_id} (see: segments workspace list)")


async def find_workspace(db: Database, workspace_id: str) -> Workspace:
    doc = await db[WORKSPACES].find_one({"_id": workspace_id})
    if doc is None:
        raise WorkspaceNotFound(workspace_id)
    return _workspace(doc)


async def rotate_keys(db: Database, workspace_id: str, kinds: list[KeyKind], *, now: float) -> list[ApiKey]:
    """New keys of these kinds; the workspace's previous keys of these kinds stop working at once.

    The new key is written before the old ones are deleted, so a crash in
    between leaves a working key (both, until the rotation is run again),
    never none. Every request authenticates against `api_keys`; nothing
    caches a key.
    """
    await find_workspace(db, workspace_id)
    keys = [_new_key(kind) for kind in dict.fromkeys(kinds)]
    await db[API_KEYS].insert_many([_key_document(workspace_id, key, now=now) for key in keys])
    await db[API_KEYS].delete_many(
        {
            "workspaceId": workspace_id,
            "kind": {"$in": [key.kind.value for key in keys]},
            "_id": {"$nin": [key_digest(key.value) for key in keys]},
        }
    )
    return keys


async def delete_workspace(db: Database, workspace_id: str) -> dict[str, int]:
    """Delete the workspace, its keys and all its data: documents deleted per collection.

    Keys go first, so nothing can write into the workspace while its data is removed."""
    workspace = await find_workspace(db, workspace_id)
    deleted = {API_KEYS: (await db[API_KEYS].delete_many({"workspaceId": workspace.id})).deleted_count}
    for collection in WORKSPACE_DATA:
        deleted[collection] = (await db[collection].delete_many({"ws": workspace.id})).deleted_count
    await db[WORKSPACES].delete_one({"_id": workspace.id})
    return deleted


async def authenticate_track(db: Database, site_id: str, track_api_key: str) -> Workspace | None:
    """HTTP Basic `siteId:trackApiKey` -> workspace, or None."""
    workspace = await authenticate_write_key(db, track_api_key)
    if workspace is None or not hmac.compare_digest(workspace.site_id, site_id):
        return None
    return workspace


async def authenticate_write_key(db: Database, track_api_key: str) -> Workspace | None:
    """Segment-spec `writeKey` -> workspace, or None. The write key is the workspace's
    Track API key: keys are random and stored by digest, so a key names one workspace."""
    key = await db[API_KEYS].find_one({"_id": key_digest(track_api_key)})
    if key is None or key.get("kind") != "track":
        return None
    doc = await db[WORKSPACES].find_one({"_id": key["workspaceId"]})
    return _workspace(doc) if doc else None


async def authenticate_app(db: Database, app_api_key: str) -> Workspace | None:
    """`Authorization: Bearer appApiKey` -> workspace, or None."""
    key = await db[API_KEYS].find_one({"_id": key_digest(app_api_key)})
    if key is None or key.get("kind") != "app":
        return None
    doc = await db[WORKSPACES].find_one({"_id": key["workspaceId"]})
    return _workspace(doc) if doc else None


async def list_workspaces(db: Database) -> list[Workspace]:
    return [_workspace(doc) async for doc in db[WORKSPACES].find({}).sort("createdAt", 1)]
