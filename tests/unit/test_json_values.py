"""rules.json_values.same_value: MongoDB's equality of values, not Python's."""

import copy
from datetime import datetime

import pytest
from bson import Int64
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.ingest.write import update_of
from rules.json_values import same_value
from tests.typed_json import typed

DIFFERENT = [
    (False, 0),
    (False, 0.0),
    (True, 1),
    (True, 1.0),
    (True, Int64(1)),
    ([False], [0]),
    ([True, 2], [1, 2]),
    ({"a": False}, {"a": 0}),
    ({"a": {"b": [True]}}, {"a": {"b": [1]}}),
    ({"a": 1, "b": 2}, {"b": 2, "a": 1}),  # embedded documents compare field by field, in order
    ({"a": 1}, {"a": 1, "b": None}),
    ([1], [1, 1]),
    (None, False),
    (None, 0),
    ("", None),
    ("1", 1),
    ([], {}),
    ([1], 1),
    (datetime(2026, 1, 1), 1_767_225_600),
]
SAME = [
    (1, 1.0),
    (1, Int64(1)),
    (0, -0.0),
    (False, False),
    (None, None),
    ([1, True, None], [1.0, True, None]),
    ({"a": [1, {"b": False}]}, {"a": [1.0, {"b": False}]}),
    ([1, 2], (1, 2)),  # condition operands are tuples
    (datetime(2026, 1, 1), datetime(2026, 1, 1)),
]


@pytest.mark.parametrize(("a", "b"), DIFFERENT, ids=repr)
def test_values_python_confuses_are_different(a, b):
    assert not same_value(a, b) and not same_value(b, a)


@pytest.mark.parametrize(("a", "b"), SAME, ids=repr)
def test_the_same_number_and_the_same_structure_are_the_same(a, b):
    assert same_value(a, b) and same_value(b, a)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.sampled_from((0, 1, 0.0, 1.0, -1, 2.5)), st.sampled_from(("", "a", "0"))),
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(st.sampled_from("abc"), children, max_size=3)),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(json_values, json_values)
def test_same_value_agrees_with_the_typed_oracle(a, b):
    assert same_value(a, b) == (typed(a) == typed(b))
    assert same_value(a, copy.deepcopy(a))


def test_a_type_only_change_becomes_a_set_and_a_moved_field_no_write():
    original = {"_id": "p", "attributes": {"flag": False, "n": 1, "keep": "x"}}
    final = {"_id": "p", "attributes": {"flag": 0.0, "n": 1.0, "keep": "x"}}
    assert typed(update_of(original, final)) == typed({"$set": {"attributes.flag": 0.0}})
    moved = {"_id": "p", "attributes": {"n": 1, "keep": "x", "flag": False}}
    assert update_of(original, moved) == {}
