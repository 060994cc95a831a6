"""A condition tree -> its canonical JSON form, the form segments store and
GraphQL returns: `parse_condition(condition_to_json(c)) == c`, defaults
left out, durations in the largest whole unit."""

from __future__ import annotations

from typing import Any

from rules.conditions.model import (
    All,
    AnyOf,
    AttributeCondition,
    Condition,
    Count,
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
)

DURATION_UNITS = {"days": 86_400, "hours": 3_600, "minutes": 60, "seconds": 1}


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
        out["value"] = duration_json(predicate.seconds)
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
            body: dict[str, Any] = {} if condition.name is None else {"name": condition.name}
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
    raise UnsupportedCondition(f"not a condition: {condition!r}")
