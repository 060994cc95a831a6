"""Workspaces and their API keys.

Keys are stored only as SHA-256 digests in `api_keys`, keyed by `_id`, so a
lookup is a primary-key read and a leaked database does not leak keys.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from rules.collections import API_KEYS, WORKSPACES


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


async def create_workspace(db: Any, name: str, *, now: float) -> NewWorkspace:
    name = name.strip()
    if not name:
        raise ValueError("workspace name must not be empty")
    workspace = Workspace(id=f"ws_{secrets.token_hex(8)}", name=name, site_id=secrets.token_hex(10))
    track_key = f"trk_{secrets.token_urlsafe(24)}"
    app_key = f"app_{secrets.token_urlsafe(32)}"
    await db[WORKSPACES].insert_many(
        [{"_id": workspace.id, "name": name, "siteId": workspace.site_id, "createdAt": now}]
    )
    await db[API_KEYS].insert_many(
        [
            {"_id": key_digest(track_key), "workspaceId": workspace.id, "kind": "track"},
            {"_id": key_digest(app_key), "workspaceId": workspace.id, "kind": "app"},
        ]
    )
    return NewWorkspace(workspace=workspace, track_api_key=track_key, app_api_key=app_key)


async def authenticate_track(db: Any, site_id: str, track_api_key: str) -> Workspace | None:
    """HTTP Basic `siteId:trackApiKey` -> workspace, or None."""
    workspace = await authenticate_write_key(db, track_api_key)
    if workspace is None or not hmac.compare_digest(workspace.site_id, site_id):
        return None
    return workspace


async def authenticate_write_key(db: Any, track_api_key: str) -> Workspace | None:
    """Segment-spec `writeKey` -> workspace, or None. The write key is the workspace's
    Track API key: keys are random and stored by digest, so a key names one workspace."""
    key = await db[API_KEYS].find_one({"_id": key_digest(track_api_key)})
    if key is None or key.get("kind") != "track":
        return None
    doc = await db[WORKSPACES].find_one({"_id": key["workspaceId"]})
    return _workspace(doc) if doc else None


async def authenticate_app(db: Any, app_api_key: str) -> Workspace | None:
    """`Authorization: Bearer appApiKey` -> workspace, or None."""
    key = await db[API_KEYS].find_one({"_id": key_digest(app_api_key)})
    if key is None or key.get("kind") != "app":
        return None
    doc = await db[WORKSPACES].find_one({"_id": key["workspaceId"]})
    return _workspace(doc) if doc else None


async def list_workspaces(db: Any) -> list[Workspace]:
    return [_workspace(doc) async for doc in db[WORKSPACES].find({}).sort("createdAt", 1)]
