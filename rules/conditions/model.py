"""The condition language as data: frozen, keyword-only nodes that cannot be
built invalid (CONTRACT section 4, docs/conditions.md).

Every node checks its own invariants in `__post_init__` and raises
`InvalidNode` naming the offending field, so the parser can turn the failure
into a `ConditionError` with a JSON pointer instead of repeating the checks.
Times are Unix seconds; durations are seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import ClassVar, TypeGuard

from rules.conditions.regex import pattern_problem


class ErrorCode(StrEnum):
    INVALID_TYPE = "INVALID_TYPE"  # wrong JSON type (object expected, ...)
    MISSING_KEY = "MISSING_KEY"
    UNKNOWN_KEY = "UNKNOWN_KEY"
    AMBIGUOUS_NODE = "AMBIGUOUS_NODE"  # a node with more than one kind key
    UNKNOWN_OPERATOR = "UNKNOWN_OPERATOR"
    INVALID_VALUE = "INVALID_VALUE"
    EMPTY_GROUP = "EMPTY_GROUP"
    NEGATIVE_COUNT = "NEGATIVE_COUNT"
    NEGATIVE_WINDOW = "NEGATIVE_WINDOW"
    INVALID_REGEX = "INVALID_REGEX"
    UNSUPPORTED_REGEX = "UNSUPPORTED_REGEX"  # outside what PCRE, Python's re and RE2 read alike (rules/conditions/regex.py)
    UNBOUNDED_REGEX = "UNBOUNDED_REGEX"  # a shape that can make a backtracking engine stall
    MISSING_SEGMENT = "MISSING_SEGMENT"
    SEGMENT_CYCLE = "SEGMENT_CYCLE"
    TOO_DEEP = "TOO_DEEP"


class InvalidNode(ValueError):
    """An invariant of a node failed; `field` is the JSON key at fault ("" for the node)."""

    def __init__(self, code: ErrorCode, field: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.field = field
        self.message = message


class UnsupportedCondition(TypeError):
    """A backend met a node type it has no rule for: fail loudly, never open."""


class Operator(StrEnum):
    EQ = "eq"
    NE = "ne"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    BETWEEN = "between"
    IN = "in"
    NOT_IN = "notIn"
    EXISTS = "exists"
    NOT_EXISTS = "notExists"
    CONTAINS = "contains"
    NOT_CONTAINS = "notContains"
    STARTS_WITH = "startsWith"
    ENDS_WITH = "endsWith"
    MATCHES = "matches"
    BEFORE = "before"
    AFTER = "after"
    WITHIN_LAST = "withinLast"
    MORE_THAN_AGO = "moreThanAgo"


# A negative operator holds exactly when its positive counterpart does not,
# which is also what MongoDB's $ne, $nin and $not do (missing fields included).
NEGATED: dict[Operator, Operator] = {
    Operator.NE: Operator.EQ,
    Operator.NOT_IN: Operator.IN,
    Operator.NOT_EXISTS: Operator.EXISTS,
    Operator.NOT_CONTAINS: Operator.CONTAINS,
}
RELATIVE_TIME_OPERATORS = frozenset({Operator.WITHIN_LAST, Operator.MORE_THAN_AGO})
ABSOLUTE_TIME_OPERATORS = frozenset({Operator.BEFORE, Operator.AFTER})
ORDER_OPERATORS = frozenset({Operator.GT, Operator.GTE, Operator.LT, Operator.LTE})


class CountOp(StrEnum):
    AT_LEAST = "atLeast"
    AT_MOST = "atMost"
    EXACTLY = "exactly"


class Metric(StrEnum):
    SENT = "sent"
    DELIVERED = "delivered"
    OPENED = "opened"
    CLICKED = "clicked"
    CONVERTED = "converted"
    BOUNCED = "bounced"
    FAILED = "failed"
    SPAMMED = "spammed"
    UNSUBSCRIBED = "unsubscribed"


Scalar = str | int | float | bool


def kind_of(value: object) -> str | None:
    """The comparison kind of a value; values compare only within one kind."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, datetime):
        return "date"
    return None


def is_finite_number(value: object) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_finite_scalar(value: object) -> bool:
    return kind_of(value) in ("bool", "string") or is_finite_number(value)


def _operand_problem(op: Operator, value: object) -> tuple[ErrorCode, str] | None:
    """Why `value` cannot be the operand of `op`, or None when it can."""
    if op in (Operator.EXISTS, Operator.NOT_EXISTS):
        return None if value is None else (ErrorCode.INVALID_VALUE, f"{op} takes no value")
    if op in (Operator.EQ, Operator.NE, Operator.CONTAINS, Operator.NOT_CONTAINS):
        if _is_finite_scalar(value):
            return None
        return ErrorCode.INVALID_VALUE, f"{op} needs a string, number or boolean value"
    if op in ORDER_OPERATORS:
        if kind_of(value) == "string" or is_finite_number(value):
            return None
        return ErrorCode.INVALID_VALUE, f"{op} needs a number or a string value"
    if op is Operator.BETWEEN:
        if (
            isinstance(value, tuple)
            and len(value) == 2
            and all(_is_finite_scalar(v) for v in value)
            and kind_of(value[0]) == kind_of(value[1]) in ("number", "string")
        ):
            if value[0] > value[1]:
                return ErrorCode.INVALID_VALUE, "between needs [low, high] with low <= high"
            return None
        return ErrorCode.INVALID_VALUE, "between needs [low, high]: two numbers or two strings"
    if op in (Operator.IN, Operator.NOT_IN):
        if isinstance(value, tuple) and value and all(_is_finite_scalar(v) for v in value):
            return None
        return ErrorCode.INVALID_VALUE, f"{op} needs a non-empty list of strings, numbers or booleans"
    if op in (Operator.STARTS_WITH, Operator.ENDS_WITH):
        return None if isinstance(value, str) else (ErrorCode.INVALID_VALUE, f"{op} needs a string value")
    if op is Operator.MATCHES:
        if not isinstance(value, str):
            return ErrorCode.INVALID_VALUE, "matches needs a regular expression string"
        refused = pattern_problem(value)
        if refused is None:
            return None
        return _REGEX_ERROR_CODES[refused.kind], refused.message
    if op in ABSOLUTE_TIME_OPERATORS:
        if is_finite_number(value):
            return None
        return ErrorCode.INVALID_VALUE, f"{op} needs a timestamp in Unix seconds"
    # withinLast / moreThanAgo: a duration in seconds (parsed from {"days": n, ...})
    if is_finite_number(value):
        if value < 0:
            return ErrorCode.NEGATIVE_WINDOW, f"{op} needs a positive duration, got {value} seconds"
        if value == 0:
            return ErrorCode.INVALID_VALUE, f"{op} needs a duration greater than 0"
        return None
    return ErrorCode.INVALID_VALUE, f'{op} needs a duration such as {{"days": 7}}'


_REGEX_ERROR_CODES = {
    "invalid": ErrorCode.INVALID_REGEX,
    "unsupported": ErrorCode.UNSUPPORTED_REGEX,
    "unbounded": ErrorCode.UNBOUNDED_REGEX,
}


def _check_path(path: object) -> None:
    if not isinstance(path, str) or not path:
        raise InvalidNode(ErrorCode.INVALID_VALUE, "path", "path must be a non-empty string")
    for part in path.split("."):
        if not part or part.startswith("$"):
            raise InvalidNode(
                ErrorCode.INVALID_VALUE,
                "path",
                f"path {path!r} must be dot-separated names, none empty or starting with '$'",
            )


@dataclass(frozen=True, kw_only=True)
class Predicate:
    """An operator with its operand, applied to one value.

    Operand shapes: a scalar; a tuple for `between` (low, high) and
    `in`/`notIn`; None for `exists`/`notExists`; seconds for
    `withinLast`/`moreThanAgo`; Unix seconds for `before`/`after`.
    """

    op: Operator
    value: Scalar | tuple[Scalar, ...] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.op, Operator):
            raise InvalidNode(ErrorCode.UNKNOWN_OPERATOR, "op", f"unknown operator {self.op!r}")
        problem = _operand_problem(self.op, self.value)
        if problem is not None:
            raise InvalidNode(problem[0], "value", problem[1])

    # The operand in the shape its operator gives it (checked when the predicate was made).
    @property
    def text(self) -> str:
        """The operand of startsWith, endsWith and matches."""
        if not isinstance(self.value, str):
            raise TypeError(f"{self.op} has no string operand")
        return self.value

    @property
    def options(self) -> tuple[Scalar, ...]:
        """The operand of in and notIn, and of between (low, high)."""
        if not isinstance(self.value, tuple):
            raise TypeError(f"{self.op} has no list operand")
        return self.value

    @property
    def seconds(self) -> float:
        """The operand of before and after (Unix seconds), withinLast and moreThanAgo (a duration)."""
        if not is_finite_number(self.value):
            raise TypeError(f"{self.op} has no number operand")
        return self.value


@dataclass(frozen=True, kw_only=True)
class UrlMatch(Predicate):
    """A predicate on a page view's URL."""


@dataclass(frozen=True, kw_only=True)
class PropertyFilter(Predicate):
    """A predicate on a path inside an event's `data` or a device's `attributes`."""

    path: str

    def __post_init__(self) -> None:
        _check_path(self.path)
        super().__post_init__()


def _check_count(value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidNode(ErrorCode.INVALID_VALUE, "value", "count value must be a whole number")
    if value < 0:
        raise InvalidNode(ErrorCode.NEGATIVE_COUNT, "value", f"count value must be 0 or more, got {value}")


@dataclass(frozen=True, kw_only=True)
class Count:
    op: CountOp = CountOp.AT_LEAST
    value: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.op, CountOp):
            raise InvalidNode(ErrorCode.UNKNOWN_OPERATOR, "op", f"unknown count operator {self.op!r}")
        _check_count(self.value)

    def holds(self, count: int) -> bool:
        match self.op:
            case CountOp.AT_LEAST:
                return count >= self.value
            case CountOp.AT_MOST:
                return count <= self.value
            case CountOp.EXACTLY:
                return count == self.value


@dataclass(frozen=True, kw_only=True)
class TimeRange:
    """An interval of Unix seconds with explicit edge inclusion; None = unbounded."""

    low: float | None
    low_inclusive: bool
    high: float | None
    high_inclusive: bool

    def contains(self, t: float) -> bool:
        if self.low is not None and (t < self.low or (t == self.low and not self.low_inclusive)):
            return False
        if self.high is not None and (t > self.high or (t == self.high and not self.high_inclusive)):
            return False
        return True


@dataclass(frozen=True, kw_only=True)
class TimeWindow:
    """Either relative (`within_seconds`: the last N seconds, ending now) or
    absolute (`start` inclusive, `end` exclusive, either optional). No window
    ever includes activity later than now."""

    within_seconds: float | None = None
    start: float | None = None
    end: float | None = None

    def __post_init__(self) -> None:
        relative = self.within_seconds is not None
        absolute = self.start is not None or self.end is not None
        if relative == absolute:
            raise InvalidNode(ErrorCode.INVALID_VALUE, "", 'a window is either {"within": ...} or {"from": T, "to": T}')
        if relative:
            problem = _operand_problem(Operator.WITHIN_LAST, self.within_seconds)
            if problem is not None:
                raise InvalidNode(problem[0], "within", problem[1].replace(Operator.WITHIN_LAST, "within"))
            return
        for name, bound in (("from", self.start), ("to", self.end)):
            if bound is not None and not (kind_of(bound) == "number" and math.isfinite(bound)):
                raise InvalidNode(ErrorCode.INVALID_VALUE, name, f"{name} must be a timestamp in Unix seconds")
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise InvalidNode(ErrorCode.INVALID_VALUE, "to", "to must be later than from")

    def range_at(self, now: float) -> TimeRange:
        if self.within_seconds is not None:
            return TimeRange(low=now - self.within_seconds, low_inclusive=False, high=now, high_inclusive=True)
        if self.end is not None and self.end <= now:
            return TimeRange(low=self.start, low_inclusive=True, high=self.end, high_inclusive=False)
        return TimeRange(low=self.start, low_inclusive=True, high=now, high_inclusive=True)


def time_range_of(predicate: Predicate, now: float) -> TimeRange | None:
    """The timestamps a timestamp operator accepts at `now` (None for other operators)."""
    match predicate.op:
        case Operator.BEFORE:
            return TimeRange(low=None, low_inclusive=False, high=predicate.seconds, high_inclusive=False)
        case Operator.AFTER:
            return TimeRange(low=predicate.seconds, low_inclusive=False, high=None, high_inclusive=False)
        case Operator.WITHIN_LAST:
            return TimeRange(low=now - predicate.seconds, low_inclusive=False, high=now, high_inclusive=True)
        case Operator.MORE_THAN_AGO:
            return TimeRange(low=None, low_inclusive=False, high=now - predicate.seconds, high_inclusive=True)
    return None


@dataclass(frozen=True, kw_only=True)
class Group:
    children: tuple[Condition, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.children, tuple) or not self.children:
            raise InvalidNode(ErrorCode.EMPTY_GROUP, "", "a group needs at least one condition")


@dataclass(frozen=True, kw_only=True)
class All(Group):
    key: ClassVar[str] = "all"


@dataclass(frozen=True, kw_only=True)
class AnyOf(Group):
    key: ClassVar[str] = "any"


@dataclass(frozen=True, kw_only=True)
class Not:
    key: ClassVar[str] = "not"
    child: Condition


@dataclass(frozen=True, kw_only=True)
class AttributeCondition(Predicate):
    """A predicate on `people.attributes.<path>`."""

    key: ClassVar[str] = "attribute"
    path: str

    def __post_init__(self) -> None:
        _check_path(self.path)
        super().__post_init__()


def _check_optional_name(name: object, field_name: str) -> None:
    if name is not None and (not isinstance(name, str) or not name):
        raise InvalidNode(ErrorCode.INVALID_VALUE, field_name, f"{field_name} must be a non-empty string")


@dataclass(frozen=True, kw_only=True)
class EventCondition:
    """Events of type `event` named `name` (any name when None)."""

    key: ClassVar[str] = "event"
    name: str | None = None
    filters: tuple[PropertyFilter, ...] = ()
    count: Count = field(default_factory=Count)
    window: TimeWindow | None = None

    def __post_init__(self) -> None:
        _check_optional_name(self.name, "name")


@dataclass(frozen=True, kw_only=True)
class PageViewCondition:
    key: ClassVar[str] = "pageView"
    url: UrlMatch | None = None
    filters: tuple[PropertyFilter, ...] = ()
    count: Count = field(default_factory=Count)
    window: TimeWindow | None = None
    same_url: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.same_url, bool):
            raise InvalidNode(ErrorCode.INVALID_VALUE, "sameUrl", "sameUrl must be true or false")


@dataclass(frozen=True, kw_only=True)
class DeviceCondition:
    """At least one device (of `platform`, when given) matching the filters,
    last used within `last_used` when given."""

    key: ClassVar[str] = "device"
    platform: str | None = None
    filters: tuple[PropertyFilter, ...] = ()
    last_used: TimeWindow | None = None

    def __post_init__(self) -> None:
        _check_optional_name(self.platform, "platform")


@dataclass(frozen=True, kw_only=True)
class MessageCondition:
    """Deliveries whose `metric` happened (its timestamp is in the window)."""

    key: ClassVar[str] = "message"
    metric: Metric
    message_id: str | None = None
    campaign_id: str | None = None
    channel: str | None = None
    count: Count = field(default_factory=Count)
    window: TimeWindow | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.metric, Metric):
            raise InvalidNode(ErrorCode.INVALID_VALUE, "metric", f"unknown metric {self.metric!r}")
        for name, value in (("messageId", self.message_id), ("campaignId", self.campaign_id), ("channel", self.channel)):
            _check_optional_name(value, name)


@dataclass(frozen=True, kw_only=True)
class SegmentCondition:
    key: ClassVar[str] = "segment"
    segment_id: str
    member: bool = True

    def __post_init__(self) -> None:
        _check_optional_name(self.segment_id, "id")
        if self.segment_id is None:
            raise InvalidNode(ErrorCode.MISSING_KEY, "id", "segment condition needs an id")
        if not isinstance(self.member, bool):
            raise InvalidNode(ErrorCode.INVALID_VALUE, "member", "member must be true or false")


Condition = (
    All
    | AnyOf
    | Not
    | AttributeCondition
    | EventCondition
    | PageViewCondition
    | DeviceCondition
    | MessageCondition
    | SegmentCondition
)
NODE_TYPES: tuple[type, ...] = Condition.__args__
