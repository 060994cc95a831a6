"""next_change_at: the condition keeps its value until that moment and, in
these cases, changes exactly then; both backends agree at each moment."""

import pytest

from rules.conditions.evaluate import evaluate, load_person_data
from rules.conditions.parse import parse_condition
from tests.spec.world import BACKENDS, DAY, HOUR, NOW, Person, event, store_world

WEEK_OF_PURCHASES = {"event": {"name": "purchase", "window": {"within": {"days": 7}}}}

CASES = [
    ("event leaves a relative window", WEEK_OF_PURCHASES, Person(key="p", events=(event("purchase", at=NOW - 2 * DAY),)), NOW + 5 * DAY),
    ("future-dated event enters a relative window", WEEK_OF_PURCHASES, Person(key="p", events=(event("purchase", at=NOW + 100),)), NOW + 100),
    ("count drops below the threshold", {"event": {"name": "purchase", "count": {"op": "atLeast", "value": 2}, "window": {"within": {"days": 7}}}},
     Person(key="p", events=(event("purchase", at=NOW - DAY), event("purchase", at=NOW - 3 * DAY))), NOW + 4 * DAY),
    ("negation follows its child", {"not": {"event": {"name": "purchase", "window": {"within": {"days": 1}}}}},
     Person(key="p", events=(event("purchase", at=NOW - HOUR),)), NOW + 23 * HOUR),
    ("absolute window admits a future-dated event", {"event": {"name": "purchase", "window": {"from": NOW - 10 * DAY}}},
     Person(key="p", events=(event("purchase", at=NOW + 50),)), NOW + 50),
    ("withinLast attribute expires", {"attribute": {"path": "last_login", "op": "withinLast", "value": {"days": 7}}},
     Person(key="p", attributes={"last_login": NOW - DAY}), NOW + 6 * DAY),
    ("moreThanAgo attribute starts to hold", {"attribute": {"path": "last_login", "op": "moreThanAgo", "value": {"days": 30}}},
     Person(key="p", attributes={"last_login": NOW - 29 * DAY}), NOW + DAY),
    ("earliest child of a group", {"all": [WEEK_OF_PURCHASES, {"attribute": {"path": "last_login", "op": "withinLast", "value": {"days": 3}}}]},
     Person(key="p", attributes={"last_login": NOW - DAY}, events=(event("purchase", at=NOW - HOUR),)), NOW + 2 * DAY),
    ("filter with a relative time", {"event": {"name": "trial", "filters": [{"path": "ends", "op": "moreThanAgo", "value": {"seconds": 60}}]}},
     Person(key="p", events=(event("trial", ends=NOW - 30),)), NOW + 30),
]


@pytest.mark.parametrize("data, person, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_truth_changes_exactly_at_next_change_at(db, data, person, expected):
    condition = parse_condition(data)
    ids = await store_world(db, "ws_time", [person])
    loaded = await load_person_data(db, "ws_time", ids["p"])
    now_value = evaluate(condition, loaded, now=NOW)
    assert now_value.next_change_at == expected
    assert evaluate(condition, loaded, now=expected - 1).holds is now_value.holds
    assert evaluate(condition, loaded, now=expected).holds is not now_value.holds
    for members in BACKENDS.values():
        for moment, holds in ((NOW, now_value.holds), (expected - 1, now_value.holds), (expected, not now_value.holds)):
            assert (await members(db, "ws_time", condition, ids, now=moment) == {"p"}) is holds, moment


@pytest.mark.parametrize(
    "data",
    [
        {"event": {"name": "purchase"}},
        {"attribute": {"path": "last_login", "op": "before", "value": NOW + DAY}},
        {"event": {"name": "purchase", "window": {"from": NOW - 10 * DAY, "to": NOW - DAY}}},
    ],
)
async def test_conditions_that_time_alone_cannot_change(db, data):
    person = Person(key="p", attributes={"last_login": NOW - DAY}, events=(event("purchase", at=NOW - 2 * DAY),))
    ids = await store_world(db, "ws_time", [person])
    loaded = await load_person_data(db, "ws_time", ids["p"])
    assert evaluate(parse_condition(data), loaded, now=NOW).next_change_at is None
