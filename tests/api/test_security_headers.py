"""Security headers on every response, over HTTP; CORS off unless
SEGMENTS_CORS_ORIGINS names origins (api/security.py)."""

from __future__ import annotations

import httpx
import pytest
from conftest import make_settings, start_server

from api.security import CONTENT_SECURITY_POLICY
from api.settings import Settings
from rules.clock import SystemClock

AGREED = {
    "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}
ALLOWED = "https://console.example"


def _responses(server, ws) -> dict[str, httpx.Response]:
    bearer = {"Authorization": f"Bearer {ws['appApiKey']}"}
    url = server.base_url
    return {
        "health": httpx.get(f"{url}/health"),
        "console": httpx.get(f"{url}/"),
        "graphiql page": httpx.get(f"{url}/graphql", headers={"Accept": "text/html"}),
        "graphql": httpx.post(f"{url}/graphql", json={"query": "{ segments { id } }"}, headers=bearer),
        "graphql 401": httpx.post(f"{url}/graphql", json={"query": "{ segments { id } }"}),
        "track 400": httpx.put(f"{url}/api/v1/customers/ann", content=b"{", auth=(ws["siteId"], ws["trackApiKey"])),
        "export csv": httpx.get(f"{url}/exports/people.csv", headers=bearer),
        "unknown path": httpx.get(f"{url}/no/such/page"),
    }


def test_every_response_carries_the_agreed_security_headers(server):
    assert CONTENT_SECURITY_POLICY == AGREED["content-security-policy"]
    ws = server.create_workspace()
    responses = _responses(server, ws)
    assert {name: r.status_code for name, r in responses.items()} == {
        "health": 200, "console": 200, "graphiql page": 200, "graphql": 200, "graphql 401": 401,
        "track 400": 400, "export csv": 200, "unknown path": 404,
    }
    for name, response in responses.items():
        assert {header: response.headers.get(header) for header in AGREED} == AGREED, name


def test_cors_is_off_by_default(server):
    ws = server.create_workspace()
    origin = {"Origin": ALLOWED}
    simple = httpx.post(f"{server.base_url}/graphql", json={"query": "{ segments { id } }"},
                        headers={**origin, "Authorization": f"Bearer {ws['appApiKey']}"})
    preflight = httpx.options(f"{server.base_url}/graphql", headers={
        **origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"})
    assert simple.status_code == 200
    for response in (simple, preflight):
        assert not [h for h in response.headers if h.lower().startswith("access-control-")], response.headers


@pytest.fixture
def cors_server():
    running, stop = start_server(make_settings(cors_origins=(ALLOWED,)), SystemClock())
    try:
        yield running
    finally:
        stop()


def test_configured_origins_and_only_they_get_cors(cors_server):
    ws = cors_server.create_workspace()
    url = f"{cors_server.base_url}/graphql"
    preflight = httpx.options(url, headers={
        "Origin": ALLOWED, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ALLOWED
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert preflight.headers["x-frame-options"] == "DENY"

    bearer = {"Authorization": f"Bearer {ws['appApiKey']}"}
    allowed = httpx.post(url, json={"query": "{ segments { id } }"}, headers={**bearer, "Origin": ALLOWED})
    assert allowed.headers["access-control-allow-origin"] == ALLOWED
    other = httpx.post(url, json={"query": "{ segments { id } }"}, headers={**bearer, "Origin": "https://evil.example"})
    assert other.status_code == 200 and "access-control-allow-origin" not in other.headers
    refused = httpx.options(url, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers


def test_cors_origins_setting():
    env = {"SEGMENTS_CORS_ORIGINS": " https://a.example, http://localhost:3000/ ,https://a.example"}
    assert Settings.from_env(env).cors_origins == ("https://a.example", "http://localhost:3000")
    assert Settings.from_env({}).cors_origins == ()
    with pytest.raises(SystemExit, match="SEGMENTS_CORS_ORIGINS: 'a.example/path' is not an origin"):
        Settings.from_env({"SEGMENTS_CORS_ORIGINS": "a.example/path"})
