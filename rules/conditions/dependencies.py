"""What a condition reads, so ingestion re-evaluates only the segments a
change can affect, and knows which ones change with time alone."""

from __future__ import annotations

from collections.abc import Callable, Collection
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
from rules.topics import TopicKind

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


_PER_KEY = f"{TopicKind.ATTRIBUTE}:"


def _attributes_affected(deps: Dependencies, topics: Collection[str]) -> bool:
    # `attributes` alone: any attribute may have changed; with per-key
    # `attribute:<key>` topics beside it, those say which (and are checked on their own).
    return bool(deps.attributes) and not any(t.startswith(_PER_KEY) for t in topics)


# kind -> whether a topic of that kind, named `name`, can change a condition with `deps`
_AFFECTS: dict[str, Callable[[Dependencies, str, Collection[str]], bool]] = {
    # every condition's outcome can change (no condition reads the suppressed flag yet: the safe side)
    TopicKind.CREATED: lambda deps, name, topics: True,
    TopicKind.DELETED: lambda deps, name, topics: True,
    TopicKind.MERGED: lambda deps, name, topics: True,
    TopicKind.SUPPRESSED: lambda deps, name, topics: True,
    TopicKind.ATTRIBUTES: lambda deps, name, topics: _attributes_affected(deps, topics),
    TopicKind.ATTRIBUTE: lambda deps, name, topics: name in deps.attributes,
    TopicKind.EVENT: lambda deps, name, topics: deps.any_event or name in deps.event_names,
    TopicKind.PAGE: lambda deps, name, topics: deps.page,
    # event conditions match only events of type "event"
    TopicKind.SCREEN: lambda deps, name, topics: False,
    TopicKind.DEVICE: lambda deps, name, topics: deps.device,
    TopicKind.MESSAGE: lambda deps, name, topics: deps.message,
}


def affected_by(deps: Dependencies, topics: Collection[str]) -> bool:
    """Whether a person change described by `topics` (rules/topics.py) can
    change a condition with these dependencies. Unknown topics count as
    affecting everything: never skip a re-evaluation by guess."""
    for topic in topics:
        kind, _, name = topic.partition(":")
        affects = _AFFECTS.get(kind)
        if affects is None or affects(deps, name, topics):
            return True
    return False
