"""The console and GraphiQL pages are the service's own files, and the API
routes keep answering beside them."""

import re

import httpx

from api.console import DIST


def test_console_page_and_its_assets_come_from_the_service(server):
    page = httpx.get(f"{server.base_url}/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-cache"
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    scripts = [a for a in assets if a.endswith(".js")]
    assert scripts and all(a.startswith("/console-assets/") for a in assets if not a.startswith("data:")), assets
    assert "<script>" not in page.text  # no inline script: the agreed CSP allows none
    script = httpx.get(f"{server.base_url}{scripts[0]}")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert httpx.get(f"{server.base_url}/console-assets/nothing-here.js").status_code == 404


def test_graphiql_is_the_local_build_not_a_cdn_page(server):
    page = httpx.get(f"{server.base_url}/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert page.text == (DIST / "graphiql.html").read_text()
    assert not re.search(r"https?://", page.text), "the GraphiQL page must load nothing from outside"


def test_api_routes_are_not_shadowed_by_the_console(server):
    ws = server.create_workspace()
    assert httpx.post(f"{server.base_url}/graphql", json={"query": "{ __typename }"}).status_code == 401
    assert server.graphql(ws, "{ workspace { name } }")["data"] == {"workspace": {"name": "test"}}
    assert httpx.get(f"{server.base_url}/health").json()["ok"] is True
    missing = httpx.get(f"{server.base_url}/exports/segments/seg_x.csv", headers={"Authorization": f"Bearer {ws['appApiKey']}"})
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/json"
    assert httpx.get(f"{server.base_url}/no-such-page").status_code == 404
