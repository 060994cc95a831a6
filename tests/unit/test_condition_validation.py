"""Validation: every error is reported at once, each with a code, a JSON
pointer and a message that names the problem."""

import pytest

from rules.conditions.model import ErrorCode
from rules.conditions.parse import ConditionInvalid, parse_condition


def errors_of(data, **kwargs):
    with pytest.raises(ConditionInvalid) as raised:
        parse_condition(data, **kwargs)
    return [(e.code, e.path, e.message) for e in raised.value.errors]


def only_error(data, **kwargs):
    errors = errors_of(data, **kwargs)
    assert len(errors) == 1, errors
    return errors[0]


ERROR_CASES = [
    ([], ErrorCode.INVALID_TYPE, "", "expected an object"),
    ({"all": [{"attribute": "x"}]}, ErrorCode.INVALID_TYPE, "/all/0/attribute", "expected an object"),
    ({"any": {"not": {}}}, ErrorCode.INVALID_TYPE, "/any", "expected a list of conditions"),
    ({}, ErrorCode.MISSING_KEY, "", "exactly one of"),
    ({"attribute": {"op": "eq", "value": 1}}, ErrorCode.MISSING_KEY, "/attribute/path", "path is required"),
    ({"message": {}}, ErrorCode.MISSING_KEY, "/message/metric", "metric is required"),
    ({"segment": {"member": True}}, ErrorCode.MISSING_KEY, "/segment/id", "id is required"),
    ({"attribute": {"path": "a", "op": "eq", "value": 1}, "not": {"segment": {"id": "s"}}}, ErrorCode.AMBIGUOUS_NODE, "", "exactly one of"),
    ({"alll": []}, ErrorCode.UNKNOWN_KEY, "/alll", "unknown key 'alll'"),
    ({"event": {"name": "x", "limit": 3}}, ErrorCode.UNKNOWN_KEY, "/event/limit", "unknown key 'limit'"),
    ({"event": {"name": "x", "window": {"within": {"weeks": 1}}}}, ErrorCode.UNKNOWN_KEY, "/event/window/within/weeks", "unknown key 'weeks'"),
    ({"attribute": {"path": "a", "op": "greaterThan", "value": 1}}, ErrorCode.UNKNOWN_OPERATOR, "/attribute/op", "unknown op 'greaterThan'"),
    ({"event": {"name": "x", "count": {"op": "atleast", "value": 1}}}, ErrorCode.UNKNOWN_OPERATOR, "/event/count/op", "unknown op 'atleast'"),
    ({"attribute": {"path": "a", "op": "gt", "value": True}}, ErrorCode.INVALID_VALUE, "/attribute/value", "gt needs a number or a string"),
    ({"attribute": {"path": "a", "op": "in", "value": []}}, ErrorCode.INVALID_VALUE, "/attribute/value", "non-empty list"),
    ({"attribute": {"path": "a", "op": "between", "value": [5, 1]}}, ErrorCode.INVALID_VALUE, "/attribute/value", "low <= high"),
    ({"attribute": {"path": "a", "op": "between", "value": [1, "5"]}}, ErrorCode.INVALID_VALUE, "/attribute/value", "two numbers or two strings"),
    ({"attribute": {"path": "a", "op": "eq", "value": {"x": 1}}}, ErrorCode.INVALID_VALUE, "/attribute/value", "eq needs a string, number or boolean"),
    ({"attribute": {"path": "a", "op": "exists", "value": 3}}, ErrorCode.INVALID_VALUE, "/attribute/value", "exists takes no value"),
    ({"attribute": {"path": "a..b", "op": "exists"}}, ErrorCode.INVALID_VALUE, "/attribute/path", "dot-separated names"),
    ({"attribute": {"path": "a", "op": "before", "value": "yesterday"}}, ErrorCode.INVALID_VALUE, "/attribute/value", "Unix seconds"),
    ({"attribute": {"path": "a", "op": "withinLast", "value": {"days": 0}}}, ErrorCode.INVALID_VALUE, "/attribute/value", "greater than 0"),
    ({"event": {"name": ""}}, ErrorCode.INVALID_VALUE, "/event/name", "non-empty string"),
    ({"event": {"name": "x", "window": {"from": 10, "to": 5}}}, ErrorCode.INVALID_VALUE, "/event/window/to", "later than from"),
    ({"event": {"name": "x", "window": {}}}, ErrorCode.INVALID_VALUE, "/event/window", "either"),
    ({"event": {"name": "x", "count": {"op": "atLeast", "value": 1.5}}}, ErrorCode.INVALID_VALUE, "/event/count/value", "whole number"),
    ({"message": {"metric": "read"}}, ErrorCode.INVALID_VALUE, "/message/metric", "unknown metric 'read'"),
    ({"pageView": {"sameUrl": "yes"}}, ErrorCode.INVALID_VALUE, "/pageView/sameUrl", "true or false"),
    ({"all": []}, ErrorCode.EMPTY_GROUP, "/all", "at least one condition"),
    ({"not": {"any": []}}, ErrorCode.EMPTY_GROUP, "/not/any", "at least one condition"),
    ({"event": {"name": "x", "count": {"op": "atMost", "value": -2}}}, ErrorCode.NEGATIVE_COUNT, "/event/count/value", "0 or more, got -2"),
    ({"event": {"name": "x", "window": {"within": {"hours": -1}}}}, ErrorCode.NEGATIVE_WINDOW, "/event/window/within/hours", "must not be negative"),
    ({"attribute": {"path": "a", "op": "moreThanAgo", "value": {"days": -3}}}, ErrorCode.NEGATIVE_WINDOW, "/attribute/value/days", "must not be negative"),
    ({"attribute": {"path": "a", "op": "matches", "value": "(unclosed"}}, ErrorCode.INVALID_REGEX, "/attribute/value", "not a valid regular expression"),
    ({"pageView": {"url": {"op": "matches", "value": "*"}}}, ErrorCode.INVALID_REGEX, "/pageView/url/value", "not a valid regular expression"),
    ({"attribute": {"path": "note", "op": "matches", "value": "^(a+)+$"}}, ErrorCode.UNBOUNDED_REGEX, "/attribute/value", "exponential time"),
    ({"event": {"filters": [{"path": "p", "op": "matches", "value": "(a)\\1"}]}}, ErrorCode.UNSUPPORTED_REGEX, "/event/filters/0/value", "backreferences"),
]


@pytest.mark.parametrize("data, code, path, message_part", ERROR_CASES)
def test_each_error_has_code_pointer_and_message(data, code, path, message_part):
    found_code, found_path, message = only_error(data)
    assert (found_code, found_path) == (code, path)
    assert message_part in message


def test_missing_segment_is_reported_at_the_reference():
    code, path, message = only_error({"all": [{"segment": {"id": "seg_gone"}}]}, segments={"seg_other": None})
    assert (code, path) == (ErrorCode.MISSING_SEGMENT, "/all/0/segment/id")
    assert "seg_gone" in message


def test_a_reference_chain_back_to_itself_is_a_cycle():
    segments = {
        "seg_a": parse_condition({"segment": {"id": "seg_b"}}),
        "seg_b": parse_condition({"not": {"segment": {"id": "seg_self"}}}),
        "seg_self": None,
    }
    code, path, message = only_error({"any": [{"segment": {"id": "seg_a"}}]}, segments=segments, self_id="seg_self")
    assert (code, path) == (ErrorCode.SEGMENT_CYCLE, "/any/0/segment/id")
    assert "refers back" in message
    assert only_error({"segment": {"id": "seg_self"}}, segments=segments, self_id="seg_self")[0] == ErrorCode.SEGMENT_CYCLE


def test_references_to_existing_and_manual_segments_are_fine():
    segments = {"seg_manual": None, "seg_data": parse_condition({"event": {"name": "x"}})}
    parse_condition({"all": [{"segment": {"id": "seg_manual"}}, {"segment": {"id": "seg_data"}}]}, segments=segments, self_id="seg_new")


def test_references_are_not_checked_without_segments():
    parse_condition({"segment": {"id": "seg_anything"}})


def test_too_deep_nesting_is_rejected():
    data = {"attribute": {"path": "a", "op": "exists"}}
    for _ in range(40):
        data = {"not": data}
    code, path, message = only_error(data)
    assert (code, path) == (ErrorCode.TOO_DEEP, "/not" * 33)
    assert "at most 32 levels" in message


def test_every_error_code_is_exercised():
    tested = {code for _, code, _, _ in ERROR_CASES}
    tested |= {ErrorCode.MISSING_SEGMENT, ErrorCode.SEGMENT_CYCLE, ErrorCode.TOO_DEEP}  # tests below
    assert tested == set(ErrorCode)


def test_every_error_is_reported_at_once():
    errors = errors_of(
        {
            "all": [
                {"attribute": {"path": "a", "op": "nope", "value": 1}},
                {"any": []},
                {"event": {"name": "x", "count": {"op": "atLeast", "value": -1}, "window": {"within": {"days": -1}}}},
                {"segment": {"id": "seg_missing"}},
            ]
        },
        segments={},
    )
    assert [(code, path) for code, path, _ in errors] == [
        (ErrorCode.UNKNOWN_OPERATOR, "/all/0/attribute/op"),
        (ErrorCode.EMPTY_GROUP, "/all/1/any"),
        (ErrorCode.NEGATIVE_COUNT, "/all/2/event/count/value"),
        (ErrorCode.NEGATIVE_WINDOW, "/all/2/event/window/within/days"),
        (ErrorCode.MISSING_SEGMENT, "/all/3/segment/id"),
    ]


def test_pointer_escapes_slash_and_tilde_in_keys():
    assert only_error({"event": {"name": "x", "a/b~c": 1}})[1] == "/event/a~1b~0c"
