"""`ConditionInput`: the condition language (CONTRACT section 4) as a GraphQL
`@oneOf` input, and its conversion to the JSON form that `rules.conditions.parse`
validates. Operators, count operators and metrics are enums whose names are
the UPPER_SNAKE_CASE the parser also accepts; values are JSON.
"""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any

import strawberry
from strawberry.utils.str_converters import to_camel_case

from resolvers.scalars import JSON
from rules.conditions.model import CountOp, Metric, Operator

# GraphQL enums: aliases of the domain's enums (valid types for mypy), named by strawberry.enum.
ConditionOperator = Operator
strawberry.enum(Operator, name="ConditionOperator", description="attribute, filter and URL operators")
CountOperator = CountOp
strawberry.enum(CountOp, name="CountOperator")
MessageMetric = Metric
strawberry.enum(Metric, name="MessageMetric")


@strawberry.input(description='A duration, e.g. {days: 7}; the parts add up.')
class DurationInput:
    days: float | None = None
    hours: float | None = None
    minutes: float | None = None
    seconds: float | None = None


@strawberry.input(description="`within` (a sliding window ending now) or absolute `from`/`to` (Unix seconds).")
class TimeWindowInput:
    within: DurationInput | None = None
    from_: float | None = strawberry.field(name="from", default=None)
    to: float | None = None


@strawberry.input(
    description="A test on a value: a person attribute, an event property, a device attribute. "
    "`value` is JSON: a number, a string, a list for BETWEEN/IN, a duration object for WITHIN_LAST."
)
class PropertyConditionInput:
    path: str
    op: ConditionOperator
    value: JSON | None = None


@strawberry.input(description="A test on a page view's URL.")
class UrlConditionInput:
    op: ConditionOperator
    value: JSON | None = None


@strawberry.input(description="How many times; absent means at least 1.")
class CountInput:
    op: CountOperator
    value: int


@strawberry.input
class EventConditionInput:
    name: str | None = None
    filters: list[PropertyConditionInput] | None = None
    count: CountInput | None = None
    window: TimeWindowInput | None = None


@strawberry.input
class PageViewConditionInput:
    url: UrlConditionInput | None = None
    filters: list[PropertyConditionInput] | None = None
    count: CountInput | None = None
    window: TimeWindowInput | None = None
    same_url: bool | None = strawberry.field(default=None, description="The count must be reached on one URL.")


@strawberry.input
class DeviceConditionInput:
    platform: str | None = None
    filters: list[PropertyConditionInput] | None = None
    last_used: TimeWindowInput | None = None


@strawberry.input
class MessageConditionInput:
    metric: MessageMetric
    message_id: str | None = None
    campaign_id: str | None = None
    channel: str | None = None
    count: CountInput | None = None
    window: TimeWindowInput | None = None


@strawberry.input
class SegmentConditionInput:
    id: strawberry.ID
    member: bool | None = strawberry.field(default=None, description="false: people NOT in the segment.")


@strawberry.input(one_of=True, description="One node of a segment condition: exactly one field is set.")
class ConditionInput:
    all: list[ConditionInput] | None = strawberry.UNSET
    any: list[ConditionInput] | None = strawberry.UNSET
    not_: ConditionInput | None = strawberry.field(name="not", default=strawberry.UNSET)
    attribute: PropertyConditionInput | None = strawberry.UNSET
    event: EventConditionInput | None = strawberry.UNSET
    page_view: PageViewConditionInput | None = strawberry.UNSET
    device: DeviceConditionInput | None = strawberry.UNSET
    message: MessageConditionInput | None = strawberry.UNSET
    segment: SegmentConditionInput | None = strawberry.UNSET


def _json_name(field: Any) -> str:
    return field.graphql_name or to_camel_case(field.python_name)


def condition_input_to_json(value: Any) -> Any:
    """A GraphQL input (tree) -> the JSON form; unset and null fields are left out.

    Enum members become their JSON spelling (`startsWith`); everything else
    is validated by `rules.conditions.parse.parse_condition`.
    """
    if isinstance(value, list):
        return [condition_input_to_json(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    definition = getattr(value, "__strawberry_definition__", None)
    if definition is None or not dataclasses.is_dataclass(value):
        return value
    return {
        _json_name(field): condition_input_to_json(getattr(value, field.python_name))
        for field in definition.fields
        if getattr(value, field.python_name) not in (None, strawberry.UNSET)
    }
