"""Random identify sequences over real HTTP (issue 15): after every request
the stored attributes are, type-strictly, the last-write-wins merge of what
was sent (false is not 0, true is not 1; 1 and 1.0 are one number), and the
person is in exactly the data-driven segments whose conditions hold by the
contract's rules (docs/conditions.md), re-stated here independently of
rules/conditions/evaluate.py. SEGMENTS_HYPOTHESIS_PROFILE=deep runs many more."""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.track_helpers import person, stored
from tests.typed_json import typed

settings.register_profile(
    "identify",
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile("identify-deep", settings.get_profile("identify"), max_examples=500)
PROFILE = settings.get_profile("identify-deep" if os.environ.get("SEGMENTS_HYPOTHESIS_PROFILE") == "deep" else "identify")

KEYS = ("a", "b", "o")
FALSY, TRUTHY = (False, 0, 0.0), (True, 1, 1.0)
scalars = st.sampled_from((*FALSY, *TRUTHY, "", "a", "ba", "0", "true", -1, 2.5))
# Arrays hold scalars and null: paths through arrays of objects are outside
# the contract (docs/conditions.md, "Paths").
arrays = st.lists(st.one_of(scalars, st.none()), max_size=3)
values = st.recursive(
    st.one_of(scalars, arrays),
    lambda children: st.dictionaries(st.sampled_from(("x", "y")), st.one_of(children, st.none()), min_size=1, max_size=2),
    max_leaves=4,
)


def look_alikes(value: Any) -> st.SearchStrategy:
    """Values equal to `value` under Python's `==`, each false/0/0.0 or true/1/1.0 leaf
    possibly of the other JSON type: the updates issue 15 lost (or resends that change nothing)."""
    if isinstance(value, dict):
        return st.fixed_dictionaries({key: look_alikes(item) for key, item in value.items()})
    if isinstance(value, list):
        return st.tuples(*(look_alikes(item) for item in value)).map(list)
    for family in (FALSY, TRUTHY):
        if isinstance(value, (bool, int, float)) and value in family:
            return st.sampled_from(family)
    return st.just(value)


@st.composite
def request_sequences(draw) -> list[dict[str, Any]]:
    """Identify bodies; an attribute sent before is often sent again as a look-alike."""
    bodies, current = [], {}
    for _ in range(draw(st.integers(1, 5))):
        body = {}
        for key in draw(st.lists(st.sampled_from(KEYS), min_size=1, max_size=3, unique=True)):
            if key in current and draw(st.booleans()):
                body[key] = draw(look_alikes(current[key]))
            else:
                body[key] = draw(st.one_of(values, st.none()))  # null removes the attribute
            if body[key] is None:
                current.pop(key, None)
            else:
                current[key] = body[key]
        bodies.append(body)
    return bodies


RULES: list[tuple[str, str, Any]] = [
    ("a", "eq", False), ("a", "eq", 0), ("a", "eq", True), ("a", "eq", 1.0),
    ("a", "ne", False), ("a", "in", [True, 0]), ("a", "notIn", [False, 1]),
    ("a", "contains", False), ("a", "contains", 1), ("a", "notContains", True), ("a", "exists", None),
    ("b", "eq", "0"), ("b", "contains", "a"), ("b", "in", [0.0, ""]), ("b", "notExists", None),
    ("o.x", "eq", False), ("o.x", "eq", 0), ("o.x", "in", [1, True]), ("o.x", "notExists", None), ("o.y.x", "ne", True),
]
MISSING = object()
NEGATED = {"ne": "eq", "notIn": "in", "notContains": "contains", "notExists": "exists"}


def rule_name(path: str, op: str, value: Any) -> str:
    return f"{path} {op} {json.dumps(value)}"


def at_path(attributes: dict, path: str) -> Any:
    value: Any = attributes
    for name in path.split("."):
        if not isinstance(value, dict) or name not in value:
            return MISSING
        value = value[name]
    return value


def holds(op: str, operand: Any, value: Any) -> bool:
    """The contract's rule for one attribute operator (docs/conditions.md)."""
    if op in NEGATED:
        return not holds(NEGATED[op], operand, value)
    if op == "exists":
        return value is not MISSING and value is not None and not (isinstance(value, list) and None in value)
    if value is MISSING:
        return False
    elements = value if isinstance(value, list) else [value]
    if op == "eq":
        return any(typed(element) == typed(operand) for element in elements)
    if op == "in":
        return any(typed(element) == typed(option) for element in elements for option in operand)
    if op == "contains":
        if isinstance(value, str):
            return isinstance(operand, str) and operand in value
        return isinstance(value, list) and any(typed(element) == typed(operand) for element in value)
    raise AssertionError(f"no rule for {op}")


def graphql_op(op: str) -> str:
    return "".join(f"_{c}" if c.isupper() else c for c in op).upper()  # notIn -> NOT_IN


PERSON = 'query($id: String!) { person(id: $id) { attributes segments { segment { name } } } }'


@pytest.fixture
def world(server):
    """A workspace with one data-driven segment per rule, created in one GraphQL request."""
    ws = server.create_workspace()
    inputs = {}
    for i, (path, op, value) in enumerate(RULES):
        attribute = {"path": path, "op": graphql_op(op), **({} if value is None else {"value": value})}
        inputs[f"i{i}"] = {"name": rule_name(path, op, value), "condition": {"attribute": attribute}}
    mutation = "mutation(%s) { %s }" % (
        ", ".join(f"${key}: CreateSegmentInput!" for key in inputs),
        " ".join(f"{key}: createSegment(input: ${key}) {{ __typename ... on Segment {{ id name }} }}" for key in inputs),
    )
    created = server.graphql(ws, mutation, inputs)["data"].values()
    assert all(segment["__typename"] == "Segment" for segment in created), created
    server.call(lambda services: services.membership.wait_for_builds())
    return server, ws, {segment["id"]: segment["name"] for segment in created}


def by_name(attributes: dict) -> Any:
    """Attributes are a person's fields, in no promised order; their values compare in order, as MongoDB does."""
    return sorted((key, typed(value)) for key, value in attributes.items())


def expected_segments(attributes: dict) -> set[str]:
    return {rule_name(*rule) for rule in RULES if holds(rule[1], rule[2], at_path(attributes, rule[0]))}


@PROFILE
@given(sent=request_sequences())
def test_stored_attributes_and_segments_follow_the_last_write(world, sent):
    server, ws, segment_names = world
    profile_id = uuid.uuid4().hex[:12]  # examples share the workspace, each with a person of its own
    merged: dict[str, Any] = {}
    with server.track(ws) as track:
        for body in sent:
            response = track.put(f"/api/v1/customers/{profile_id}", json=body)
            assert response.status_code == 200, response.text
            for key, value in body.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            # After every request, in the store (a GraphQL round trip per step would make this slow) ...
            stored_person = person(server, ws, id=profile_id)
            assert by_name(stored_person["attributes"]) == by_name(merged)
            memberships = stored(server, "memberships", ws, {"personId": stored_person["_id"]})
            assert {segment_names[m["segmentId"]] for m in memberships} == expected_segments(merged), merged
    # ... and once more as GraphQL serves it.
    found = server.graphql(ws, PERSON, {"id": profile_id})["data"]["person"]
    assert by_name(found["attributes"]) == by_name(merged)
    assert {s["segment"]["name"] for s in found["segments"]} == expected_segments(merged)
