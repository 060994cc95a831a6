"""Whether two stored or sent values are the same value, as MongoDB sees it.

Python's `==` is the wrong test for data: `False == 0.0`, `True == 1` and
`{"a": False} == {"a": 0}` all hold, so a write path that skips "unchanged"
values with `==` drops an update that changes only the type (issue 15).
MongoDB's rules, which conditions follow (docs/conditions.md):

- a boolean never equals a number (different BSON types);
- numbers compare by value across int, double and Int64: 1 == 1.0;
- arrays are equal element by element, in order;
- embedded documents are equal field by field, in order: MongoDB compares
  them field-order-sensitively, so `{"a": 1, "b": 2}` is not `{"b": 2, "a": 1}`
  (docs/decisions.md).

Every place that compares a stored value with a new one uses `same_value`.
"""

from __future__ import annotations

from typing import Any


def same_value(a: Any, b: Any) -> bool:
    """True when `a` and `b` are the same JSON/BSON value (see the module doc)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) or isinstance(b, (int, float)):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and a == b
    if isinstance(a, dict) or isinstance(b, dict):
        return (
            isinstance(a, dict)
            and isinstance(b, dict)
            and len(a) == len(b)
            and all(ka == kb and same_value(va, vb) for (ka, va), (kb, vb) in zip(a.items(), b.items()))
        )
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return (
            isinstance(a, (list, tuple))
            and isinstance(b, (list, tuple))
            and len(a) == len(b)
            and all(same_value(x, y) for x, y in zip(a, b))
        )
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    # null, dates, ObjectIds, ...: one type each, where `==` is exact.
    return type(a) is type(b) and a == b
