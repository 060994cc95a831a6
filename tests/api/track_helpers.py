"""Reading the store behind the Track API tests (through the server's own loop)."""

from __future__ import annotations

from typing import Any

COLLECTIONS = ("people", "identities", "events", "devices", "deliveries")


def stored(server: Any, collection: str, workspace: dict, query: dict | None = None) -> list[dict]:
    """Documents of one workspace, ordered by `_id`."""
    filter = {"ws": workspace["workspaceId"], **(query or {})}
    return server.call(lambda s: s.db[collection].find(filter).sort("_id", 1).to_list())


def snapshot(server: Any, workspace: dict) -> dict[str, list[dict]]:
    """Everything the Track API may write for a workspace: to assert that a refused request wrote nothing."""
    return {collection: stored(server, collection, workspace) for collection in COLLECTIONS}


def person(server: Any, workspace: dict, **query: Any) -> dict | None:
    found = stored(server, "people", workspace, query)
    assert len(found) <= 1, found
    return found[0] if found else None


def record_changes(server: Any) -> list[tuple[str, list[str], set[str]]]:
    """Every people_changed call from now on, in order."""
    calls: list[tuple[str, list[str], set[str]]] = []

    async def listener(workspace_id: str, person_ids: list[str], topics: set[str]) -> None:
        calls.append((workspace_id, list(person_ids), set(topics)))

    async def install(services: Any) -> None:
        services.change_listeners.append(listener)

    server.call(install)
    return calls
