"""What every part of the condition parser shares: the errors found so far,
and the checks that record one (an object's keys, an enum name, a model
node's own invariants).

A part that fails returns `INVALID` (or None where a node was expected);
its errors are already recorded, and the parts above it stop there instead
of reporting it again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from rules.conditions.model import ErrorCode, InvalidNode

E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True)
class ConditionError:
    code: ErrorCode
    path: str  # JSON pointer, e.g. "/all/1/event/count/value"
    message: str

    def as_json(self) -> dict[str, str]:
        return {"code": str(self.code), "path": self.path, "message": self.message}


class ConditionInvalid(Exception):
    def __init__(self, errors: list[ConditionError]) -> None:
        super().__init__("; ".join(f"{e.path or '/'}: {e.message}" for e in errors))
        self.errors = errors


class _Invalid:
    """Marks a part that failed to parse (its errors are already recorded)."""


INVALID: Any = _Invalid()


def pointer(path: str, key: str | int) -> str:
    return f"{path}/{str(key).replace('~', '~0').replace('/', '~1')}"


def names(listed: Any) -> str:
    spelled = [str(getattr(n, "value", n)) for n in listed]
    return ", ".join(sorted(spelled) if isinstance(listed, (set, frozenset)) else spelled)


def all_valid(parts: list[Any]) -> Any:
    return INVALID if any(part is INVALID or part is None for part in parts) else tuple(parts)


def _enum_member(enum: type[E], raw: str) -> E | None:
    """`startsWith` or `STARTS_WITH` -> Operator.STARTS_WITH."""
    if raw in enum._value2member_map_:
        return enum(raw)
    return enum.__members__.get(raw)


class Checks:
    """The errors of one parse, and the checks that add to them."""

    def __init__(self) -> None:
        self.errors: list[ConditionError] = []
        self.segment_refs: list[tuple[str, str]] = []  # (segment id, pointer)

    def error(self, code: ErrorCode, path: str, message: str) -> None:
        self.errors.append(ConditionError(code, path, message))

    def build(self, cls: Callable[..., Any], path: str, /, **fields: Any) -> Any:
        """Construct a node, or record its invariant failure and return None."""
        if any(value is INVALID for value in fields.values()):
            return None
        try:
            return cls(**fields)
        except InvalidNode as invalid:
            self.error(invalid.code, pointer(path, invalid.field) if invalid.field else path, invalid.message)
            return None

    def json_object(self, data: object, path: str, *, allowed: Set[str], required: Set[str] = frozenset()) -> dict | None:
        if not isinstance(data, Mapping):
            self.error(ErrorCode.INVALID_TYPE, path, f"expected an object, got {type(data).__name__}")
            return None
        present = {k: v for k, v in data.items() if v is not None}
        for key in present.keys() - allowed:
            self.error(ErrorCode.UNKNOWN_KEY, pointer(path, key), f"unknown key {key!r}; expected {names(allowed)}")
        for key in sorted(required - present.keys()):
            self.error(ErrorCode.MISSING_KEY, pointer(path, key), f"{key} is required")
        return present

    def enum(self, enum: type[E], raw: object, path: str, code: ErrorCode) -> Any:
        member = _enum_member(enum, raw) if isinstance(raw, str) else None
        if member is None:
            self.error(code, path, f"unknown {path.rsplit('/', 1)[-1]} {raw!r}; expected {names(enum)}")
            return INVALID
        return member
