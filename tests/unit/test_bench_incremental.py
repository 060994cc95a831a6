"""The 80 extra segments of `make bench-incremental` measure what they claim:
valid conditions, all distinct, none re-evaluated by an identify that changes
`lifetime_value`, while the segment the bench moves people through is."""

from __future__ import annotations

import json

from bench.incremental import LIFETIME_VALUE_CHANGED, more_segments
from bench.membership import HIGH_VALUE
from rules.conditions.dependencies import affected_by, dependencies
from rules.conditions.parse import parse_condition


def test_the_eighty_extra_segments_are_distinct_and_independent_of_the_changed_attribute() -> None:
    conditions = more_segments()
    assert len(conditions) == 80
    assert len({json.dumps(c, sort_keys=True) for c in conditions.values()}) == 80
    affected = [name for name, c in conditions.items() if affected_by(dependencies(parse_condition(c)), LIFETIME_VALUE_CHANGED)]
    assert affected == []
    assert affected_by(dependencies(parse_condition(HIGH_VALUE)), LIFETIME_VALUE_CHANGED)
