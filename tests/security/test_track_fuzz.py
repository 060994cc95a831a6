"""Track API fuzzing over real HTTP, against every route of api/track.py and
api/track_segments.py (taken from their route tables): malformed JSON,
invalid UTF-8, NaN / Infinity / 1e400, deep nesting, oversize bodies, odd
identifiers in the path, extreme timestamps, wrong types anywhere in a valid
body, and batches mixing valid and invalid entries.

Every refused request is a 400 (404 for an unknown segment or a path no
route matches) with a named problem, and the store is exactly as before;
nothing ever answers 5xx.
"""

from __future__ import annotations

import json
import random

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from api.track import MAX_BATCH_BYTES, MAX_ENTITY_BYTES, MAX_V1_BYTES
from api.track import routes as track_routes
from api.track_segments import routes as segment_routes
from tests.conftest import HTTP
from tests.security.conftest import TRACK_CASES, store_contents

T = 1_767_225_600
PERSON = {"type": "person", "action": "identify", "identifiers": {"id": "shared"}, "attributes": {"plan": "pro"}}
# A valid body per route; a new Track route without one fails test_every_route_has_a_template.
TEMPLATES = {
    ("PUT", "/api/v1/customers/{identifier}"): {"email": "fuzz@example.com", "plan": "pro", "created_at": T},
    ("DELETE", "/api/v1/customers/{identifier}"): {},
    ("POST", "/api/v1/customers/{identifier}/events"): {"name": "purchase", "data": {"price": 10}, "timestamp": T, "type": "event", "id": "01JFUZZ"},
    ("POST", "/api/v1/events"): {"name": "visit", "anonymous_id": "anon-1", "data": {"x": 1}, "timestamp": T},
    ("PUT", "/api/v1/customers/{identifier}/devices"): {"device": {"id": "tok-fuzz", "platform": "ios", "last_used": T}},
    ("DELETE", "/api/v1/customers/{identifier}/devices/{token}"): {},
    ("POST", "/api/v1/customers/{identifier}/suppress"): {},
    ("POST", "/api/v1/customers/{identifier}/unsuppress"): {},
    ("POST", "/api/v1/merge_customers"): {"primary": {"id": "shared"}, "secondary": {"id": "only-a"}},
    ("POST", "/api/v2/entity"): PERSON,
    ("POST", "/api/v2/batch"): {"batch": [PERSON, {**PERSON, "identifiers": {"email": "x@example.com"}}]},
    ("POST", "/api/v1/segments/{segment_id}/add_customers"): {"ids": ["shared", "only-a"]},
    ("POST", "/api/v1/segments/{segment_id}/remove_customers"): {"ids": ["shared"]},
}  # fmt: skip
LIMITS = {"/api/v2/batch": MAX_BATCH_BYTES, "/api/v2/entity": MAX_ENTITY_BYTES}

ODD_IDENTIFIERS = ["%2F", "%2E%2E", "..%2F..", "%00", "a%20b", "x" * 151, "x" * 5000, "cio_", "cio_zz", "%F0%9F%92%A5", "%FF", "%ED%A0%80"]
MALFORMED = [
    (b"{", "malformed"), (b'{"a": 1,}', "malformed"), (b'{"name": "\xff\xfe"}', "UTF-8"), (b'{"a": NaN}', "NaN"),
    (b'{"a": Infinity}', "Infinity"), (b'{"a": -Infinity}', "Infinity"), (b'{"name": "x", "data": {"v": 1e400}}', "1e400"),
    (b'{"a": ' * 5000 + b"1" + b"}" * 5000, "nested"), (b'{"name": "\\ud800", "email": "\\udfff@example.com"}', "surrogate"),
]  # fmt: skip


def _routes() -> list[tuple[str, str]]:
    return [(method, route.path) for route in [*track_routes, *segment_routes] for method in sorted(route.methods - {"HEAD"})]


def _path(template: str, tenant, **overrides: str) -> str:
    values = {"identifier": "shared", "token": "token-of-a-shared", "segment_id": tenant.segment_ids["manual"], **overrides}
    return template.format(**values)


def _send(server, tenant, method: str, path: str, body: bytes) -> httpx.Response:
    auth = (tenant.workspace["siteId"], tenant.workspace["trackApiKey"])
    return HTTP.request(method, server.base_url + path, content=body, auth=auth, timeout=60, headers={"content-type": "application/json"})


def _assert_refused_cleanly(server, tenant, response: httpx.Response, before: dict, what: str) -> None:
    assert response.status_code in (400, 404), (what, response.status_code, response.text)
    if response.status_code == 400 or response.headers.get("content-type", "").startswith("application/json"):
        error = response.json()["meta"]["error"]
        assert isinstance(error, str) and error.strip(), (what, response.text)
    assert store_contents(server, tenant) == before, f"{what}: a refused request changed the store"


def test_every_route_has_a_template():
    assert {route for route in _routes()} == set(TEMPLATES), "add a valid body for each new Track API route"


def test_malformed_bodies_are_refused_with_a_named_problem_on_every_route(two_workspaces):
    server, a, _ = two_workspaces
    tried = 0
    for method, template in _routes():
        oversize = b'{"pad": "' + b"x" * LIMITS.get(template, MAX_V1_BYTES) + b'"}'
        for body, kind in [*MALFORMED, (oversize, "oversize")]:
            before = store_contents(server, a)
            response = _send(server, a, method, _path(template, a), body)
            _assert_refused_cleanly(server, a, response, before, f"{method} {template} {kind}")
            if response.status_code == 400:
                assert response.json()["meta"]["error"].startswith("body"), response.text
            tried += 1
    print(f"\nTrack API malformed bodies: {tried} requests")
    assert tried == len(_routes()) * (len(MALFORMED) + 1)


def test_odd_identifiers_in_paths_are_refused_or_harmless(two_workspaces):
    server, a, _ = two_workspaces
    tried = 0
    for method, template in _routes():
        for name in ("identifier", "token", "segment_id"):
            if "{" + name + "}" not in template:
                continue
            for odd in ODD_IDENTIFIERS:
                before = store_contents(server, a)
                path = _path(template, a, **{name: odd})
                response = _send(server, a, method, path, json.dumps(TEMPLATES[(method, template)]).encode())
                tried += 1
                assert response.status_code < 500, (path, response.text)
                if response.status_code == 307:  # the router's answer to "//" in a path (no handler ran)
                    assert store_contents(server, a) == before, path
                elif response.status_code != 200:
                    _assert_refused_cleanly(server, a, response, before, f"{method} {path}")
    print(f"\nTrack API odd identifiers: {tried} requests")
    assert tried > 0


@pytest.mark.parametrize("timestamp", [-1, -(2**63), 2**63, 2**64, 1e400, 10**30, 100_000_000_001, "2026-01-01", True, [T], {"t": T}, ""])
def test_extreme_timestamps_are_refused_naming_the_field(two_workspaces, timestamp):
    server, a, _ = two_workspaces
    bodies = {
        "/api/v1/customers/shared/events": {"name": "x", "timestamp": timestamp},
        "/api/v1/customers/shared": {"created_at": timestamp},
        "/api/v1/customers/shared/devices": {"device": {"id": "t", "platform": "ios", "last_used": timestamp}},
        "/api/v2/entity": {**PERSON, "timestamp": timestamp},
    }
    for path, body in bodies.items():
        before = store_contents(server, a)
        method = "POST" if path.endswith(("events", "entity")) else "PUT"
        response = _send(server, a, method, path, json.dumps(body).replace("Infinity", "1e400").encode())
        _assert_refused_cleanly(server, a, response, before, f"{path} timestamp={timestamp!r}")
        field = "body" if timestamp == 1e400 else ("timestamp", "created_at", "last_used")
        assert response.json()["meta"]["error"].startswith(field) or any(f in response.json()["meta"]["error"] for f in field), response.text


def test_a_batch_mixing_valid_and_invalid_entries_writes_nothing(two_workspaces):
    server, a, _ = two_workspaces
    rng = random.Random(12)
    invalid_entries = [
        {"type": "person", "action": "identify"}, {"type": "object", "action": "identify", "identifiers": {"id": "x"}},
        {**PERSON, "identifiers": {"id": ""}}, {**PERSON, "attributes": {"x": "y" * 2000}}, "not an object", None,
        {**PERSON, "timestamp": -5}, {"type": "delivery", "action": "opened", "identifiers": {"id": "d"}},
    ]  # fmt: skip
    tried = 0
    for invalid in invalid_entries:
        valid = [{**PERSON, "identifiers": {"id": f"batch-{i}"}} for i in range(rng.randint(1, 5))]
        batch = valid + [invalid]
        rng.shuffle(batch)
        before = store_contents(server, a)
        response = _send(server, a, "POST", "/api/v2/batch", json.dumps({"batch": batch}).encode())
        _assert_refused_cleanly(server, a, response, before, f"batch with {invalid!r}")
        assert response.json()["meta"]["error"].startswith("batch["), response.text
        tried += 1
    assert tried == len(invalid_entries)


hostile_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.sampled_from(["", "\ud800", "\x00", "x" * 2000, "💥"]) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


def _mutate(body, draw) -> object:
    """One place in the body replaced by a hostile value, removed, or given a sibling."""
    if not isinstance(body, (dict, list)) or not body or draw(st.integers(0, 3)) == 0:
        return draw(hostile_values)
    keys = list(body) if isinstance(body, dict) else list(range(len(body)))
    key = draw(st.sampled_from(keys))
    copy = dict(body) if isinstance(body, dict) else list(body)
    action = draw(st.sampled_from(["replace", "descend", "remove", "add"]))
    if action == "remove":
        del copy[key]
    elif action == "add" and isinstance(copy, dict):
        copy[draw(st.text(max_size=8))] = draw(hostile_values)
    elif action == "descend":
        copy[key] = _mutate(copy[key], draw)
    else:
        copy[key] = draw(hostile_values)
    return copy


def test_generated_bodies_get_200_or_a_named_400_and_refusals_write_nothing(two_workspaces):
    server, a, _ = two_workspaces
    routes = _routes()
    outcomes: dict[int, int] = {}
    failures: list[str] = []

    @settings(max_examples=TRACK_CASES, deadline=None, database=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def run(data) -> None:
        method, template = data.draw(st.sampled_from(routes))
        body = _mutate(TEMPLATES[(method, template)], data.draw)
        raw = json.dumps(body, ensure_ascii=True).encode()  # NaN and Infinity as JS literals, surrogates escaped
        before = store_contents(server, a)
        response = _send(server, a, method, _path(template, a), raw)
        outcomes[response.status_code] = outcomes.get(response.status_code, 0) + 1
        if response.status_code == 200:
            return
        try:
            _assert_refused_cleanly(server, a, response, before, f"{method} {template} {raw[:300]!r}")
        except AssertionError as failure:
            failures.append(str(failure))

    run()
    print(f"\nTrack API generated bodies: {sum(outcomes.values())} requests, status counts {outcomes}, {len(failures)} failures")
    assert sum(outcomes.values()) >= TRACK_CASES
    assert not failures, "\n".join(failures[:20])
