"""The reference evaluator: one person's data in memory -> whether a condition
holds, why, and the next moment its truth could change with time alone.

It states the semantics of docs/conditions.md directly in Python; the
generative tests hold the compiled pipelines to it. Used by the membership
engine for incremental updates and by `explainMembership`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import singledispatch
from typing import Any

from rules.conditions import regex
from rules.store.collections import DELIVERIES, DEVICES, EVENTS, MEMBERSHIPS, PEOPLE
from rules.json_values import same_value
from rules.conditions.lowering import ActivityCount, lower
from rules.conditions.json_form import duration_json
from rules.conditions.model import (
    NEGATED,
    ORDER_OPERATORS,
    RELATIVE_TIME_OPERATORS,
    All,
    AnyOf,
    AttributeCondition,
    Condition,
    CountOp,
    DeviceCondition,
    EventCondition,
    MessageCondition,
    Not,
    Operator,
    PageViewCondition,
    Predicate,
    SegmentCondition,
    TimeWindow,
    UnsupportedCondition,
    kind_of,
    time_range_of,
)
from rules.store.types import Database

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()


@dataclass(frozen=True, kw_only=True)
class PersonData:
    profile: dict  # the `people` document
    events: list[dict]
    devices: list[dict]
    deliveries: list[dict]
    segment_ids: frozenset[str]


@dataclass(frozen=True, kw_only=True)
class Explanation:
    holds: bool
    kind: str  # the node's JSON key: "all", "attribute", "event", ...
    path: str  # JSON pointer of the node in the condition
    summary: str
    children: tuple[Explanation, ...] = ()
    # Earliest moment after now at which this node's truth could change with
    # no new data; may be early, never late. None: it cannot change with time.
    next_change_at: float | None = None


def explanation_to_json(explanation: Explanation) -> dict[str, Any]:
    """The tree as JSON; `nextChangeAt` in ISO-8601 UTC, as every time the API shows."""
    next_change_at = explanation.next_change_at
    return {
        "holds": explanation.holds,
        "kind": explanation.kind,
        "path": explanation.path,
        "summary": explanation.summary,
        "nextChangeAt": None if next_change_at is None else datetime.fromtimestamp(next_change_at, tz=UTC).isoformat(),
        "children": [explanation_to_json(child) for child in explanation.children],
    }


async def load_person_data(db: Database, workspace_id: str, person_id: str) -> PersonData | None:
    profile = await db[PEOPLE].find_one({"_id": person_id, "ws": workspace_id})
    if profile is None:
        return None
    scope = {"ws": workspace_id, "personId": person_id}
    events, devices, deliveries, memberships = [
        await db[collection].find(scope).to_list() for collection in (EVENTS, DEVICES, DELIVERIES, MEMBERSHIPS)
    ]
    return PersonData(
        profile=profile,
        events=events,
        devices=devices,
        deliveries=deliveries,
        segment_ids=frozenset(m["segmentId"] for m in memberships),
    )


# ---------------------------------------------------------------- values


def value_at(document: Any, path: str) -> Any:
    """The value at a dotted path through objects, or MISSING."""
    current = document
    for part in path.split("."):
        if not isinstance(current, dict) or part not in current:
            return MISSING
        current = current[part]
    return current


def timestamp_of(value: Any) -> float | None:
    """Unix seconds of a number or a stored date (naive dates are UTC)."""
    kind = kind_of(value)
    if kind == "number":
        return float(value)
    if kind == "date":
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    return None


def _same(element: Any, operand: Any) -> bool:
    """`eq`/`in`/`contains` on one value: MongoDB's `$eq` (false is not 0, 1 is 1.0)."""
    return same_value(element, operand)


def _element_holds(predicate: Predicate, element: Any, now: float) -> bool:
    op, operand = predicate.op, predicate.value
    match op:
        case Operator.EQ:
            return _same(element, operand)
        case Operator.IN:
            return any(_same(element, option) for option in predicate.options)
        case Operator.BETWEEN:
            low, high = predicate.options
            return kind_of(element) == kind_of(low) and low <= element <= high
        case Operator.STARTS_WITH:
            return isinstance(element, str) and element.startswith(predicate.text)
        case Operator.ENDS_WITH:
            return isinstance(element, str) and element.endswith(predicate.text)
        case Operator.MATCHES:
            return isinstance(element, str) and regex.search(predicate.text, element)
    if op in ORDER_OPERATORS:
        if kind_of(element) != kind_of(operand):
            return False
        return {
            Operator.GT: element > operand,
            Operator.GTE: element >= operand,
            Operator.LT: element < operand,
            Operator.LTE: element <= operand,
        }[op]
    time_range = time_range_of(predicate, now)
    if time_range is None:
        raise UnsupportedCondition(f"the evaluator has no rule for operator {op}")
    seconds = timestamp_of(element)
    return seconds is not None and time_range.contains(seconds)


def predicate_holds(predicate: Predicate, value: Any, now: float) -> bool:
    """Whether a (possibly MISSING) value satisfies the predicate.

    Arrays: a positive operator holds when an element does; `contains` is
    membership on arrays and substring on strings; `exists` means present,
    not null and (for arrays) holding no null. Negative operators are the
    exact complement of their positive counterpart."""
    op = predicate.op
    if op in NEGATED:
        return not predicate_holds(Predicate(op=NEGATED[op], value=predicate.value), value, now)
    if op is Operator.EXISTS:
        return value is not MISSING and value is not None and not (isinstance(value, list) and None in value)
    if value is MISSING:
        return False
    if op is Operator.CONTAINS:
        if isinstance(value, list):
            return any(_same(element, predicate.value) for element in value)
        return isinstance(value, str) and isinstance(predicate.value, str) and predicate.value in value
    elements = value if isinstance(value, list) else [value]
    return any(_element_holds(predicate, element, now) for element in elements)


def _later(times: list[float], now: float) -> float | None:
    future = [t for t in times if t > now]
    return min(future) if future else None


def predicate_change_times(predicate: Predicate, value: Any, now: float) -> list[float]:
    """Moments at which a relative timestamp operator flips for this value."""
    if predicate.op not in (Operator.WITHIN_LAST, Operator.MORE_THAN_AGO) or value is MISSING:
        return []
    times = []
    for element in value if isinstance(value, list) else [value]:
        seconds = timestamp_of(element)
        if seconds is None:
            continue
        # withinLast d holds from t (inclusive) until t + d (exclusive); moreThanAgo d from t + d on.
        times += [seconds, seconds + predicate.seconds] if predicate.op is Operator.WITHIN_LAST else [seconds + predicate.seconds]
    return times


def window_change_times(window: TimeWindow, t: float) -> list[float]:
    """Moments at which an activity at time t enters or leaves the window."""
    if window.within_seconds is not None:
        return [t, t + window.within_seconds]
    if (window.start is None or t >= window.start) and (window.end is None or t < window.end):
        return [t]  # an absolute window admits activity once it is no longer in the future
    return []


# ---------------------------------------------------------------- phrases

_OP_PHRASE = {
    Operator.EQ: "equal to",
    Operator.NE: "not equal to",
    Operator.GT: "greater than",
    Operator.GTE: "at least",
    Operator.LT: "less than",
    Operator.LTE: "at most",
    Operator.BETWEEN: "between",
    Operator.IN: "one of",
    Operator.NOT_IN: "none of",
    Operator.EXISTS: "present",
    Operator.NOT_EXISTS: "absent",
    Operator.CONTAINS: "containing",
    Operator.NOT_CONTAINS: "not containing",
    Operator.STARTS_WITH: "starting with",
    Operator.ENDS_WITH: "ending with",
    Operator.MATCHES: "matching",
    Operator.BEFORE: "before",
    Operator.AFTER: "after",
    Operator.WITHIN_LAST: "within the last",
    Operator.MORE_THAN_AGO: "more than this long ago:",
}
_COUNT_PHRASE = {CountOp.AT_LEAST: "at least", CountOp.AT_MOST: "at most", CountOp.EXACTLY: "exactly"}


def _duration_phrase(seconds: float) -> str:
    ((unit, amount),) = duration_json(seconds).items()
    return f"{amount:g} {unit[:-1] if amount == 1 else unit}"


def _predicate_phrase(predicate: Predicate) -> str:
    phrase = _OP_PHRASE[predicate.op]
    if predicate.value is None:
        return phrase
    if predicate.op in RELATIVE_TIME_OPERATORS:
        return f"{phrase} {_duration_phrase(predicate.seconds)}"
    shown = list(predicate.value) if isinstance(predicate.value, tuple) else predicate.value
    return f"{phrase} {shown!r}"


def _window_phrase(window: TimeWindow | None) -> str:
    if window is None:
        return ""
    if window.within_seconds is not None:
        return f" in the last {_duration_phrase(window.within_seconds)}"
    return "".join(
        f" {word} {bound:g}" for word, bound in (("from", window.start), ("until", window.end)) if bound is not None
    )


# ---------------------------------------------------------------- nodes


def evaluate(condition: Condition, person: PersonData, *, now: float) -> Explanation:
    return explain(condition, person, now, "")


@singledispatch
def explain(condition, person: PersonData, now: float, path: str) -> Explanation:
    raise UnsupportedCondition(f"the evaluator has no rule for {type(condition).__name__}")


def _group(condition: All | AnyOf, person: PersonData, now: float, path: str, holds_when) -> Explanation:
    children = tuple(
        explain(child, person, now, f"{path}/{condition.key}/{i}") for i, child in enumerate(condition.children)
    )
    held = sum(child.holds for child in children)
    needed = "all" if condition.key == "all" else "at least one"
    return Explanation(
        holds=holds_when(child.holds for child in children),
        kind=condition.key,
        path=path,
        summary=f"{held} of {len(children)} conditions hold, {needed} needed",
        children=children,
        next_change_at=_later([c.next_change_at for c in children if c.next_change_at is not None], now),
    )


@explain.register
def _(condition: All, person: PersonData, now: float, path: str) -> Explanation:
    return _group(condition, person, now, path, all)


@explain.register
def _(condition: AnyOf, person: PersonData, now: float, path: str) -> Explanation:
    return _group(condition, person, now, path, any)


@explain.register
def _(condition: Not, person: PersonData, now: float, path: str) -> Explanation:
    child = explain(condition.child, person, now, f"{path}/not")
    return Explanation(
        holds=not child.holds,
        kind="not",
        path=path,
        summary=f"the condition below {'holds' if child.holds else 'does not hold'}, needed it not to",
        children=(child,),
        next_change_at=child.next_change_at,
    )


@explain.register
def _(condition: AttributeCondition, person: PersonData, now: float, path: str) -> Explanation:
    value = value_at(person.profile.get("attributes") or {}, condition.path)
    shown = "missing" if value is MISSING else repr(value)
    return Explanation(
        holds=predicate_holds(condition, value, now),
        kind="attribute",
        path=path,
        summary=f"{condition.path} is {shown}; needed {_predicate_phrase(condition)}",
        next_change_at=_later(predicate_change_times(condition, value, now), now),
    )


@explain.register
def _(condition: SegmentCondition, person: PersonData, now: float, path: str) -> Explanation:
    member = condition.segment_id in person.segment_ids
    return Explanation(
        holds=member == condition.member,
        kind="segment",
        path=path,
        summary=(
            f"{'is' if member else 'is not'} a member of segment {condition.segment_id}; "
            f"needed {'member' if condition.member else 'not a member'}"
        ),
    )


_ACTIVITY_DOCUMENTS = {
    EVENTS: lambda person: person.events,
    DEVICES: lambda person: person.devices,
    DELIVERIES: lambda person: person.deliveries,
}


def _explain_activity(condition, person: PersonData, now: float, path: str) -> Explanation:
    activity = lower(condition)
    count, next_change_at = count_activity(activity, _ACTIVITY_DOCUMENTS[activity.collection](person), now)
    return Explanation(
        holds=activity.count.holds(count),
        kind=condition.key,
        path=path,
        summary=(
            f"{count} {activity.description}{_window_phrase(activity.window)}, "
            f"needed {_COUNT_PHRASE[activity.count.op]} {activity.count.value}"
        ),
        next_change_at=next_change_at,
    )


for _activity_type in (EventCondition, PageViewCondition, DeviceCondition, MessageCondition):
    explain.register(_activity_type, _explain_activity)


def _group_key(value: Any) -> Any:
    """Group like MongoDB's $group: missing and null together, 1 with 1.0."""
    if value is MISSING or value is None:
        return None
    return float(value) if kind_of(value) == "number" else (kind_of(value), repr(value))


def count_activity(activity: ActivityCount, documents: list[dict], now: float) -> tuple[int, float | None]:
    """The person's count for the primitive (per group, the largest) and the
    next moment it could change with time alone."""
    change_times: list[float] = []
    counted: list[dict] = []
    for document in documents:
        values = [value_at(document, test.field) for test in activity.tests]
        for test, value in zip(activity.tests, values):
            change_times += predicate_change_times(test.predicate, value, now)
        if not all(predicate_holds(test.predicate, value, now) for test, value in zip(activity.tests, values)):
            continue
        if activity.window is None:
            counted.append(document)
            continue
        t = value_at(document, activity.time_field)
        if kind_of(t) != "number":
            continue
        change_times += window_change_times(activity.window, t)
        if activity.window.range_at(now).contains(t):
            counted.append(document)
    if activity.group_field is None:
        count = len(counted)
    else:
        per_group: dict[Any, int] = {}
        for document in counted:
            key = _group_key(value_at(document, activity.group_field))
            per_group[key] = per_group.get(key, 0) + 1
        count = max(per_group.values(), default=0)
    return count, _later(change_times, now)
