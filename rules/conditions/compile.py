"""Condition -> aggregation pipelines that select the matching people of one
workspace, for bulk work (segment builds, previews, periodic re-checks).

A condition compiles to a plan: leaves are pipelines yielding person ids
(`people` for attributes; `$match` on an activity collection then `$group`
by person; `memberships` for segment references), combined by set algebra
over the workspace's people (the universe). `not`, `atMost n` and
`exactly 0` are complements, so people with no activity at all are
included. Range operators are guarded with `$type`, so that a bound never
meets a value of another type whatever the engine's type bracketing, and
scalar vs. array values are separated so that a guard and a bound are met
by the same element.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import singledispatch
from typing import Any

from rules.store.collections import MEMBERSHIPS, PEOPLE
from rules.conditions.lowering import ActivityCount, lower
from rules.conditions.model import (
    NEGATED,
    ORDER_OPERATORS,
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
    TimeRange,
    UnsupportedCondition,
    kind_of,
    time_range_of,
)
from rules.store.types import Database

# ---------------------------------------------------------------- plans


@dataclass(frozen=True, kw_only=True)
class Everyone:
    """Every person of the workspace (within the optional person scope)."""


@dataclass(frozen=True, kw_only=True)
class PeopleQuery:
    """An aggregation whose result documents' `_id`s are person ids."""

    collection: str
    pipeline: list[dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class Intersection:
    parts: tuple[Plan, ...]


@dataclass(frozen=True, kw_only=True)
class Union:
    parts: tuple[Plan, ...]


@dataclass(frozen=True, kw_only=True)
class Complement:
    part: Plan


Plan = Everyone | PeopleQuery | Intersection | Union | Complement


@dataclass(frozen=True, kw_only=True)
class Scope:
    workspace_id: str
    now: float
    person_ids: tuple[str, ...] | None = None

    def person_filter(self) -> dict[str, Any]:
        # Anonymous activity (personId null) never counts.
        return {"$type": "string"} if self.person_ids is None else {"$in": list(self.person_ids)}


# ---------------------------------------------------------------- predicates


def _date(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


def _bounds(time_range: TimeRange, convert=lambda t: t) -> dict[str, Any]:
    bounds = {}
    if time_range.low is not None:
        bounds["$gte" if time_range.low_inclusive else "$gt"] = convert(time_range.low)
    if time_range.high is not None:
        bounds["$lte" if time_range.high_inclusive else "$lt"] = convert(time_range.high)
    return bounds


def _typed_range(field: str, bounds: dict[str, Any], bson_type: str) -> list[dict[str, Any]]:
    """A scalar of `bson_type` within bounds, or an array with such an element.

    On an array, `{f: {$gt: x, $type: t}}` may be met by two different
    elements, so arrays go through `$elemMatch` and scalars exclude arrays."""
    return [
        {field: {**bounds, "$type": bson_type, "$not": {"$type": "array"}}},
        {field: {"$elemMatch": {**bounds, "$type": bson_type}}},
    ]


_ORDER_BOUND = {Operator.GT: "$gt", Operator.GTE: "$gte", Operator.LT: "$lt", Operator.LTE: "$lte"}
# kind_of(operand) -> $type; predicates order only numbers and strings (other kinds are refused when made).
_BSON_TYPE: dict[str | None, str] = {"number": "number", "string": "string"}


def predicate_query(field: str, predicate: Predicate, now: float) -> dict[str, Any]:
    """A MongoDB query document selecting documents whose `field` satisfies `predicate`."""
    op, value = predicate.op, predicate.value
    if op in NEGATED:
        return {"$nor": [predicate_query(field, Predicate(op=NEGATED[op], value=value), now)]}
    match op:
        case Operator.EQ:
            return {field: {"$eq": value}}
        case Operator.IN:
            return {field: {"$in": list(predicate.options)}}
        case Operator.EXISTS:
            return {field: {"$ne": None}}
        case Operator.CONTAINS:
            membership = {field: {"$elemMatch": {"$eq": value}}}
            if not isinstance(value, str):
                return membership
            substring = {field: {"$regex": re.escape(value), "$not": {"$type": "array"}}}
            return {"$or": [substring, membership]}
        case Operator.STARTS_WITH:
            return {field: {"$regex": "^" + re.escape(predicate.text)}}
        case Operator.ENDS_WITH:
            # Not `$`: it also matches before a final newline, in PCRE and Python alike.
            return {field: {"$regex": re.escape(predicate.text) + r"(?![\s\S])"}}
        case Operator.MATCHES:
            return {field: {"$regex": value}}
        case Operator.BETWEEN:
            low, high = predicate.options
            return {"$or": _typed_range(field, {"$gte": low, "$lte": high}, _BSON_TYPE[kind_of(low)])}
    if op in ORDER_OPERATORS:
        return {"$or": _typed_range(field, {_ORDER_BOUND[op]: value}, _BSON_TYPE[kind_of(value)])}
    time_range = time_range_of(predicate, now)
    if time_range is None:
        raise UnsupportedCondition(f"no query for operator {op}")
    # Timestamps are Unix seconds or stored dates.
    return {
        "$or": _typed_range(field, _bounds(time_range), "number")
        + _typed_range(field, _bounds(time_range, _date), "date")
    }


# ---------------------------------------------------------------- nodes


@singledispatch
def compile_node(condition, scope: Scope) -> Plan:
    raise UnsupportedCondition(f"the compiler has no rule for {type(condition).__name__}")


@compile_node.register
def _(condition: All, scope: Scope) -> Plan:
    return Intersection(parts=tuple(compile_node(child, scope) for child in condition.children))


@compile_node.register
def _(condition: AnyOf, scope: Scope) -> Plan:
    return Union(parts=tuple(compile_node(child, scope) for child in condition.children))


@compile_node.register
def _(condition: Not, scope: Scope) -> Plan:
    return Complement(part=compile_node(condition.child, scope))


@compile_node.register
def _(condition: AttributeCondition, scope: Scope) -> Plan:
    match: dict[str, Any] = {"ws": scope.workspace_id}
    if scope.person_ids is not None:
        match["_id"] = {"$in": list(scope.person_ids)}
    match["$and"] = [predicate_query(f"attributes.{condition.path}", condition, scope.now)]
    return PeopleQuery(collection=PEOPLE, pipeline=[{"$match": match}, {"$project": {"_id": 1}}])


@compile_node.register
def _(condition: SegmentCondition, scope: Scope) -> Plan:
    match = {"ws": scope.workspace_id, "segmentId": condition.segment_id, "personId": scope.person_filter()}
    members = PeopleQuery(collection=MEMBERSHIPS, pipeline=[{"$match": match}, {"$group": {"_id": "$personId"}}])
    return members if condition.member else Complement(part=members)


def _activity_plan(condition: EventCondition | PageViewCondition | DeviceCondition | MessageCondition, scope: Scope) -> Plan:
    return compile_activity(lower(condition), scope)


for _activity_type in (EventCondition, PageViewCondition, DeviceCondition, MessageCondition):
    compile_node.register(_activity_type, _activity_plan)


def compile_activity(activity: ActivityCount, scope: Scope) -> Plan:
    count = activity.count
    match count.op, count.value:
        case CountOp.AT_LEAST, 0:
            return Everyone()
        case CountOp.AT_LEAST, n:
            return _people_with_count(activity, scope, {"$gte": n})
        case CountOp.AT_MOST, n:
            return Complement(part=_people_with_count(activity, scope, {"$gte": n + 1}))
        case CountOp.EXACTLY, 0:
            return Complement(part=_people_with_count(activity, scope, {"$gte": 1}))
        case CountOp.EXACTLY, n:
            return _people_with_count(activity, scope, {"$eq": n})
    raise UnsupportedCondition(f"no rule for count {count}")


def _people_with_count(activity: ActivityCount, scope: Scope, having: dict[str, int]) -> PeopleQuery:
    """People whose number of matching documents (per group, the largest) satisfies `having`."""
    match: dict[str, Any] = {"ws": scope.workspace_id, "personId": scope.person_filter()}
    tests = [predicate_query(test.field, test.predicate, scope.now) for test in activity.tests]
    if activity.window is not None:
        time_range = activity.window.range_at(scope.now)
        tests.append({activity.time_field: {**_bounds(time_range), "$type": "number"}})
    if tests:
        match["$and"] = tests
    pipeline: list[dict[str, Any]] = [{"$match": match}]
    if activity.group_field is None:
        pipeline.append({"$group": {"_id": "$personId", "n": {"$sum": 1}}})
    else:
        pipeline += [
            {"$group": {"_id": {"p": "$personId", "g": f"${activity.group_field}"}, "n": {"$sum": 1}}},
            {"$group": {"_id": "$_id.p", "n": {"$max": "$n"}}},
        ]
    pipeline.append({"$match": {"n": having}})
    return PeopleQuery(collection=activity.collection, pipeline=pipeline)


def compile_pipelines(
    condition: Condition,
    *,
    workspace_id: str,
    now: float,
    person_ids: Collection[str] | None = None,
) -> Plan:
    scope = Scope(workspace_id=workspace_id, now=now, person_ids=None if person_ids is None else tuple(person_ids))
    return compile_node(condition, scope)


# ---------------------------------------------------------------- running


async def _people_of(db: Database, workspace_id: str, person_ids: Collection[str] | None) -> set[str]:
    query: dict[str, Any] = {"ws": workspace_id}
    if person_ids is not None:
        query["_id"] = {"$in": list(person_ids)}
    return {doc["_id"] async for doc in db[PEOPLE].find(query, {"_id": 1})}


async def run_plan(db: Database, plan: Plan, universe: set[str]) -> set[str]:
    """The people of `universe` selected by `plan`."""
    match plan:
        case Everyone():
            return set(universe)
        case PeopleQuery(collection=collection, pipeline=pipeline):
            cursor = await db[collection].aggregate(pipeline)
            return {doc["_id"] async for doc in cursor} & universe
        case Intersection(parts=parts):
            selected = set(universe)
            for part in parts:
                if not selected:
                    break
                selected &= await run_plan(db, part, selected)
            return selected
        case Union(parts=parts):
            selected = set()
            for part in parts:
                selected |= await run_plan(db, part, universe)
            return selected
        case Complement(part=part):
            return universe - await run_plan(db, part, universe)
    raise UnsupportedCondition(f"no rule to run {plan!r}")


async def matching_person_ids(
    db: Database,
    condition: Condition,
    *,
    workspace_id: str,
    now: float,
    person_ids: Collection[str] | None = None,
) -> set[str]:
    """The exact set of people of the workspace (or of `person_ids`) who match."""
    universe = await _people_of(db, workspace_id, person_ids)
    if not universe:
        return set()
    plan = compile_pipelines(condition, workspace_id=workspace_id, now=now, person_ids=person_ids)
    return await run_plan(db, plan, universe)

