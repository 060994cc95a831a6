"""Per-key rate limits over real HTTP: 429 with Retry-After in each API's
error shape, one key's burst does not touch another key, and the bucket
refills with time. The unit part checks the token bucket on a fake clock."""

from __future__ import annotations

import time

import httpx
import pytest

from api.ratelimit import TokenBuckets
from api.settings import Settings
from rules.clock import SystemClock
from tests.conftest import make_settings, start_server


def test_token_bucket_allows_its_rate_and_says_how_long_to_wait():
    now = [0.0]
    buckets = TokenBuckets(10, clock=lambda: now[0])
    assert [buckets.take("a") for _ in range(10)] == [0.0] * 10
    assert buckets.take("a") == pytest.approx(0.1)
    assert buckets.take("b") == 0.0  # another key has its own bucket
    now[0] += 0.25
    assert [buckets.take("a") for _ in range(2)] == [0.0, 0.0]
    assert buckets.take("a") > 0
    now[0] += 60  # refills to one second's worth, not more
    assert sum(buckets.take("a") == 0.0 for _ in range(20)) == 10


def test_made_up_keys_cannot_grow_the_table_without_bound():
    now = [0.0]
    buckets = TokenBuckets(1, clock=lambda: now[0], max_buckets=2)
    assert buckets.take("a") == buckets.take("b") == 0.0
    assert buckets.take("c") == 0.0  # the table is full of busy buckets: c gets the overflow bucket
    assert buckets.take("d") > 0  # ... which d shares
    assert buckets.take("a") > 0 and buckets.take("b") > 0  # known keys keep their own
    now[0] += 5  # all idle again: the next new key sweeps them away and gets its own bucket
    assert buckets.take("e") == 0.0 and buckets.take("f") == 0.0


def test_settings_read_limits_from_the_environment():
    settings = Settings.from_env({"SEGMENTS_RATE_LIMIT_APP": "2.5", "SEGMENTS_RATE_LIMIT_TRACK": "0"})
    assert (settings.rate_limit_app, settings.rate_limit_track, settings.rate_limit_graphql) == (2.5, 0, 50)
    with pytest.raises(SystemExit, match="SEGMENTS_RATE_LIMIT_GRAPHQL"):
        Settings.from_env({"SEGMENTS_RATE_LIMIT_GRAPHQL": "fast"})


@pytest.fixture
def limited_server():
    running, stop = start_server(make_settings(rate_limit_app=2, rate_limit_track=3, rate_limit_graphql=2), SystemClock())
    try:
        yield running
    finally:
        stop()


def until_limited(send, most: int = 30) -> list[httpx.Response]:
    """Requests until the first 429 (a bucket starts full, so its capacity always passes first)."""
    responses = []
    while len(responses) < most:
        responses.append(send())
        if responses[-1].status_code == 429:
            return responses
    raise AssertionError(f"no 429 in {most} requests: {[r.status_code for r in responses]}")


def test_each_api_answers_429_with_retry_after_in_its_own_shape(limited_server):
    server = limited_server
    ws = server.create_workspace()
    app = httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {ws['appApiKey']}"})
    graphql = lambda: app.post("/graphql", json={"query": "{ segments { id } }"})  # noqa: E731
    track = server.track(ws)
    segment_spec = httpx.Client(base_url=server.base_url, auth=(ws["trackApiKey"], ""))
    identify = lambda: segment_spec.post("/v1/identify", json={"userId": "u1", "traits": {"plan": "pro"}})  # noqa: E731

    # (send, how many pass at least, at most, the 429's message in the API's shape)
    cases = [
        (lambda: app.get("/v1/segments"), 2, 30, lambda body: body["meta"]["error"]),
        # The CSV exports share the app key's bucket, just emptied, and answer in their own error shape.
        (lambda: app.get("/exports/people.csv"), 0, 1, lambda body: body["errors"][0]["message"]),
        (graphql, 2, 30, lambda body: body["errors"][0]["message"]),
        (lambda: track.put("/api/v1/customers/u1", json={"plan": "pro"}), 3, 30, lambda body: body["meta"]["error"]),
        # Segment-spec shares the Track API key's bucket, just emptied: fewer pass than a fresh bucket's 3.
        (identify, 0, 2, lambda body: body["code"] + ": " + body["message"]),
    ]
    for send, at_least, at_most, message in cases:
        responses = until_limited(send)
        assert all(r.status_code == 200 for r in responses[:-1]), responses[0].text
        assert at_least <= len(responses) - 1 <= at_most, [r.status_code for r in responses]
        limited = responses[-1]
        assert int(limited.headers["retry-after"]) >= 1
        assert "rate limit exceeded" in message(limited.json())
    assert until_limited(identify)[-1].json()["code"] == "rate_limited"
    # The app key is throttled; another workspace's key is not.
    other = server.create_workspace("other")
    assert httpx.get(f"{server.base_url}/v1/segments", headers={"Authorization": f"Bearer {other['appApiKey']}"}).status_code == 200
    # The bucket refills: after Retry-After the key may send again.
    time.sleep(1.05)
    assert app.get("/v1/segments").status_code == 200
    assert identify().status_code == 200
    # Nothing throttled was written: u1 exists once with what the accepted calls sent.
    person = server.graphql(ws, '{ person(id: "u1") { attributes } }')
    assert person["data"]["person"]["attributes"] == {"plan": "pro"}


def test_health_is_never_limited(limited_server):
    assert all(httpx.get(f"{limited_server.base_url}/health").status_code == 200 for _ in range(20))
