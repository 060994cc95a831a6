"""Benchmark: the console's bundle size, and the time to first render of the
segments list on the demo data set, in Debian's Chromium.

- Bundle: every file the console page loads (its HTML, scripts, module
  preloads and styles), raw and gzip-compressed (level 9, what a compressing
  proxy would send); the GraphiQL page's likewise.
- First render: a real service (uvicorn on 127.0.0.1, embedded memory store)
  with `segments demo` data (`--people`, default 2,000) and a few segments
  (the product's two examples, a plan segment, a manual one with 100
  members, a segment reference). Signed in, the page is opened and the time
  from navigation start until the list's rows are in the DOM is read from
  `performance.now()` in the page; cold (a new browser context: empty cache)
  and warm (reload: cached assets), `--runs` each, median and range.

    python -m bench.console [--people 2000] [--runs 5]

Figures depend on the machine; nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import gzip
import platform
import re
import statistics
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from api.console import DIST
from rules.clock import SystemClock
from rules.demo import load_demo
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import make_settings, start_server

CREATE = "mutation ($input: CreateSegmentInput!) { createSegment(input: $input) { ... on Segment { id } ... on Error { message } } }"


def _page_files(html_name: str) -> list[Path]:
    html = (DIST / html_name).read_text()
    assets = re.findall(r'(?:src|href)="/(console-assets/[^"]+)"', html)
    return [DIST / html_name, *(DIST / asset for asset in dict.fromkeys(assets))]


def _sizes(files: list[Path]) -> tuple[int, int]:
    raw = sum(f.stat().st_size for f in files)
    compressed = sum(len(gzip.compress(f.read_bytes(), compresslevel=9)) for f in files)
    return raw, compressed


def _all_assets() -> tuple[int, int]:
    return _sizes([f for f in (DIST / "console-assets").iterdir()])


def _segments(server) -> int:
    ws = server.workspace
    conditions = [
        ("High value", {"attribute": {"path": "lifetime_value", "op": "GT", "value": 25000}}),
        ("Offer seen, not bought", {"all": [
            {"pageView": {"url": {"op": "STARTS_WITH", "value": "/offers/"}, "sameUrl": True,
                          "count": {"op": "AT_LEAST", "value": 5}, "window": {"within": {"days": 7}}}},
            {"not": {"event": {"name": "purchase"}}},
        ]}),
        ("Pro plan", {"attribute": {"path": "plan", "op": "EQ", "value": "pro"}}),
    ]
    ids = []
    for name, condition in conditions:
        result = server.graphql(ws, CREATE, {"input": {"name": name, "condition": condition}})
        ids.append(result["data"]["createSegment"]["id"])
    server.graphql(ws, CREATE, {"input": {"name": "Pro, not high value", "condition": {
        "all": [{"segment": {"id": ids[2]}}, {"segment": {"id": ids[0], "member": False}}]}}})
    manual = server.graphql(ws, CREATE, {"input": {"name": "VIP list", "type": "MANUAL"}})["data"]["createSegment"]["id"]
    emails = [e["node"]["email"] for e in server.graphql(ws, "{ people(first: 100) { edges { node { email } } } }")["data"]["people"]["edges"]]
    server.graphql(ws, "mutation ($s: ID!, $ids: [String!]!) { addPeopleToSegment(segmentId: $s, ids: $ids, idType: EMAIL) { __typename } }",
                   {"s": manual, "ids": emails})
    server.call(lambda services: services.membership.wait_for_builds(), timeout=600)
    return len(server.graphql(ws, "{ segments { id } }")["data"]["segments"])


def _first_render_ms(page) -> dict[str, float]:
    """When the rows were in the DOM, and where the time went, in ms since navigation start."""
    page.wait_for_selector("tr[data-segment-id]")
    rendered = page.evaluate("performance.now()")
    # Resource timing entries are queued after their response: give them a moment.
    page.wait_for_timeout(300)
    return page.evaluate(
        """(rendered) => {
          const resources = performance.getEntriesByType("resource");
          const scripts = resources.filter((r) => r.name.endsWith(".js"));
          // urql sends queries as GET /graphql?query=...&operationName=...
          const list = resources.filter((r) => r.name.includes("operationName=SegmentsList"));
          return {
            rendered,
            scriptsLoaded: Math.max(...scripts.map((r) => r.responseEnd)),
            queryStarted: list.length ? list[0].startTime : NaN,
            queryDone: list.length ? list[0].responseEnd : NaN,
          };
        }""",
        rendered,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    print(f"machine: {platform.machine()}, {platform.system()} {platform.release()}, Python {platform.python_version()}")
    for label, files in (("console page", _page_files("index.html")), ("GraphiQL page", _page_files("graphiql.html"))):
        raw, compressed = _sizes(files)
        print(f"{label}: {len(files)} files, {raw / 1024:.1f} KiB raw, {compressed / 1024:.1f} KiB gzip")
    raw, compressed = _all_assets()
    print(f"all built assets (GraphiQL's editor and workers included): {raw / 1024:.1f} KiB raw, {compressed / 1024:.1f} KiB gzip")

    server, stop = start_server(make_settings(), SystemClock())
    try:
        server.workspace = server.create_workspace("Demo")
        server.call(lambda s: load_demo(s.db, server.workspace["workspaceId"], now=s.clock.now(), people=args.people), timeout=600)
        count = _segments(server)
        print(f"demo data: {args.people} people, {count} segments")
        key = server.workspace["appApiKey"]
        query = "{ segments { id name description type state memberCount updatedAt progress { done total } failure } }"
        api_times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            server.graphql(server.workspace, query)
            api_times.append((time.perf_counter() - started) * 1000)
        print(f"the list's GraphQL query alone (httpx): median {statistics.median(api_times):.0f} ms")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            print(f"browser: Chromium {browser.version}, viewport 1280x900")
            cold, warm = [], []
            for _ in range(args.runs):
                context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server.base_url)
                # Signed in already: the key and workspace in this tab's sessionStorage.
                context.add_init_script(
                    f"sessionStorage.setItem('segments.appApiKey', {key!r});"
                    f"sessionStorage.setItem('segments.workspace', JSON.stringify({{id: 'x', name: 'Demo'}}));"
                )
                page = context.new_page()
                page.goto("/")
                cold.append(_first_render_ms(page))
                page.reload()
                warm.append(_first_render_ms(page))
                context.close()
            browser.close()
        for label, runs in (("cold (empty cache)", cold), ("warm (cached assets)", warm)):
            times = [run["rendered"] for run in runs]
            print(
                f"first render of the segments list, {label}: median {statistics.median(times):.0f} ms "
                f"(min {min(times):.0f}, max {max(times):.0f}, {len(times)} runs); medians: scripts loaded at "
                f"{statistics.median(r['scriptsLoaded'] for r in runs):.0f} ms, list query "
                f"{statistics.median(r['queryStarted'] for r in runs):.0f}-{statistics.median(r['queryDone'] for r in runs):.0f} ms"
            )
    finally:
        stop()


if __name__ == "__main__":
    main()
