"""JSON (or GraphQL input) -> condition tree, reporting every error at once.

Each error has a code, a JSON pointer into the input and a message. The
structural checks (JSON types, keys, operator names, durations) live here;
value invariants live on the model nodes, whose `InvalidNode` is turned into
an error at the right pointer. Operator, count and metric names are accepted
as the JSON camelCase (`startsWith`) or GraphQL's UPPER_SNAKE_CASE
(`STARTS_WITH`). Keys whose value is null count as absent, so GraphQL input
objects can be passed through as they are.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from rules.conditions.dependencies import dependencies
from rules.conditions.model import (
    All,
    AnyOf,
    AttributeCondition,
    Condition,
    Count,
    CountOp,
    DeviceCondition,
    ErrorCode,
    EventCondition,
    InvalidNode,
    MessageCondition,
    Metric,
    Not,
    Operator,
    PageViewCondition,
    Predicate,
    PropertyFilter,
    SegmentCondition,
    TimeWindow,
    UrlMatch,
    kind_of,
)

__all__ = ["ConditionError", "ConditionInvalid", "ErrorCode", "condition_to_json", "parse_condition"]

MAX_DEPTH = 32
DURATION_UNITS = {"days": 86_400, "hours": 3_600, "minutes": 60, "seconds": 1}

E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True)
class ConditionError:
    code: ErrorCode
    path: str  # JSON pointer, e.g. "/all/1/event/count/value"
    message: str

    def as_json(self) -> dict[str, str]:
        return {"code": str(self.code), "path": self.path, "message": self.message}


class ConditionInvalid(Exception):
    def __init__(self, errors: list[ConditionError]) -> None:
        super().__init__("; ".join(f"{e.path or '/'}: {e.message}" for e in errors))
        self.errors = errors


def _pointer(path: str, key: str | int) -> str:
    return f"{path}/{str(key).replace('~', '~0').replace('/', '~1')}"


def _enum_member(enum: type[E], raw: str) -> E | None:
    """`startsWith` or `STARTS_WITH` -> Operator.STARTS_WITH."""
    if raw in enum._value2member_map_:
        return enum(raw)
    return enum.__members__.get(raw)


def _is_number(value: object) -> bool:
    return kind_of(value) == "number" and math.isfinite(value)


class _Parser:
    def __init__(self) -> None:
        self.errors: list[ConditionError] = []
        self.segment_refs: list[tuple[str, str]] = []  # (segment id, pointer)

    def error(self, code: ErrorCode, path: str, message: str) -> None:
        self.errors.append(ConditionError(code, path, message))

    def build(self, cls: Callable[..., Any], path: str, /, **fields: Any) -> Any:
        """Construct a node, or record its invariant failure and return None."""
        if any(value is _INVALID for value in fields.values()):
            return None
        try:
            return cls(**fields)
        except InvalidNode as invalid:
            self.error(invalid.code, _pointer(path, invalid.field) if invalid.field else path, invalid.message)
            return None

    def object(self, data: object, path: str, *, allowed: set[str], required: set[str] = frozenset()) -> dict | None:
        if not isinstance(data, Mapping):
            self.error(ErrorCode.INVALID_TYPE, path, f"expected an object, got {type(data).__name__}")
            return None
        present = {k: v for k, v in data.items() if v is not None}
        for key in present.keys() - allowed:
            self.error(ErrorCode.UNKNOWN_KEY, _pointer(path, key), f"unknown key {key!r}; expected {_names(allowed)}")
        for key in sorted(required - present.keys()):
            self.error(ErrorCode.MISSING_KEY, _pointer(path, key), f"{key} is required")
        return present

    # -- nodes ---------------------------------------------------------------

    def condition(self, data: object, path: str, depth: int) -> Any:
        if depth > MAX_DEPTH:
            self.error(ErrorCode.TOO_DEEP, path, f"conditions nest at most {MAX_DEPTH} levels deep")
            return _INVALID
        body = self.object(data, path, allowed=set(NODE_PARSERS))
        if body is None:
            return _INVALID
        kinds = [key for key in body if key in NODE_PARSERS]
        if not kinds and body:
            return _INVALID  # only unknown keys, already reported
        if len(kinds) != 1:
            code = ErrorCode.MISSING_KEY if not kinds else ErrorCode.AMBIGUOUS_NODE
            self.error(code, path, f"a condition has exactly one of {_names(NODE_PARSERS)}, got {len(kinds)}")
            return _INVALID
        kind = kinds[0]
        node = NODE_PARSERS[kind](self, body[kind], _pointer(path, kind), depth)
        return _INVALID if node is None else node

    def group(self, cls: type, data: object, path: str, depth: int) -> Any:
        if not isinstance(data, list):
            self.error(ErrorCode.INVALID_TYPE, path, f"expected a list of conditions, got {type(data).__name__}")
            return None
        if not data:
            self.error(ErrorCode.EMPTY_GROUP, path, "a group needs at least one condition")
            return None
        children = [self.condition(child, _pointer(path, i), depth + 1) for i, child in enumerate(data)]
        return self.build(cls, path, children=_all_valid(children))

    def all(self, data: object, path: str, depth: int) -> Any:
        return self.group(All, data, path, depth)

    def any(self, data: object, path: str, depth: int) -> Any:
        return self.group(AnyOf, data, path, depth)

    def not_(self, data: object, path: str, depth: int) -> Any:
        return self.build(Not, path, child=self.condition(data, path, depth + 1))

    def attribute(self, data: object, path: str, depth: int) -> Any:
        return self.predicate(AttributeCondition, data, path, with_path=True)

    def event(self, data: object, path: str, depth: int) -> Any:
        body = self.object(data, path, allowed={"name", "filters", "count", "window"})
        if body is None:
            return None
        return self.build(
            EventCondition,
            path,
            name=body.get("name"),
            filters=self.filters(body.get("filters"), _pointer(path, "filters")),
            count=self.count(body.get("count"), _pointer(path, "count")),
            window=self.window(body.get("window"), _pointer(path, "window")),
        )

    def page_view(self, data: object, path: str, depth: int) -> Any:
        body = self.object(data, path, allowed={"url", "filters", "count", "window", "sameUrl"})
        if body is None:
            return None
        url = body.get("url")
        return self.build(
            PageViewCondition,
            path,
            url=None if url is None else self.predicate(UrlMatch, url, _pointer(path, "url"), with_path=False),
            filters=self.filters(body.get("filters"), _pointer(path, "filters")),
            count=self.count(body.get("count"), _pointer(path, "count")),
            window=self.window(body.get("window"), _pointer(path, "window")),
            same_url=body.get("sameUrl", False),
        )

    def device(self, data: object, path: str, depth: int) -> Any:
        body = self.object(data, path, allowed={"platform", "filters", "lastUsed"})
        if body is None:
            return None
        return self.build(
            DeviceCondition,
            path,
            platform=body.get("platform"),
            filters=self.filters(body.get("filters"), _pointer(path, "filters")),
            last_used=self.window(body.get("lastUsed"), _pointer(path, "lastUsed")),
        )

    def message(self, data: object, path: str, depth: int) -> Any:
        body = self.object(
            data,
            path,
            allowed={"metric", "messageId", "campaignId", "channel", "count", "window"},
            required={"metric"},
        )
        if body is None or "metric" not in body:
            return None
        return self.build(
            MessageCondition,
            path,
            metric=self.enum(Metric, body["metric"], _pointer(path, "metric"), ErrorCode.INVALID_VALUE),
            message_id=body.get("messageId"),
            campaign_id=body.get("campaignId"),
            channel=body.get("channel"),
            count=self.count(body.get("count"), _pointer(path, "count")),
            window=self.window(body.get("window"), _pointer(path, "window")),
        )

    def segment(self, data: object, path: str, depth: int) -> Any:
        body = self.object(data, path, allowed={"id", "member"}, required={"id"})
        if body is None or "id" not in body:
            return None
        node = self.build(SegmentCondition, path, segment_id=body["id"], member=body.get("member", True))
        if node is not None:
            self.segment_refs.append((node.segment_id, _pointer(path, "id")))
        return node

    # -- parts ---------------------------------------------------------------

    def enum(self, enum: type[E], raw: object, path: str, code: ErrorCode) -> Any:
        member = _enum_member(enum, raw) if isinstance(raw, str) else None
        if member is None:
            self.error(code, path, f"unknown {path.rsplit('/', 1)[-1]} {raw!r}; expected {_names(enum)}")
            return _INVALID
        return member

    def predicate(self, cls: type[Predicate], data: object, path: str, *, with_path: bool) -> Any:
        allowed = {"op", "value", "path"} if with_path else {"op", "value"}
        required = allowed - {"value"}
        body = self.object(data, path, allowed=allowed, required=required)
        if body is None or not required <= body.keys():
            return None
        op = self.enum(Operator, body["op"], _pointer(path, "op"), ErrorCode.UNKNOWN_OPERATOR)
        value = body.get("value")
        if op in (Operator.BETWEEN, Operator.IN, Operator.NOT_IN) and isinstance(value, list):
            value = tuple(value)
        elif op in (Operator.WITHIN_LAST, Operator.MORE_THAN_AGO):
            value = self.duration(value, _pointer(path, "value"))
        elif op in (Operator.EXISTS, Operator.NOT_EXISTS) and value is True:
            value = None
        fields = {"op": op, "value": value}
        if with_path:
            fields["path"] = body.get("path")
        return self.build(cls, path, **fields)

    def filters(self, data: object, path: str) -> Any:
        if data is None:
            return ()
        if not isinstance(data, list):
            self.error(ErrorCode.INVALID_TYPE, path, f"expected a list of filters, got {type(data).__name__}")
            return _INVALID
        parsed = [self.predicate(PropertyFilter, f, _pointer(path, i), with_path=True) for i, f in enumerate(data)]
        return _all_valid(parsed)

    def count(self, data: object, path: str) -> Any:
        if data is None:
            return Count()
        body = self.object(data, path, allowed={"op", "value"}, required={"op", "value"})
        if body is None or len(body) != 2:
            return _INVALID
        op = self.enum(CountOp, body["op"], _pointer(path, "op"), ErrorCode.UNKNOWN_OPERATOR)
        return self.build(Count, path, op=op, value=body["value"]) or _INVALID

    def duration(self, data: object, path: str) -> Any:
        body = self.object(data, path, allowed=set(DURATION_UNITS))
        if body is None:
            return _INVALID
        if not body.keys() & DURATION_UNITS.keys():
            if not body:  # otherwise its unknown units are already reported
                self.error(ErrorCode.INVALID_VALUE, path, f"a duration needs at least one of {_names(DURATION_UNITS)}")
            return _INVALID
        total = 0.0
        for unit, amount in body.items():
            if unit not in DURATION_UNITS:
                continue  # already reported as unknown
            if not _is_number(amount):
                self.error(ErrorCode.INVALID_VALUE, _pointer(path, unit), f"{unit} must be a number")
                return _INVALID
            if amount < 0:
                self.error(ErrorCode.NEGATIVE_WINDOW, _pointer(path, unit), f"{unit} must not be negative, got {amount}")
                return _INVALID
            total += amount * DURATION_UNITS[unit]
        return int(total) if total.is_integer() else total

    def window(self, data: object, path: str) -> Any:
        if data is None:
            return None
        body = self.object(data, path, allowed={"within", "from", "to"})
        if body is None:
            return _INVALID
        if "within" in body:
            if body.keys() & {"from", "to"}:
                self.error(ErrorCode.INVALID_VALUE, path, 'a window is either {"within": ...} or {"from": T, "to": T}')
                return _INVALID
            within = self.duration(body["within"], _pointer(path, "within"))
            return self.build(TimeWindow, path, within_seconds=within) or _INVALID
        return self.build(TimeWindow, path, start=body.get("from"), end=body.get("to")) or _INVALID


class _Invalid:
    """Marks a part that failed to parse (its errors are already recorded)."""


_INVALID: Any = _Invalid()


def _all_valid(parts: list[Any]) -> Any:
    return _INVALID if any(part is _INVALID or part is None for part in parts) else tuple(parts)


def _names(names: Any) -> str:
    listed = [str(getattr(n, "value", n)) for n in names]
    return ", ".join(sorted(listed) if isinstance(names, (set, frozenset)) else listed)


NODE_PARSERS: dict[str, Callable[[_Parser, object, str, int], Any]] = {
    "all": _Parser.all,
    "any": _Parser.any,
    "not": _Parser.not_,
    "attribute": _Parser.attribute,
    "event": _Parser.event,
    "pageView": _Parser.page_view,
    "device": _Parser.device,
    "message": _Parser.message,
    "segment": _Parser.segment,
}


def _reaches(start: str, target: str, segments: Mapping[str, Condition | None]) -> bool:
    """Whether following segment references from `start` arrives at `target`."""
    pending, seen = [start], set()
    while pending:
        current = pending.pop()
        if current == target:
            return True
        if current in seen:
            continue
        seen.add(current)
        condition = segments.get(current)
        if condition is not None:
            pending.extend(dependencies(condition).segment_ids)
    return False


def parse_condition(
    data: object,
    *,
    segments: Mapping[str, Condition | None] | None = None,
    self_id: str | None = None,
) -> Condition:
    """Validate and build a condition; raises ConditionInvalid listing every error.

    `segments` maps the workspace's segment ids to their conditions (None for
    manual segments); when given, references must point into it and must not
    lead back to `self_id`.
    """
    parser = _Parser()
    condition = parser.condition(data, "", 0)
    if segments is not None:
        for segment_id, path in parser.segment_refs:
            if segment_id not in segments and segment_id != self_id:
                parser.error(ErrorCode.MISSING_SEGMENT, path, f"segment {segment_id!r} does not exist in this workspace")
            elif self_id is not None and _reaches(segment_id, self_id, segments):
                parser.error(ErrorCode.SEGMENT_CYCLE, path, f"segment {segment_id!r} refers back to this segment")
    if parser.errors:
        raise ConditionInvalid(parser.errors)
    return condition


# -- canonical JSON ----------------------------------------------------------


def duration_json(seconds: float) -> dict[str, float]:
    for unit, size in DURATION_UNITS.items():
        if seconds % size == 0:
            amount = seconds / size
            return {unit: int(amount) if amount.is_integer() else amount}
    return {"seconds": seconds}


def _predicate_json(predicate: Predicate) -> dict[str, Any]:
    out: dict[str, Any] = {"path": predicate.path} if hasattr(predicate, "path") else {}
    out["op"] = str(predicate.op)
    if predicate.op in (Operator.WITHIN_LAST, Operator.MORE_THAN_AGO):
        out["value"] = duration_json(predicate.value)
    elif isinstance(predicate.value, tuple):
        out["value"] = list(predicate.value)
    elif predicate.value is not None:
        out["value"] = predicate.value
    return out


def _window_json(window: TimeWindow) -> dict[str, Any]:
    if window.within_seconds is not None:
        return {"within": duration_json(window.within_seconds)}
    return {k: v for k, v in (("from", window.start), ("to", window.end)) if v is not None}


def _activity_json(body: dict[str, Any], *, filters=(), count: Count | None = None, window=None) -> dict[str, Any]:
    """Adds the shared activity parts, leaving out defaults."""
    if filters:
        body["filters"] = [_predicate_json(f) for f in filters]
    if count is not None and count != Count():
        body["count"] = {"op": str(count.op), "value": count.value}
    if window is not None:
        body["window"] = _window_json(window)
    return body


def condition_to_json(condition: Condition) -> dict[str, Any]:
    """Canonical JSON form: `parse_condition(condition_to_json(c)) == c`."""
    match condition:
        case All(children=children) | AnyOf(children=children):
            return {condition.key: [condition_to_json(c) for c in children]}
        case Not(child=child):
            return {"not": condition_to_json(child)}
        case AttributeCondition():
            return {"attribute": _predicate_json(condition)}
        case EventCondition():
            body = {} if condition.name is None else {"name": condition.name}
            return {"event": _activity_json(body, filters=condition.filters, count=condition.count, window=condition.window)}
        case PageViewCondition():
            body = {} if condition.url is None else {"url": _predicate_json(condition.url)}
            _activity_json(body, filters=condition.filters, count=condition.count, window=condition.window)
            if condition.same_url:
                body["sameUrl"] = True
            return {"pageView": body}
        case DeviceCondition():
            body = {} if condition.platform is None else {"platform": condition.platform}
            _activity_json(body, filters=condition.filters)
            if condition.last_used is not None:
                body["lastUsed"] = _window_json(condition.last_used)
            return {"device": body}
        case MessageCondition():
            body = {"metric": str(condition.metric)}
            for key, value in (
                ("messageId", condition.message_id),
                ("campaignId", condition.campaign_id),
                ("channel", condition.channel),
            ):
                if value is not None:
                    body[key] = value
            return {"message": _activity_json(body, count=condition.count, window=condition.window)}
        case SegmentCondition():
            return {"segment": {"id": condition.segment_id, "member": condition.member}}
    raise TypeError(f"not a condition: {condition!r}")
