"""Shared fixtures: a store per test, and a real HTTP server on 127.0.0.1.

Every test gets its own empty store: an in-memory embedded engine, or, when
SEGMENTS_MONGODB_URI is set, a fresh database on that MongoDB that is
dropped afterwards. Nothing here mocks the store.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

import httpx
import pytest
import uvicorn

from api.settings import Settings
from api.store import open_store
from rules.clock import FakeClock, SystemClock

# One client shared by the test helpers: each new httpx client builds an SSL
# context (about 30 ms of loading CA certificates), even for http:// URLs.
# For plain HTTP only: the TLS tests trust their own CA, set after import.
HTTP = httpx.Client(timeout=120)


def make_settings(**overrides) -> Settings:
    base = Settings.from_env(
        {
            "SEGMENTS_MONGODB_URI": os.environ.get("SEGMENTS_MONGODB_URI", ""),
            # `make test-plain`: the embedded engine without its seam, as the domain meets a real MongoDB
            "SEGMENTS_EMBEDDED_SEAM": os.environ.get("SEGMENTS_EMBEDDED_SEAM", "on"),
        },
        embedded_engine="memory",
        database=f"segments_test_{uuid.uuid4().hex[:12]}",
        # Not throttled: tests send faster than any client should; tests/api/test_rate_limits.py sets limits.
        rate_limit_app=0,
        rate_limit_track=0,
        rate_limit_graphql=0,
    )
    return Settings(**{**base.__dict__, **overrides})


async def _drop_if_real(settings: Settings) -> None:
    if settings.mongodb_uri:
        from pymongo import AsyncMongoClient

        client = AsyncMongoClient(settings.mongodb_uri)
        await client.drop_database(settings.database)
        await client.close()


@pytest.fixture
async def store():
    """An empty store opened on the test's own event loop."""
    settings = make_settings()
    opened = await open_store(settings)
    try:
        yield opened
    finally:
        await opened.close()
        await _drop_if_real(settings)


@pytest.fixture
async def db(store):
    return store.db


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningServer:
    base_url: str
    app: Any
    loop: asyncio.AbstractEventLoop
    clock: Any

    @property
    def services(self):
        return self.app.state.services

    def call(self, fn: Callable[[Any], Awaitable[Any]], timeout: float = 60) -> Any:
        """Run `fn(services)` on the server's event loop (where its store lives)."""
        future = asyncio.run_coroutine_threadsafe(fn(self.services), self.loop)
        return future.result(timeout)

    def create_workspace(self, name: str = "test") -> dict[str, str]:
        from rules.workspaces import create_workspace

        created = self.call(lambda s: create_workspace(s.db, name, now=s.clock.now()))
        return created.as_json()

    def track(self, workspace: dict[str, str]) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url,
            auth=(workspace["siteId"], workspace["trackApiKey"]),
            timeout=30,
        )

    def graphql(self, workspace: dict[str, str], query: str, variables: dict | None = None) -> dict:
        post = HTTP.post if self.base_url.startswith("http://") else httpx.post
        response = post(
            f"{self.base_url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {workspace['appApiKey']}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return response.json()


def start_server(settings: Settings, clock, **uvicorn_options: Any) -> tuple[RunningServer, Callable[[], None]]:
    """`uvicorn_options` go to uvicorn.Config (e.g. ssl_certfile/ssl_keyfile to serve https)."""
    from api.app import create_app

    port = _free_port()
    settings = Settings(**{**settings.__dict__, "port": port})
    app = create_app(settings, clock=clock)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", **uvicorn_options)
    server = uvicorn.Server(config)
    box: dict[str, Any] = {}

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        box["loop"] = loop
        loop.run_until_complete(server.serve())
        loop.run_until_complete(_drop_if_real(settings))
        loop.close()

    thread = threading.Thread(target=run, name="segments-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(30)

    scheme = "https" if "ssl_certfile" in uvicorn_options else "http"
    return RunningServer(f"{scheme}://127.0.0.1:{port}", app, box["loop"], clock), stop


@pytest.fixture
def server():
    running, stop = start_server(make_settings(), SystemClock())
    try:
        yield running
    finally:
        stop()


@pytest.fixture
def fake_clock_server():
    running, stop = start_server(make_settings(), FakeClock())
    try:
        yield running
    finally:
        stop()
