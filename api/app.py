"""The ASGI application: Track API, GraphQL (with GraphiQL), exports, the web console."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute

from api.ratelimit import RateLimitMiddleware
from api.security import security_middleware
from api.services import ChangeListeners, Services, services_of
from api.settings import Settings
from api.store import open_store
from api.webhooks_setup import start_webhooks
from rules.clock import Clock, SystemClock
from rules.ingest.group_commit import GroupCommitWriter
from rules.manual.import_journal import finish_interrupted_imports
from rules.membership.engine import MembershipEngine

log = logging.getLogger("segments")


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    clock = clock or SystemClock()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = await open_store(settings)
        log.info("store: %s", store.description)
        membership = MembershipEngine(store.db, clock, lease_seconds=settings.work_lease_seconds)
        change_listeners = ChangeListeners([membership.people_changed])
        await membership.start()
        await finish_interrupted_imports(store.db, membership)
        webhooks = await start_webhooks(settings, store.db, clock, membership)
        app.state.services = Services(
            settings=settings,
            store=store,
            clock=clock,
            membership=membership,
            webhooks=webhooks,
            track_writer=GroupCommitWriter(store.db, clock=clock, notify=change_listeners.people_changed),
            change_listeners=change_listeners,
        )
        try:
            yield
        finally:
            await webhooks.stop()
            await membership.stop()
            await store.close()

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True, "store": services_of(request).store.description})

    from api.app_api import routes as app_api_routes
    from api.change_stream import routes as change_stream_routes
    from api.console import routes as console_routes
    from api.exports import routes as export_routes
    from api.graphql_app import make_graphql_app
    from api.segment_spec import routes as segment_spec_routes
    from api.track import routes as track_routes
    from api.track_segments import routes as track_segment_routes

    graphql_app = make_graphql_app(settings)
    routes: list[Any] = [
        Route("/health", health),
        *track_routes,
        *track_segment_routes,
        *export_routes,
        *change_stream_routes,
        # Customer.io App API and Segment-spec ingestion (docs/app-api.md, docs/segment-spec.md).
        *app_api_routes,
        *segment_spec_routes,
        # Routes, not a Mount: a Mount answers POST /graphql with a redirect to /graphql/.
        Route("/graphql", graphql_app, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql_app),
        # The web console last: `/` and its assets, after every API route.
        *console_routes,
    ]
    # Outermost first: security headers and CORS wrap every answer, 429s included.
    middleware = [*security_middleware(settings.cors_origins), Middleware(RateLimitMiddleware, settings=settings)]
    return Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
