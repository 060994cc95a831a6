"""The parts condition nodes are made of: predicates (operator and value),
property filters, counts, durations and time windows."""

from __future__ import annotations

from typing import Any

from rules.conditions.json_form import DURATION_UNITS
from rules.conditions.model import Count, CountOp, ErrorCode, Operator, Predicate, PropertyFilter, TimeWindow, is_finite_number
from rules.conditions.parse_checks import INVALID, Checks, all_valid, names, pointer


def predicate(checks: Checks, cls: type[Predicate], data: object, path: str, *, with_path: bool) -> Any:
    allowed = {"op", "value", "path"} if with_path else {"op", "value"}
    required = allowed - {"value"}
    body = checks.json_object(data, path, allowed=allowed, required=required)
    if body is None or not required <= body.keys():
        return None
    op = checks.enum(Operator, body["op"], pointer(path, "op"), ErrorCode.UNKNOWN_OPERATOR)
    value = body.get("value")
    if op in (Operator.BETWEEN, Operator.IN, Operator.NOT_IN) and isinstance(value, list):
        value = tuple(value)
    elif op in (Operator.WITHIN_LAST, Operator.MORE_THAN_AGO):
        value = duration(checks, value, pointer(path, "value"))
    elif op in (Operator.EXISTS, Operator.NOT_EXISTS) and value is True:
        value = None
    fields = {"op": op, "value": value}
    if with_path:
        fields["path"] = body.get("path")
    return checks.build(cls, path, **fields)


def filters(checks: Checks, data: object, path: str) -> Any:
    if data is None:
        return ()
    if not isinstance(data, list):
        checks.error(ErrorCode.INVALID_TYPE, path, f"expected a list of filters, got {type(data).__name__}")
        return INVALID
    parsed = [predicate(checks, PropertyFilter, f, pointer(path, i), with_path=True) for i, f in enumerate(data)]
    return all_valid(parsed)


def count(checks: Checks, data: object, path: str) -> Any:
    if data is None:
        return Count()
    body = checks.json_object(data, path, allowed={"op", "value"}, required={"op", "value"})
    if body is None or len(body) != 2:
        return INVALID
    op = checks.enum(CountOp, body["op"], pointer(path, "op"), ErrorCode.UNKNOWN_OPERATOR)
    return checks.build(Count, path, op=op, value=body["value"]) or INVALID


def duration(checks: Checks, data: object, path: str) -> Any:
    body = checks.json_object(data, path, allowed=set(DURATION_UNITS))
    if body is None:
        return INVALID
    if not body.keys() & DURATION_UNITS.keys():
        if not body:  # otherwise its unknown units are already reported
            checks.error(ErrorCode.INVALID_VALUE, path, f"a duration needs at least one of {names(DURATION_UNITS)}")
        return INVALID
    total = 0.0
    for unit, amount in body.items():
        if unit not in DURATION_UNITS:
            continue  # already reported as unknown
        if not is_finite_number(amount):
            checks.error(ErrorCode.INVALID_VALUE, pointer(path, unit), f"{unit} must be a number")
            return INVALID
        if amount < 0:
            checks.error(ErrorCode.NEGATIVE_WINDOW, pointer(path, unit), f"{unit} must not be negative, got {amount}")
            return INVALID
        total += amount * DURATION_UNITS[unit]
    return int(total) if total.is_integer() else total


def window(checks: Checks, data: object, path: str) -> Any:
    if data is None:
        return None
    body = checks.json_object(data, path, allowed={"within", "from", "to"})
    if body is None:
        return INVALID
    if "within" in body:
        if body.keys() & {"from", "to"}:
            checks.error(ErrorCode.INVALID_VALUE, path, 'a window is either {"within": ...} or {"from": T, "to": T}')
            return INVALID
        within = duration(checks, body["within"], pointer(path, "within"))
        return checks.build(TimeWindow, path, within_seconds=within) or INVALID
    return checks.build(TimeWindow, path, start=body.get("from"), end=body.get("to")) or INVALID
