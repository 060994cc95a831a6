"""What a condition reads, so ingestion re-evaluates only the segments a
change can affect, and knows which ones change with time alone."""

from __future__ import annotations

from dataclasses import dataclass
from functools import singledispatch

from rules.conditions.model import (
    RELATIVE_TIME_OPERATORS,
    All,
    AnyOf,
    AttributeCondition,
    DeviceCondition,
    EventCondition,
    MessageCondition,
    Not,
    PageViewCondition,
    PropertyFilter,
    SegmentCondition,
    TimeWindow,
    UnsupportedCondition,
)

# Topics that can change every condition's outcome for a person.
TOPICS_AFFECTING_ALL = frozenset({"deleted", "merged", "created"})


@dataclass(frozen=True, kw_only=True)
class Dependencies:
    attributes: frozenset[str] = frozenset()  # top-level attribute keys
    event_names: frozenset[str] = frozenset()
    any_event: bool = False  # an event condition without a name
    page: bool = False
    device: bool = False
    message: bool = False
    segment_ids: frozenset[str] = frozenset()
    time_relative: bool = False  # truth can change with time alone

    def __or__(self, other: Dependencies) -> Dependencies:
        return Dependencies(
            attributes=self.attributes | other.attributes,
            event_names=self.event_names | other.event_names,
            any_event=self.any_event or other.any_event,
            page=self.page or other.page,
            device=self.device or other.device,
            message=self.message or other.message,
            segment_ids=self.segment_ids | other.segment_ids,
            time_relative=self.time_relative or other.time_relative,
        )


def _timed(window: TimeWindow | None, filters: tuple[PropertyFilter, ...] = ()) -> bool:
    # Every window ends at now, so even an absolute one admits future-dated activity as time passes.
    return window is not None or any(f.op in RELATIVE_TIME_OPERATORS for f in filters)


@singledispatch
def dependencies(condition) -> Dependencies:
    raise UnsupportedCondition(f"no dependencies rule for {type(condition).__name__}")


@dependencies.register
def _(condition: All) -> Dependencies:
    return _union(condition.children)


@dependencies.register
def _(condition: AnyOf) -> Dependencies:
    return _union(condition.children)


def _union(children) -> Dependencies:
    result = Dependencies()
    for child in children:
        result = result | dependencies(child)
    return result


@dependencies.register
def _(condition: Not) -> Dependencies:
    return dependencies(condition.child)


@dependencies.register
def _(condition: AttributeCondition) -> Dependencies:
    return Dependencies(
        attributes=frozenset({condition.path.split(".", 1)[0]}),
        time_relative=condition.op in RELATIVE_TIME_OPERATORS,
    )


@dependencies.register
def _(condition: EventCondition) -> Dependencies:
    return Dependencies(
        event_names=frozenset() if condition.name is None else frozenset({condition.name}),
        any_event=condition.name is None,
        time_relative=_timed(condition.window, condition.filters),
    )


@dependencies.register
def _(condition: PageViewCondition) -> Dependencies:
    url_timed = condition.url is not None and condition.url.op in RELATIVE_TIME_OPERATORS
    return Dependencies(page=True, time_relative=url_timed or _timed(condition.window, condition.filters))


@dependencies.register
def _(condition: DeviceCondition) -> Dependencies:
    return Dependencies(device=True, time_relative=_timed(condition.last_used, condition.filters))


@dependencies.register
def _(condition: MessageCondition) -> Dependencies:
    return Dependencies(message=True, time_relative=_timed(condition.window))


@dependencies.register
def _(condition: SegmentCondition) -> Dependencies:
    return Dependencies(segment_ids=frozenset({condition.segment_id}))


def affected_by(deps: Dependencies, topics: set[str]) -> bool:
    """Whether a person change described by `topics` (see api/services.py
    people_changed) can change a condition with these dependencies. Unknown
    topics count as affecting everything: never skip a re-evaluation by guess."""
    changed_keys = {t.split(":", 1)[1] for t in topics if t.startswith("attribute:")}
    for topic in topics:
        kind, _, name = topic.partition(":")
        if topic in TOPICS_AFFECTING_ALL:
            return True
        if kind == "attributes":
            # Without per-key topics any attribute may have changed.
            if deps.attributes and (not changed_keys or deps.attributes & changed_keys):
                return True
        elif kind == "attribute":
            if name in deps.attributes:
                return True
        elif kind == "event":
            if deps.any_event or name in deps.event_names:
                return True
        elif kind == "page":
            if deps.page:
                return True
        elif kind == "screen":
            continue  # event conditions match only events of type "event"
        elif kind == "device":
            if deps.device:
                return True
        elif kind == "message":
            if deps.message:
                return True
        else:
            return True
    return False
