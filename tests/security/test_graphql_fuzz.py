"""GraphQL fuzzing from the committed schema against a running service with
two seeded workspaces: every generated operation (valid ones, and ones with
one schema violation; tests/security/graphql_operations.py) gets a result or
a named user error: never an internal error ("Unexpected error."), never a
5xx, never a request that holds the loop for seconds.
"""

from __future__ import annotations

import json
import multiprocessing
import time

import httpx

from tests.security.conftest import GRAPHQL_CASES
from tests.security.graphql_operations import produce

MASKED = "Unexpected error."
SLOW_SECONDS = 10  # a request this slow holds everyone else's requests too


def test_generated_operations_never_end_in_an_internal_error(two_workspaces):
    server, a, b = two_workspaces
    identifiers = sorted(
        {"shared", "shared@example.com", a.own_id, a.own_email, b.own_id, b.own_email}
        | set(a.cio_ids.values()) | set(b.cio_ids.values())
        | set(a.segment_ids.values()) | set(b.segment_ids.values())
        | set(a.cursors) | set(b.cursors)
    )  # fmt: skip
    context = multiprocessing.get_context("spawn")  # the server's threads make fork unsafe
    queue = context.Queue(maxsize=200)
    producer = context.Process(target=produce, args=(identifiers, GRAPHQL_CASES, queue), daemon=True)
    producer.start()
    failures: list[tuple[str, str]] = []
    tried, slowest = 0, (0.0, "")
    headers = {"Authorization": f"Bearer {a.workspace['appApiKey']}", "content-type": "application/json"}
    try:
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=60) as client:
            while (query := queue.get(timeout=120)) is not None:
                tried += 1
                started = time.monotonic()
                # ASCII JSON: a lone surrogate travels as the escape "\\ud800", as any JSON client may send it.
                response = client.post("/graphql", content=json.dumps({"query": query}))
                elapsed = time.monotonic() - started
                slowest = max(slowest, (elapsed, query))
                if response.status_code >= 500:
                    failures.append((f"HTTP {response.status_code}", query))
                elif any(error.get("message") == MASKED for error in response.json().get("errors") or []):
                    failures.append(("internal error", query))
                elif elapsed > SLOW_SECONDS:
                    failures.append((f"took {elapsed:.1f} s", query))
    finally:
        producer.join(30)
        if producer.is_alive():
            producer.terminate()
    print(f"\nGraphQL fuzzing: {tried} operations, {len(failures)} failures; slowest {slowest[0]:.2f} s")
    assert tried >= GRAPHQL_CASES
    assert not failures, "\n\n".join(f"{kind}:\n{query}" for kind, query in failures[:20])
