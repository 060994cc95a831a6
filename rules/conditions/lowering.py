"""Page views, devices, messages and events lower to one primitive: count
the documents of an activity collection that pass some field tests and fall
in a time window, optionally per distinct value of a field (sameUrl). The
compiler and the evaluator each implement only this primitive."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import singledispatch

from rules.store.collections import DELIVERIES, DEVICES, EVENTS
from rules.conditions.model import (
    Count,
    DeviceCondition,
    EventCondition,
    MessageCondition,
    Operator,
    PageViewCondition,
    Predicate,
    PropertyFilter,
    TimeWindow,
    UnsupportedCondition,
)


@dataclass(frozen=True, kw_only=True)
class FieldTest:
    field: str  # dotted path in the activity document
    predicate: Predicate


@dataclass(frozen=True, kw_only=True)
class ActivityCount:
    collection: str
    tests: tuple[FieldTest, ...]
    time_field: str
    window: TimeWindow | None
    count: Count = field(default_factory=Count)
    group_field: str | None = None  # count per distinct value; the person's count is the largest
    description: str  # what is counted, for explanations: "'purchase' events"


def _equals(document_field: str, value: str | None) -> tuple[FieldTest, ...]:
    if value is None:
        return ()
    return (FieldTest(field=document_field, predicate=Predicate(op=Operator.EQ, value=value)),)


def _filters(prefix: str, filters: tuple[PropertyFilter, ...]) -> tuple[FieldTest, ...]:
    return tuple(
        FieldTest(field=f"{prefix}.{f.path}", predicate=Predicate(op=f.op, value=f.value)) for f in filters
    )


def _with_filters(description: str, filters: tuple[PropertyFilter, ...]) -> str:
    if not filters:
        return description
    return f"{description} with {' and '.join(f'{f.path} {f.op} {f.value!r}' for f in filters)}"


@singledispatch
def lower(condition) -> ActivityCount:
    raise UnsupportedCondition(f"{type(condition).__name__} is not an activity condition")


@lower.register
def _(condition: EventCondition) -> ActivityCount:
    named = "events" if condition.name is None else f"{condition.name!r} events"
    return ActivityCount(
        collection=EVENTS,
        tests=_equals("type", "event") + _equals("name", condition.name) + _filters("data", condition.filters),
        time_field="ts",
        window=condition.window,
        count=condition.count,
        description=_with_filters(named, condition.filters),
    )


@lower.register
def _(condition: PageViewCondition) -> ActivityCount:
    url = condition.url
    url_tests = () if url is None else (FieldTest(field="name", predicate=Predicate(op=url.op, value=url.value)),)
    described = "page views" if url is None else f"page views of URLs {url.op} {url.value!r}"
    return ActivityCount(
        collection=EVENTS,
        tests=_equals("type", "page") + url_tests + _filters("data", condition.filters),
        time_field="ts",
        window=condition.window,
        count=condition.count,
        group_field="name" if condition.same_url else None,
        description=_with_filters(described + (" (on one URL)" if condition.same_url else ""), condition.filters),
    )


@lower.register
def _(condition: DeviceCondition) -> ActivityCount:
    described = "devices" if condition.platform is None else f"{condition.platform} devices"
    return ActivityCount(
        collection=DEVICES,
        tests=_equals("platform", condition.platform) + _filters("attributes", condition.filters),
        time_field="lastUsed",
        window=condition.last_used,
        description=_with_filters(described, condition.filters),
    )


@lower.register
def _(condition: MessageCondition) -> ActivityCount:
    metric_field = f"metrics.{condition.metric}"
    happened = (FieldTest(field=metric_field, predicate=Predicate(op=Operator.EXISTS)),)
    scope = [f"{k} {v!r}" for k, v in (("message", condition.message_id), ("campaign", condition.campaign_id), ("channel", condition.channel)) if v]
    return ActivityCount(
        collection=DELIVERIES,
        tests=happened
        + _equals("messageId", condition.message_id)
        + _equals("campaignId", condition.campaign_id)
        + _equals("channel", condition.channel),
        time_field=metric_field,
        window=condition.window,
        count=condition.count,
        description=f"messages {condition.metric}" + (f" ({', '.join(scope)})" if scope else ""),
    )
