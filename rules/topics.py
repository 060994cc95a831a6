"""What changed about a person: the signal from ingestion to the membership
engine. Ingestion (rules/ingest/handlers.py) produces topics for every person a
request touched; the engine re-evaluates only the segments whose
dependencies a topic touches (rules/conditions/dependencies.affected_by).

A topic is a string, `kind` or `kind:name`, so that sets of topics group,
compare and print plainly (listeners and tests see e.g. `{"created",
"event:purchase"}`); `Topic` gives it its own type, and this module is the
only place that spells one.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import NewType

Topic = NewType("Topic", str)


class TopicKind(StrEnum):
    CREATED = "created"
    DELETED = "deleted"
    MERGED = "merged"
    ATTRIBUTES = "attributes"  # some attributes changed; `attribute:<key>` topics say which
    ATTRIBUTE = "attribute"
    EVENT = "event"
    PAGE = "page"
    SCREEN = "screen"
    DEVICE = "device"
    MESSAGE = "message"
    SUPPRESSED = "suppressed"


CREATED = Topic(TopicKind.CREATED.value)
DELETED = Topic(TopicKind.DELETED.value)
MERGED = Topic(TopicKind.MERGED.value)
ATTRIBUTES = Topic(TopicKind.ATTRIBUTES.value)
PAGE = Topic(TopicKind.PAGE.value)
DEVICE = Topic(TopicKind.DEVICE.value)
MESSAGE = Topic(TopicKind.MESSAGE.value)
SUPPRESSED = Topic(TopicKind.SUPPRESSED.value)

def attribute(key: str) -> Topic:
    return Topic(f"{TopicKind.ATTRIBUTE}:{key}")


def activity(type: str, name: str) -> Topic:
    """The topic of a stored event of `type` event, page or screen."""
    kind = TopicKind(type)
    return PAGE if kind is TopicKind.PAGE else Topic(f"{kind}:{name}")


def removes_person(topics: Iterable[str]) -> bool:
    """The person was deleted or merged into another: their memberships go
    even when no segment's condition depends on what changed."""
    return any(topic in (DELETED, MERGED) for topic in topics)
