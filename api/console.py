"""The web console (`/`) and the GraphiQL page (browser GETs of `/graphql`),
both built by Vite from console/ into console/dist (`make console`).

Everything the pages load is served from here (`/console-assets/...`):
self-hosted installations often have no internet access, and the security
headers allow scripts from this origin only. The console uses hash routes
(`/#/segments/...`), so `/` is its only page and no console path can shadow
an API route.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

DIST = Path(__file__).resolve().parent.parent / "console" / "dist"
ASSETS_PATH = "/console-assets"

NOT_BUILT = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Segments</title></head>
<body><h1>The console is not built</h1>
<p>Run <code>make console</code> (or <code>make run</code>, which builds it) in the project directory; it needs Node.js 20 and npm.</p>
<p>The API works without it: GraphQL at <code>/graphql</code> (POST), the Track API under <code>/api/</code>.</p>
</body></html>"""


def _page(name: str) -> Response:
    page = DIST / name
    if not page.is_file():
        return HTMLResponse(NOT_BUILT, status_code=503)
    # The page names hashed asset files: always revalidate it, so a rebuild shows at once.
    return FileResponse(page, media_type="text/html", headers={"Cache-Control": "no-cache"})


async def console_page(request: Request) -> Response:
    return _page("index.html")


def graphiql_page() -> Response:
    return _page("graphiql.html")


class _Assets(StaticFiles):
    """Hashed file names: a file's content never changes under its name."""

    async def get_response(self, path: str, scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


routes = [
    Route("/", console_page, methods=["GET"]),
    Mount(ASSETS_PATH, app=_Assets(directory=DIST / "console-assets", check_dir=False), name="console-assets"),
]
