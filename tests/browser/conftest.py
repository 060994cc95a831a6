"""The console in a real browser: Debian's Chromium driven by Playwright,
against a real service (uvicorn on 127.0.0.1) holding the demo data set.

The browser is the installed /usr/bin/chromium (SEGMENTS_CHROMIUM overrides),
never a downloaded build; a missing browser or a missing console build fails
the tests with the command that fixes it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from api.console import DIST
from rules.clock import SystemClock
from rules.demo import load_demo
from tests.conftest import make_settings, start_server

CHROMIUM = os.environ.get("SEGMENTS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEMO_PEOPLE = 400
# The machine running the tests may be busy: wait for what the page should show
# as long as for an action, not the 5 s default.
expect.set_options(timeout=20_000)
# The security headers agreed for the service (added by its middleware on
# another branch): the console must work under them, so every page the tests
# open is served with them.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'"
)


# Per module, not per session: Playwright's sync API keeps an event loop running
# in the main thread while it is open, which the async tests run later refuse.
@pytest.fixture(scope="module")
def browser() -> Browser:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"Chromium is missing at {CHROMIUM}: run `make chromium` (apt-get install chromium)", pytrace=False)
    if not (DIST / "index.html").is_file():
        pytest.fail(f"the console is not built ({DIST}): run `make console`", pytrace=False)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def demo_server():
    """A service with one workspace of demo data, shared by a module's tests."""
    running, stop = start_server(make_settings(), SystemClock())
    try:
        workspace = running.create_workspace("Demo shop")
        running.call(lambda s: load_demo(s.db, workspace["workspaceId"], now=s.clock.now(), people=DEMO_PEOPLE))
        running.workspace = workspace
        yield running
    finally:
        stop()


@pytest.fixture
def page(browser: Browser, demo_server) -> Page:
    # A fresh context per test: its own sessionStorage, so every test signs in.
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, accept_downloads=True, base_url=demo_server.base_url, timezone_id="UTC"
    )
    context.set_default_timeout(20_000)
    context.route("**/*", _with_security_headers)
    opened = context.new_page()
    errors: list[str] = []
    foreign: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    opened.on("request", lambda request: None if _own(request.url, demo_server.base_url) else foreign.append(request.url))
    # A test that provokes an error on purpose (a wrong key's 401) clears it from here.
    opened.console_errors = errors
    try:
        yield opened
    finally:
        context.close()
    # Uncaught errors and failed requests (CSP violations included) fail the test.
    assert not errors, errors
    assert not foreign, f"loaded from outside the service: {foreign}"


def _own(url: str, base_url: str) -> bool:
    return url.startswith((base_url + "/", "data:", "blob:"))


def _with_security_headers(route) -> None:
    if route.request.resource_type != "document":
        route.continue_()
        return
    response = route.fetch()
    route.fulfill(response=response, headers={**response.headers, "content-security-policy": CONTENT_SECURITY_POLICY})


def sign_in(page: Page, app_api_key: str) -> None:
    page.goto("/")
    page.get_by_label("App API key").fill(app_api_key)
    page.get_by_role("button", name="Sign in").click()
    # Signed in: the shell's sign-out button (the sign-in form's own title is "Segments" too).
    page.get_by_role("button", name="Sign out").wait_for()
    page.get_by_role("heading", name="Segments", exact=True).wait_for()


def screenshot(page: Page, name: str) -> None:
    """Saves the page for the README when SEGMENTS_SCREENSHOTS names a folder (`make screenshots`)."""
    folder = os.environ.get("SEGMENTS_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)
