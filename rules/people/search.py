"""Searching a workspace's people: the attribute-equality match of GraphQL
`people` and the CSV exports, and Customer.io's App API filter grammar
(`POST /v1/customers`, `POST /v1/exports/customers`).

Customer.io's grammar, one key per node:
`{"and": [F, ...]}`, `{"or": [F, ...]}`, `{"not": F}`,
`{"segment": {"id": ...}}` (members of a segment),
`{"attribute": {"field": ..., "operator": "eq" | "exists", "value": ...}}`.
Fields `id`, `email` and `cio_id` are the person's identifiers (email
compared case-insensitively); any other field is an attribute (dots for
nested objects). Customer.io sends values as strings: `"30"` and `"true"`
also match the number 30 and the boolean true, and a number also matches
its text. Results are ordered by cio id, which is the paging cursor.

A filter is validated whole before it runs; a problem is a
PeopleSearchInvalid naming its path (`filter.and[1].attribute.operator`).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

from rules.store.collections import PEOPLE
from rules.membership.journal import member_ids
from rules.people.segment_members import segment_people
from rules.segments.records import find_segment
from rules.store.types import Database

# Attribute paths are dot-separated names; `$` would reach into operators.
ATTRIBUTE_PATH = re.compile(r"[^.$\s][^.$]*(\.[^.$\s][^.$]*)*")
MAX_FILTER_NODES = 100
OPERATORS = ("eq", "exists")


class PeopleSearchInvalid(ValueError):
    """A bad search; the message names the field."""


def attribute_equals(path: str, value: Any, *, where: str = "attribute.path") -> dict[str, Any]:
    """People whose attribute at `path` equals `value`, never across types (as MongoDB compares)."""
    if not ATTRIBUTE_PATH.fullmatch(path):
        raise PeopleSearchInvalid(f"{where}: expected dot-separated attribute names, got {path!r}")
    # Equality never matches across types (only range operators get a `$type` guard).
    return {f"attributes.{path}": {"$eq": value}}


def people_match(
    workspace_id: str,
    *,
    profile_id: str | None = None,
    email_contains: str | None = None,
    attribute: tuple[str, Any] | None = None,
) -> dict[str, Any]:
    """The people match of GraphQL `people` and `/exports/people.csv`."""
    match: dict[str, Any] = {"ws": workspace_id}
    if profile_id is not None:
        match["id"] = {"$eq": profile_id}
    if email_contains:
        match["emailLower"] = {"$regex": re.escape(email_contains.lower())}
    if attribute is not None:
        match.update(attribute_equals(*attribute))
    return match


# -- Customer.io's filter grammar ------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class All:
    children: tuple[PeopleFilter, ...]


@dataclass(frozen=True, kw_only=True)
class AnyOf:
    children: tuple[PeopleFilter, ...]


@dataclass(frozen=True, kw_only=True)
class Not:
    child: PeopleFilter


@dataclass(frozen=True, kw_only=True)
class InSegment:
    segment_id: str
    where: str


@dataclass(frozen=True, kw_only=True)
class AttributeIs:
    field: str
    operator: str  # eq | exists
    value: Any = None


PeopleFilter = All | AnyOf | Not | InSegment | AttributeIs


def _single_key(raw: Any, where: str) -> tuple[str, Any]:
    if not isinstance(raw, dict) or len(raw) != 1:
        raise PeopleSearchInvalid(f"{where}: must be an object with exactly one of and, or, not, segment, attribute")
    return next(iter(raw.items()))


def parse_filter(raw: Any, where: str = "filter") -> PeopleFilter:
    nodes = [0]

    def parse(raw: Any, where: str) -> PeopleFilter:
        nodes[0] += 1
        if nodes[0] > MAX_FILTER_NODES:
            raise PeopleSearchInvalid(f"{where}: a filter has at most {MAX_FILTER_NODES} conditions")
        key, value = _single_key(raw, where)
        match key:
            case "and" | "or":
                if not isinstance(value, list) or not value:
                    raise PeopleSearchInvalid(f"{where}.{key}: must be a non-empty array")
                children = tuple(parse(child, f"{where}.{key}[{i}]") for i, child in enumerate(value))
                return All(children=children) if key == "and" else AnyOf(children=children)
            case "not":
                return Not(child=parse(value, f"{where}.not"))
            case "segment":
                segment_id = value.get("id") if isinstance(value, dict) else None
                if isinstance(segment_id, int) and not isinstance(segment_id, bool):
                    segment_id = str(segment_id)
                if not isinstance(segment_id, str) or not segment_id:
                    raise PeopleSearchInvalid(f"{where}.segment.id: required, the id of a segment")
                return InSegment(segment_id=segment_id, where=f"{where}.segment.id")
            case "attribute":
                return _attribute(value, f"{where}.attribute")
        raise PeopleSearchInvalid(f"{where}: unknown key {key!r} (expected and, or, not, segment, attribute)")

    return parse(raw, where)


def _attribute(raw: Any, where: str) -> AttributeIs:
    if not isinstance(raw, dict):
        raise PeopleSearchInvalid(f"{where}: must be an object {{field, operator, value}}")
    field, operator = raw.get("field"), raw.get("operator")
    if not isinstance(field, str) or not ATTRIBUTE_PATH.fullmatch(field):
        raise PeopleSearchInvalid(f"{where}.field: expected an attribute name (dots for nested objects), got {field!r}")
    if operator not in OPERATORS:
        raise PeopleSearchInvalid(f"{where}.operator: must be eq or exists, got {operator!r}")
    if operator == "eq":
        if "value" not in raw or raw["value"] is None:
            raise PeopleSearchInvalid(f"{where}.value: required with operator eq")
        if isinstance(raw["value"], (dict, list)):
            raise PeopleSearchInvalid(f"{where}.value: must be a string, number or boolean")
    return AttributeIs(field=field, operator=operator, value=raw.get("value"))


def _same_values(value: Any) -> list[Any]:
    """`value` and what Customer.io treats as the same: "30" and 30, "true" and true."""
    values = [value]
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if isinstance(parsed, (bool, int, float)):
            values.append(parsed)
    elif isinstance(value, bool):
        values.append("true" if value else "false")
    else:
        values.append(str(value))
    return values


def _attribute_match(node: AttributeIs) -> dict[str, Any]:
    identifier_fields = {"id": "id", "email": "emailLower", "cio_id": "_id"}
    if node.field in identifier_fields:
        path = identifier_fields[node.field]
        if node.operator == "exists":
            return {path: {"$type": "string"}}
        value = str(node.value).lower() if node.field == "email" else str(node.value)
        return {path: {"$eq": value}}
    path = f"attributes.{node.field}"
    if node.operator == "exists":
        return {path: {"$exists": True, "$ne": None}}
    return {path: {"$in": _same_values(node.value)}}


def segment_ids(node: PeopleFilter) -> list[InSegment]:
    match node:
        case All() | AnyOf():
            return [s for child in node.children for s in segment_ids(child)]
        case Not():
            return segment_ids(node.child)
        case InSegment():
            return [node]
    return []


def _compile(node: PeopleFilter, members: dict[str, list[str]]) -> dict[str, Any]:
    match node:
        case All():
            return {"$and": [_compile(child, members) for child in node.children]}
        case AnyOf():
            return {"$or": [_compile(child, members) for child in node.children]}
        case Not():
            return {"$nor": [_compile(node.child, members)]}
        case InSegment():
            return {"_id": {"$in": members[node.segment_id]}}
        case AttributeIs():
            return _attribute_match(node)
    raise AssertionError(node)


@dataclass(frozen=True, kw_only=True)
class _Plan:
    # People are read through this segment's memberships, when the filter requires one.
    driver: str | None
    match: dict[str, Any]


async def _plan(db: Database, workspace_id: str, node: PeopleFilter) -> _Plan:
    for reference in segment_ids(node):
        if await find_segment(db, workspace_id, reference.segment_id) is None:
            raise PeopleSearchInvalid(f"{reference.where}: segment {reference.segment_id!r} does not exist in this workspace")
    # A required segment drives the search (its members in cio-id order); the rest filters them.
    required = node.children if isinstance(node, All) else (node,)
    driver = next((child.segment_id for child in required if isinstance(child, InSegment)), None)
    rest = [child for child in required if not (isinstance(child, InSegment) and child.segment_id == driver)]
    members = {
        reference.segment_id: sorted(await member_ids(db, workspace_id, reference.segment_id))
        for child in rest
        for reference in segment_ids(child)
    }
    match: dict[str, Any] = {"ws": workspace_id}
    if rest:
        match["$and"] = [_compile(child, members) for child in rest]
    return _Plan(driver=driver, match=match)


async def matching_people(db: Database, workspace_id: str, node: PeopleFilter, *, after: str | None = None) -> AsyncGenerator[dict[str, Any], None]:
    """People of the workspace matching the filter, in cio-id order, after the cio id `after`."""
    plan = await _plan(db, workspace_id, node)
    if plan.driver is not None:
        async for member in segment_people(db, workspace_id, plan.driver, match=plan.match, after=after):
            yield member.person
        return
    query = dict(plan.match)
    if after is not None:
        query["_id"] = {"$gt": after, "$type": "string"}
    async for person in db[PEOPLE].find(query).sort([("_id", 1)]):
        yield person
