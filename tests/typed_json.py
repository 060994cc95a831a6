"""Test oracle for JSON values that tells `false` from `0` and `true` from `1`.

Python's `==` does not (`False == 0.0`, `True == 1`), so tests compare
`typed(a) == typed(b)`: every value is tagged with its JSON kind, numbers as
floats (MongoDB compares 1, 1.0 and Int64(1) as the same number), objects
as ordered key/value lists (MongoDB compares embedded documents field by
field, in order). Written independently of rules/json_values.py on purpose.
"""

from __future__ import annotations

from typing import Any


def typed(value: Any) -> Any:
    if value is None:
        return ("null",)
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, (int, float)):
        return ("number", float(value))
    if isinstance(value, str):
        return ("string", value)
    if isinstance(value, (list, tuple)):
        return ("array", [typed(item) for item in value])
    if isinstance(value, dict):
        return ("object", [(key, typed(item)) for key, item in value.items()])
    raise TypeError(f"not a JSON value: {value!r}")
