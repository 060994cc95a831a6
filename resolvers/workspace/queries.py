"""`workspace`: which workspace the app key opens (the console shows it after sign-in)."""

from __future__ import annotations

import strawberry

from resolvers.context import Info


@strawberry.type(description="The workspace the request's app API key belongs to.")
class Workspace:
    id: strawberry.ID
    name: str
    site_id: str = strawberry.field(description="The Track API's HTTP Basic user name.")


@strawberry.type
class WorkspaceQuery:
    @strawberry.field(description="The workspace of the app API key in use.")
    def workspace(self, info: Info) -> Workspace:
        workspace = info.context.workspace
        return Workspace(id=strawberry.ID(workspace.id), name=workspace.name, site_id=workspace.site_id)
