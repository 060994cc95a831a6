"""JSON (or GraphQL input) -> condition tree, reporting every error at once.

Each error has a code, a JSON pointer into the input and a message. The
structural checks (JSON types, keys, operator names, durations) live in the
parser's modules: rules/conditions/parse_nodes.py (one parser per node
kind), parse_values.py (predicates, filters, counts, durations, windows)
and parse_checks.py (the errors and the checks they share); value
invariants live on the model nodes, whose `InvalidNode` is turned into an
error at the right pointer. Operator, count and metric names are accepted
as the JSON camelCase (`startsWith`) or GraphQL's UPPER_SNAKE_CASE
(`STARTS_WITH`). Keys whose value is null count as absent, so GraphQL input
objects can be passed through as they are. This module is the entry point:
the tree, then the references to other segments.
"""

from __future__ import annotations

from collections.abc import Mapping

from rules.conditions.dependencies import dependencies
from rules.conditions.model import Condition, ErrorCode
from rules.conditions.parse_checks import Checks, ConditionError, ConditionInvalid
from rules.conditions.parse_nodes import condition

__all__ = ["ConditionError", "ConditionInvalid", "ErrorCode", "parse_condition"]


def _reaches(start: str, target: str, segments: Mapping[str, Condition | None]) -> bool:
    """Whether following segment references from `start` arrives at `target`."""
    pending, seen = [start], set()
    while pending:
        current = pending.pop()
        if current == target:
            return True
        if current in seen:
            continue
        seen.add(current)
        condition = segments.get(current)
        if condition is not None:
            pending.extend(dependencies(condition).segment_ids)
    return False


def parse_condition(
    data: object,
    *,
    segments: Mapping[str, Condition | None] | None = None,
    self_id: str | None = None,
) -> Condition:
    """Validate and build a condition; raises ConditionInvalid listing every error.

    `segments` maps the workspace's segment ids to their conditions (None for
    manual segments); when given, references must point into it and must not
    lead back to `self_id`.
    """
    checks = Checks()
    parsed = condition(checks, data, "", 0)
    if segments is not None:
        for segment_id, path in checks.segment_refs:
            if segment_id not in segments and segment_id != self_id:
                checks.error(ErrorCode.MISSING_SEGMENT, path, f"segment {segment_id!r} does not exist in this workspace")
            elif self_id is not None and _reaches(segment_id, self_id, segments):
                checks.error(ErrorCode.SEGMENT_CYCLE, path, f"segment {segment_id!r} refers back to this segment")
    if checks.errors:
        raise ConditionInvalid(checks.errors)
    return parsed
