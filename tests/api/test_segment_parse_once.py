"""A condition is parsed once: at the input of createSegment, updateSegment
and previewSegment, and once per stored record however many checks read it
(validation, references, cycles, dependents).

Counted through the real GraphQL API: every module's reference to the parse
entry point is wrapped with a counter; the store and everything else are
real. The builds a mutation starts run beside the request in their own
tasks (`build-<segment id>`) and read the segment back from the store: they
are not counted.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter

import pytest
from test_segments import BIG_SPENDERS, CREATE, UPDATE, built, create, seed_customers

from rules.conditions import parse

UPDATE_CONDITION = """
mutation($id: ID!, $input: UpdateSegmentInput!) {
  updateSegment(id: $id, input: $input) { __typename ... on ValidationError { problems { code path } } }
}"""
PREVIEW = """
query($condition: ConditionInput!, $segmentId: ID) {
  previewSegment(condition: $condition, segmentId: $segmentId) { count }
}"""


@pytest.fixture
def parses(monkeypatch):
    """Condition (as JSON text) -> how often a request parsed it since the last clear()."""
    counted: Counter[str] = Counter()
    original = parse.parse_condition

    def counting(data, **options):
        task = asyncio.current_task()
        if task is None or not task.get_name().startswith("build-"):
            counted[json.dumps(data, sort_keys=True)] += 1
        return original(data, **options)

    for module in list(sys.modules.values()):
        if getattr(module, "parse_condition", None) is original:
            monkeypatch.setattr(module, "parse_condition", counting)
    return counted


def _workspace_with_segments(server) -> tuple[dict, list[str]]:
    """Three data-driven segments, the third referring to the first, built."""
    ws = server.create_workspace()
    seed_customers(server, ws)
    first = create(server, ws, name="Big spenders", condition=BIG_SPENDERS)["id"]
    second = create(server, ws, name="Buyers", condition={"event": {"name": "purchase"}})["id"]
    third = create(server, ws, name="Big or buyer", condition={"any": [{"segment": {"id": first}}, {"segment": {"id": second}}]})["id"]
    built(server, ws, third)
    return ws, [first, second, third]


def test_create_segment_parses_its_condition_once_and_no_other(server, parses):
    ws, (first, _, third) = _workspace_with_segments(server)
    condition = {"all": [{"segment": {"id": third}}, {"not": {"segment": {"id": first}}}]}
    parses.clear()
    result = server.graphql(ws, CREATE, {"input": {"name": "Buyers only", "condition": condition}})["data"]["createSegment"]
    assert result["__typename"] == "Segment", result
    assert sum(parses.values()) == 1, parses
    # The references were still checked: a missing one is refused.
    missing = {"segment": {"id": "seg_gone"}}
    refused = server.graphql(ws, CREATE, {"input": {"name": "Ghost", "condition": missing}})["data"]["createSegment"]
    assert refused["__typename"] == "ValidationError" and refused["problems"][0]["code"] == "MISSING_SEGMENT"


def test_update_segment_parses_each_condition_at_most_once(server, parses):
    ws, (first, second, third) = _workspace_with_segments(server)
    parses.clear()
    # The cycle check walks from the new references, the dependents walk reads every segment.
    changed = {"all": [{"segment": {"id": second}}, {"attribute": {"path": "lifetime_value", "op": "GT", "value": 100}}]}
    result = server.graphql(ws, UPDATE, {"id": first, "input": {"condition": changed}})["data"]["updateSegment"]
    assert result["__typename"] == "Segment", result
    assert parses and max(parses.values()) == 1, parses
    # And a cycle is still refused: third refers to first.
    cycle = server.graphql(ws, UPDATE_CONDITION, {"id": first, "input": {"condition": {"segment": {"id": third}}}})["data"]["updateSegment"]
    assert cycle["__typename"] == "ValidationError" and cycle["problems"] == [{"code": "SEGMENT_CYCLE", "path": "/input/condition/segment/id"}]


def test_preview_parses_its_condition_once(server, parses):
    ws, (first, _, _) = _workspace_with_segments(server)
    parses.clear()
    preview = server.graphql(ws, PREVIEW, {"condition": {"segment": {"id": first}}})
    assert preview["data"]["previewSegment"]["count"] == 1, preview
    assert sum(parses.values()) == 1, parses
