"""The model, its JSON form, dependencies, and the backends' registries."""

import pytest

from rules.conditions import compile as compile_backend
from rules.conditions import evaluate as evaluate_backend
from rules.conditions.compile import compile_node
from rules.conditions.dependencies import Dependencies, affected_by, dependencies
from rules.conditions.evaluate import explain
from rules.conditions.model import (
    NODE_TYPES,
    All,
    AttributeCondition,
    Count,
    CountOp,
    EventCondition,
    InvalidNode,
    Not,
    Operator,
    TimeWindow,
    UnsupportedCondition,
)
from rules.conditions.json_form import condition_to_json
from rules.conditions.parse import parse_condition


def test_every_node_type_is_registered_in_both_backends():
    for node_type in NODE_TYPES:
        assert compile_node.dispatch(node_type) is not compile_node.dispatch(object), node_type
        assert explain.dispatch(node_type) is not explain.dispatch(object), node_type
        assert dependencies.dispatch(node_type) is not dependencies.dispatch(object), node_type


def test_unregistered_nodes_fail_loudly():
    scope = compile_backend.Scope(workspace_id="ws", now=0.0)
    with pytest.raises(UnsupportedCondition):
        compile_node(object(), scope)
    person = evaluate_backend.PersonData(profile={}, events=[], devices=[], deliveries=[], segment_ids=frozenset())
    with pytest.raises(UnsupportedCondition):
        explain(object(), person, 0.0, "")


def test_nodes_cannot_be_built_invalid():
    with pytest.raises(InvalidNode):
        All(children=())
    with pytest.raises(InvalidNode):
        Count(op=CountOp.AT_LEAST, value=-1)
    with pytest.raises(InvalidNode):
        TimeWindow(within_seconds=10, start=1.0)
    with pytest.raises(InvalidNode):
        AttributeCondition(path="", op=Operator.EXISTS)
    with pytest.raises(InvalidNode):
        AttributeCondition(path="a", op=Operator.GT, value=[1])


ROUND_TRIPS = [
    {"attribute": {"path": "lifetime_value", "op": "gt", "value": 25000}},
    {"attribute": {"path": "seen", "op": "withinLast", "value": {"hours": 36}}},
    {"attribute": {"path": "tags", "op": "in", "value": ["a", 1, True]}},
    {"attribute": {"path": "a", "op": "notExists"}},
    {"event": {"name": "purchase", "filters": [{"path": "amount", "op": "between", "value": [1, 2]}],
               "count": {"op": "exactly", "value": 0}, "window": {"from": 10, "to": 20}}},
    {"pageView": {"url": {"op": "startsWith", "value": "/offers/"}, "count": {"op": "atLeast", "value": 5},
                  "window": {"within": {"days": 7}}, "sameUrl": True}},
    {"device": {"platform": "ios", "lastUsed": {"within": {"seconds": 90}}}},
    {"message": {"metric": "opened", "messageId": "m", "campaignId": "c", "channel": "email", "window": {"to": 5}}},
    {"any": [{"segment": {"id": "seg_a", "member": False}}, {"not": {"event": {}}}]},
]


@pytest.mark.parametrize("data", ROUND_TRIPS)
def test_canonical_json_round_trips(data):
    condition = parse_condition(data)
    assert condition_to_json(condition) == data
    assert parse_condition(condition_to_json(condition)) == condition


def test_graphql_enum_names_are_accepted_and_nulls_are_absent():
    graphql_input = {
        "all": [
            {"attribute": {"path": "plan", "op": "STARTS_WITH", "value": "pro"}, "event": None},
            {"event": {"name": "x", "count": {"op": "AT_MOST", "value": 2}, "window": None, "filters": None}},
            {"message": {"metric": "OPENED", "messageId": None}},
            {"attribute": {"path": "seen", "op": "WITHIN_LAST", "value": {"days": 1, "hours": None}}},
        ]
    }
    assert condition_to_json(parse_condition(graphql_input)) == {
        "all": [
            {"attribute": {"path": "plan", "op": "startsWith", "value": "pro"}},
            {"event": {"name": "x", "count": {"op": "atMost", "value": 2}}},
            {"message": {"metric": "opened"}},
            {"attribute": {"path": "seen", "op": "withinLast", "value": {"days": 1}}},
        ]
    }


def test_durations_add_up_and_print_in_the_largest_exact_unit():
    condition = parse_condition({"event": {"name": "x", "window": {"within": {"days": 1, "hours": 12}}}})
    assert condition.window.within_seconds == 129_600
    assert condition_to_json(condition)["event"]["window"] == {"within": {"hours": 36}}


def test_dependencies_collect_what_a_condition_reads():
    condition = parse_condition(
        {
            "all": [
                {"attribute": {"path": "address.city", "op": "eq", "value": "Paris"}},
                {"not": {"event": {"name": "purchase"}}},
                {"pageView": {"window": {"within": {"days": 7}}}},
                {"segment": {"id": "seg_vip"}},
            ]
        }
    )
    assert dependencies(condition) == Dependencies(
        attributes=frozenset({"address"}),
        event_names=frozenset({"purchase"}),
        page=True,
        segment_ids=frozenset({"seg_vip"}),
        time_relative=True,
    )
    assert dependencies(parse_condition({"event": {}})).any_event
    assert not dependencies(parse_condition({"attribute": {"path": "a", "op": "before", "value": 5}})).time_relative
    assert dependencies(parse_condition({"attribute": {"path": "a", "op": "withinLast", "value": {"days": 5}}})).time_relative


@pytest.mark.parametrize(
    "topics, affected",
    [
        ({"attributes", "attribute:address"}, True),
        ({"attributes", "attribute:plan"}, False),
        ({"attributes"}, True),
        ({"event:purchase"}, True),
        ({"event:signup"}, False),
        ({"page"}, False),
        ({"screen:home"}, False),
        ({"device"}, False),
        ({"message"}, False),
        ({"deleted"}, True),
        ({"merged"}, True),
        ({"created"}, True),
        ({"something_new"}, True),
    ],
)
def test_affected_by_topics(topics, affected):
    deps = dependencies(
        parse_condition({"any": [{"attribute": {"path": "address.city", "op": "exists"}}, {"event": {"name": "purchase"}}]})
    )
    assert affected_by(deps, topics) is affected


def test_any_event_is_affected_by_every_event_name():
    assert affected_by(dependencies(parse_condition({"event": {}})), {"event:whatever"})
    assert not affected_by(dependencies(EventCondition(name="x")), {"page"})
    assert affected_by(dependencies(Not(child=parse_condition({"device": {}}))), {"device"})
