"""Scalars shared by every domain package.

`JSON` carries free-form values (attributes, event data, condition values).
Times are stored as Unix seconds (docs/data-model.md) and leave GraphQL as
Strawberry's ISO-8601 `DateTime`; `datetime_from_stored` is the one place
that converts them.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import overload

from strawberry.scalars import JSON

__all__ = ["JSON", "datetime_from_stored", "seconds_from_input"]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@overload
def datetime_from_stored(value: float | datetime) -> datetime: ...
@overload
def datetime_from_stored(value: float | datetime | None) -> datetime | None: ...
def datetime_from_stored(value: float | datetime | None) -> datetime | None:
    """A stored time (Unix seconds, or a naive UTC datetime from the store) as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, datetime):
        # The store hands back naive datetimes (`tz_aware=False`); they are UTC.
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.fromtimestamp(value, tz=timezone.utc)


def seconds_from_input(value: datetime) -> float:
    """A `DateTime` argument as Unix seconds; a time without offset is UTC.

    Subtraction instead of `datetime.timestamp()`, which converts through the
    local time zone and fails for the years 1 and 9999 at the range's ends."""
    aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return (aware - _EPOCH).total_seconds()
