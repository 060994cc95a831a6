"""`rotateApiKey`: a new key of one kind; the previous one stops working at once."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers.context import Info
from resolvers.errors import NotFoundError
from rules.workspaces import KeyKind, WorkspaceNotFound, rotate_keys

# GraphQL enums: aliases of the domain's enums (valid types for mypy), named by strawberry.enum.
ApiKeyKind = KeyKind
strawberry.enum(KeyKind, name="ApiKeyKind", description="TRACK: the Track API key (HTTP Basic); APP: the Bearer key of GraphQL and exports.")


@strawberry.type(description="The new key, shown only here: only its digest is stored.")
class RotatedApiKey:
    kind: ApiKeyKind
    key: str


RotateApiKeyResult = Annotated[RotatedApiKey | NotFoundError, strawberry.union("RotateApiKeyResult")]


@strawberry.type
class WorkspacesMutation:
    @strawberry.mutation(
        description="Replaces the workspace's key of this kind. The previous key is refused from the next request on, "
        "including the APP key that authenticated this call: use the returned one."
    )
    async def rotate_api_key(self, info: Info, kind: ApiKeyKind) -> RotateApiKeyResult:
        try:
            (key,) = await rotate_keys(info.context.db, info.context.workspace.id, [KeyKind(kind)], now=info.context.now)
        except WorkspaceNotFound as missing:
            return NotFoundError(message=str(missing))
        return RotatedApiKey(kind=key.kind, key=key.value)
