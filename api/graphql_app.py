"""The GraphQL endpoint: Strawberry's ASGI view with our authentication.

HTTP requests carry `Authorization: Bearer <appApiKey>`; without a valid
app key they get 401 and never reach the schema. The GraphiQL page itself
is served to anyone, because GraphiQL is where the user types the header.
Websockets (graphql-transport-ws, for subscriptions) authenticate with the
same header or, as browsers cannot set headers on websockets, with
`{"Authorization": "Bearer ..."}` in the connection_init payload.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET

from api.console import graphiql_page
from api.services import services_of
from api.settings import Settings
from resolvers.context import Context
from resolvers.schema import build_schema
from rules.store.types import Database
from rules.workspaces import Workspace, authenticate_app

UNAUTHENTICATED = "Send Authorization: Bearer <appApiKey> (the app API key of a workspace)"


def _bearer_token(authorization: Any) -> str | None:
    if not isinstance(authorization, str):
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


async def _workspace_for(db: Database, authorization: Any) -> Workspace | None:
    token = _bearer_token(authorization)
    return await authenticate_app(db, token) if token else None


class SegmentsGraphQL(GraphQL[Context, None]):
    async def run(self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        if isinstance(request, WebSocket):
            return await super().run(request, context, root_value)
        if self.should_render_graphql_ide(self.request_adapter_class(request)):
            # Our own build of GraphiQL (api/console.py), not Strawberry's CDN page.
            return graphiql_page()
        workspace = await _workspace_for(services_of(request).db, request.headers.get("authorization"))
        if workspace is None:
            return JSONResponse(
                {"errors": [{"message": UNAUTHENTICATED}]},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        request.state.workspace = workspace
        return await super().run(request, context, root_value)

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        services = services_of(request)
        if self.is_websocket_request(request):
            workspace = await _workspace_for(services.db, request.headers.get("authorization"))
            return Context.create(services, workspace, long_lived=True)
        return Context.create(services, request.state.workspace)

    async def on_ws_connect(self, context: Context) -> None:
        if context.session is not None:
            return
        params = context.connection_params or {}
        workspace = await _workspace_for(context.services.db, params.get("Authorization") or params.get("authorization"))
        if workspace is None:
            raise ConnectionRejectionError({"message": UNAUTHENTICATED})
        context.sign_in(workspace, long_lived=True)


def make_graphql_app(settings: Settings) -> SegmentsGraphQL:
    return SegmentsGraphQL(
        build_schema(settings),
        graphql_ide="graphiql",
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        # CSV imports (GraphQL multipart request spec). Multipart forms are the
        # usual CSRF concern; here every request needs a Bearer header, which
        # a cross-site form cannot send.
        multipart_uploads_enabled=True,
    )
