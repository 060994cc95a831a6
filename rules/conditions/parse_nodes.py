"""One parser per kind of condition node, found through `NODE_PARSERS` by
the node's JSON key (the `key` of its model class), and `condition`, which
picks the parser for one node and recurses through groups."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rules.conditions import parse_values as values
from rules.conditions.model import (
    All,
    AnyOf,
    AttributeCondition,
    DeviceCondition,
    ErrorCode,
    EventCondition,
    MessageCondition,
    Metric,
    Not,
    PageViewCondition,
    SegmentCondition,
    UrlMatch,
)
from rules.conditions.parse_checks import INVALID, Checks, all_valid, names, pointer

MAX_DEPTH = 32

NodeParser = Callable[[Checks, object, str, int], Any]


def condition(checks: Checks, data: object, path: str, depth: int) -> Any:
    """One condition node: an object with exactly one key naming its kind."""
    if depth > MAX_DEPTH:
        checks.error(ErrorCode.TOO_DEEP, path, f"conditions nest at most {MAX_DEPTH} levels deep")
        return INVALID
    body = checks.json_object(data, path, allowed=set(NODE_PARSERS))
    if body is None:
        return INVALID
    kinds = [key for key in body if key in NODE_PARSERS]
    if not kinds and body:
        return INVALID  # only unknown keys, already reported
    if len(kinds) != 1:
        code = ErrorCode.MISSING_KEY if not kinds else ErrorCode.AMBIGUOUS_NODE
        checks.error(code, path, f"a condition has exactly one of {names(NODE_PARSERS)}, got {len(kinds)}")
        return INVALID
    kind = kinds[0]
    node = NODE_PARSERS[kind](checks, body[kind], pointer(path, kind), depth)
    return INVALID if node is None else node


def _group(cls: type, checks: Checks, data: object, path: str, depth: int) -> Any:
    if not isinstance(data, list):
        checks.error(ErrorCode.INVALID_TYPE, path, f"expected a list of conditions, got {type(data).__name__}")
        return None
    if not data:
        checks.error(ErrorCode.EMPTY_GROUP, path, "a group needs at least one condition")
        return None
    children = [condition(checks, child, pointer(path, i), depth + 1) for i, child in enumerate(data)]
    return checks.build(cls, path, children=all_valid(children))


def all_of(checks: Checks, data: object, path: str, depth: int) -> Any:
    return _group(All, checks, data, path, depth)


def any_of(checks: Checks, data: object, path: str, depth: int) -> Any:
    return _group(AnyOf, checks, data, path, depth)


def not_(checks: Checks, data: object, path: str, depth: int) -> Any:
    return checks.build(Not, path, child=condition(checks, data, path, depth + 1))


def attribute(checks: Checks, data: object, path: str, depth: int) -> Any:
    return values.predicate(checks, AttributeCondition, data, path, with_path=True)


def event(checks: Checks, data: object, path: str, depth: int) -> Any:
    body = checks.json_object(data, path, allowed={"name", "filters", "count", "window"})
    if body is None:
        return None
    return checks.build(
        EventCondition,
        path,
        name=body.get("name"),
        filters=values.filters(checks, body.get("filters"), pointer(path, "filters")),
        count=values.count(checks, body.get("count"), pointer(path, "count")),
        window=values.window(checks, body.get("window"), pointer(path, "window")),
    )


def page_view(checks: Checks, data: object, path: str, depth: int) -> Any:
    body = checks.json_object(data, path, allowed={"url", "filters", "count", "window", "sameUrl"})
    if body is None:
        return None
    url = body.get("url")
    return checks.build(
        PageViewCondition,
        path,
        url=None if url is None else values.predicate(checks, UrlMatch, url, pointer(path, "url"), with_path=False),
        filters=values.filters(checks, body.get("filters"), pointer(path, "filters")),
        count=values.count(checks, body.get("count"), pointer(path, "count")),
        window=values.window(checks, body.get("window"), pointer(path, "window")),
        same_url=body.get("sameUrl", False),
    )


def device(checks: Checks, data: object, path: str, depth: int) -> Any:
    body = checks.json_object(data, path, allowed={"platform", "filters", "lastUsed"})
    if body is None:
        return None
    return checks.build(
        DeviceCondition,
        path,
        platform=body.get("platform"),
        filters=values.filters(checks, body.get("filters"), pointer(path, "filters")),
        last_used=values.window(checks, body.get("lastUsed"), pointer(path, "lastUsed")),
    )


def message(checks: Checks, data: object, path: str, depth: int) -> Any:
    body = checks.json_object(
        data,
        path,
        allowed={"metric", "messageId", "campaignId", "channel", "count", "window"},
        required={"metric"},
    )
    if body is None or "metric" not in body:
        return None
    return checks.build(
        MessageCondition,
        path,
        metric=checks.enum(Metric, body["metric"], pointer(path, "metric"), ErrorCode.INVALID_VALUE),
        message_id=body.get("messageId"),
        campaign_id=body.get("campaignId"),
        channel=body.get("channel"),
        count=values.count(checks, body.get("count"), pointer(path, "count")),
        window=values.window(checks, body.get("window"), pointer(path, "window")),
    )


def segment(checks: Checks, data: object, path: str, depth: int) -> Any:
    body = checks.json_object(data, path, allowed={"id", "member"}, required={"id"})
    if body is None or "id" not in body:
        return None
    node = checks.build(SegmentCondition, path, segment_id=body["id"], member=body.get("member", True))
    if node is not None:
        checks.segment_refs.append((node.segment_id, pointer(path, "id")))
    return node


# In this order in messages ("a condition has exactly one of all, any, not, ...").
NODE_PARSERS: dict[str, NodeParser] = {
    node.key: parser
    for node, parser in (
        (All, all_of),
        (AnyOf, any_of),
        (Not, not_),
        (AttributeCondition, attribute),
        (EventCondition, event),
        (PageViewCondition, page_view),
        (DeviceCondition, device),
        (MessageCondition, message),
        (SegmentCondition, segment),
    )
}
