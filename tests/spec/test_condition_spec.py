"""Golden cases, each run on the compiled pipelines and on the evaluator."""

import pytest

from rules.conditions.parse import parse_condition
from tests.spec.condition_cases import CASES, VALUES, attr
from tests.spec.world import BACKENDS, store_world


@pytest.mark.parametrize("backend", sorted(BACKENDS))
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_golden_case(db, case, backend):
    ids = await store_world(db, "ws_spec", list(case.people))
    condition = parse_condition(case.condition)
    assert await BACKENDS[backend](db, "ws_spec", condition, ids) == case.expected


def test_there_are_at_least_sixty_distinct_cases():
    assert len({c.name for c in CASES}) == len(CASES) >= 60


@pytest.mark.parametrize("backend", sorted(BACKENDS))
async def test_other_workspaces_are_invisible(db, backend):
    ids = await store_world(db, "ws_a", list(VALUES))
    await store_world(db, "ws_b", list(VALUES))
    condition = parse_condition(attr("lifetime_value", "gt", 25000))
    assert await BACKENDS[backend](db, "ws_a", condition, ids) == {"number", "float", "array"}


@pytest.mark.parametrize("backend", sorted(BACKENDS))
async def test_anonymous_events_never_count(db, backend):
    from tests.spec.world import Person, event

    ids = await store_world(db, "ws_anon", [Person(key="quiet")], anonymous_events=(event("purchase"),))
    bought = parse_condition({"event": {"name": "purchase"}})
    assert await BACKENDS[backend](db, "ws_anon", bought, ids) == set()


async def test_a_large_person_scope_gives_the_same_answer(db):
    from rules.conditions.compile import matching_person_ids
    from tests.spec.world import Person

    many = 64
    cast = [Person(key=f"p{i}", attributes={"n": i}) for i in range(many + 6)]
    ids = await store_world(db, "ws_many", cast)
    condition = parse_condition(attr("n", "gte", 3))
    for scope in (list(ids.values())[:5], list(ids.values())[: many + 2]):
        expected = {ids[f"p{i}"] for i in range(len(cast)) if i >= 3} & set(scope)
        assert await matching_person_ids(db, condition, workspace_id="ws_many", now=0.0, person_ids=scope) == expected
