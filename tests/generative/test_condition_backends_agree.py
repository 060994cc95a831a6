"""Random valid condition trees (depth <= 4) over random people and activity:
the compiled pipelines on the store select exactly the people the reference
evaluator accepts. SEGMENTS_HYPOTHESIS_PROFILE=deep runs thousands."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from rules.conditions.compile import matching_person_ids
from rules.conditions.evaluate import evaluate
from rules.conditions.parse import parse_condition
from tests.spec.world import (
    DAY,
    HOUR,
    NOW,
    Person,
    members_by_evaluator,
    members_by_pipelines,
    person_data,
    store_world,
)

settings.register_profile(
    "conditions",
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile("conditions-deep", settings.get_profile("conditions"), max_examples=2_000)
PROFILE = settings.get_profile(
    "conditions-deep" if os.environ.get("SEGMENTS_HYPOTHESIS_PROFILE") == "deep" else "conditions"
)

# Few distinct values so that conditions and data collide often, edges included.
OFFSETS = (0, 1, -1, -HOUR, -DAY, -DAY + 1, -7 * DAY, -7 * DAY + 1, -7 * DAY - 1, -30 * DAY, DAY)
DURATIONS = ({"hours": 1}, {"days": 1}, {"days": 7}, {"seconds": 1}, {"days": 30})
times = st.sampled_from(OFFSETS).map(lambda offset: NOW + offset)
dates = times.map(lambda t: datetime.fromtimestamp(t, UTC).replace(tzinfo=None))
numbers = st.sampled_from((0, 1, 2, 2.5, -1, 100))
strings = st.sampled_from(("", "a", "b", "ab", "ba", "a\n", "/p/1", "/p/2"))
scalars = st.one_of(numbers, strings, st.booleans())
stored_scalars = st.one_of(scalars, st.none(), times, dates)
stored_values = st.one_of(stored_scalars, st.lists(stored_scalars, max_size=3))
attribute_values = st.one_of(stored_values, st.fixed_dictionaries({}, optional={"d": stored_values}))

ATTRIBUTE_KEYS = ("a", "b", "c")
ATTRIBUTE_PATHS = ("a", "b", "c", "c.d")
DATA_PATHS = ("amount", "tag")
REGEXES = ("^a", "b$", "a.b", "[ab]+", "^$", "^/p/")


def operands(op: str):
    match op:
        case "eq" | "ne" | "contains" | "notContains":
            return scalars
        case "gt" | "gte" | "lt" | "lte":
            return st.one_of(numbers, strings)
        case "between":
            return st.one_of(st.lists(numbers, min_size=2, max_size=2), st.lists(strings, min_size=2, max_size=2)).map(sorted)
        case "in" | "notIn":
            return st.lists(scalars, min_size=1, max_size=3)
        case "exists" | "notExists":
            return st.none()
        case "startsWith" | "endsWith":
            return strings
        case "matches":
            return st.sampled_from(REGEXES)
        case "before" | "after":
            return times
        case _:
            return st.sampled_from(DURATIONS)


OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "between", "in", "notIn", "exists", "notExists", "contains",
             "notContains", "startsWith", "endsWith", "matches", "before", "after", "withinLast", "moreThanAgo")


@st.composite
def predicates(draw, paths: tuple[str, ...] | None) -> dict:
    op = draw(st.sampled_from(OPERATORS))
    body = {"op": op}
    if paths is not None:
        body["path"] = draw(st.sampled_from(paths))
    value = draw(operands(op))
    if value is not None:
        body["value"] = value
    return body


counts = st.fixed_dictionaries({"op": st.sampled_from(("atLeast", "atMost", "exactly")), "value": st.integers(0, 3)})
windows = st.one_of(
    st.fixed_dictionaries({"within": st.sampled_from(DURATIONS)}),
    st.lists(times, min_size=2, max_size=2, unique=True).map(sorted).map(lambda pair: {"from": pair[0], "to": pair[1]}),
    times.map(lambda t: {"from": t}),
    times.map(lambda t: {"to": t}),
)
filters = st.lists(predicates(DATA_PATHS), max_size=2)


def optional(**parts) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({}, optional=parts)


leaves = st.one_of(
    predicates(ATTRIBUTE_PATHS).map(lambda p: {"attribute": p}),
    optional(name=st.sampled_from(("purchase", "signup")), filters=filters, count=counts, window=windows).map(
        lambda body: {"event": body}
    ),
    optional(url=predicates(None), filters=filters, count=counts, window=windows, sameUrl=st.booleans()).map(
        lambda body: {"pageView": body}
    ),
    optional(platform=st.sampled_from(("ios", "android")), filters=st.lists(predicates(DATA_PATHS), max_size=1),
             lastUsed=windows).map(lambda body: {"device": body}),
    st.builds(
        lambda metric, rest: {"message": {"metric": metric, **rest}},
        st.sampled_from(("sent", "opened", "clicked")),
        optional(messageId=st.sampled_from(("m1", "m2")), channel=st.sampled_from(("email", "push")), count=counts,
                 window=windows),
    ),
    st.builds(lambda sid, member: {"segment": {"id": sid, "member": member}}, st.sampled_from(("seg_1", "seg_2")), st.booleans()),
)


def conditions(depth: int) -> st.SearchStrategy[dict]:
    if depth == 0:
        return leaves
    smaller = conditions(depth - 1)
    return st.one_of(
        leaves,
        st.lists(smaller, min_size=1, max_size=3).map(lambda children: {"all": children}),
        st.lists(smaller, min_size=1, max_size=3).map(lambda children: {"any": children}),
        smaller.map(lambda child: {"not": child}),
    )


data_dicts = optional(amount=stored_values, tag=stored_values)
activities = st.builds(
    lambda kind, name, data, ts: {"type": kind, "name": name, "data": data, "ts": ts},
    st.sampled_from(("event", "page", "screen")),
    st.sampled_from(("purchase", "signup", "/p/1", "/p/2")),
    data_dicts,
    times,
)
devices = st.builds(
    lambda platform, rest, attributes: {"platform": platform, **rest, "attributes": attributes},
    st.sampled_from(("ios", "android")),
    optional(lastUsed=times),
    data_dicts,
)
deliveries = st.builds(
    lambda message_id, channel, metrics: {"messageId": message_id, "campaignId": None, "channel": channel, "metrics": metrics},
    st.sampled_from(("m1", "m2", None)),
    st.sampled_from(("email", "push")),
    optional(sent=times, opened=times, clicked=times),
)
people = st.lists(
    st.builds(
        lambda attributes, events, person_devices, person_deliveries, segments: Person(
            key="", attributes=attributes, events=tuple(events), devices=tuple(person_devices),
            deliveries=tuple(person_deliveries), segments=tuple(segments)
        ),
        st.dictionaries(st.sampled_from(ATTRIBUTE_KEYS), attribute_values, max_size=3),
        st.lists(activities, max_size=5),
        st.lists(devices, max_size=2),
        st.lists(deliveries, max_size=2),
        st.lists(st.sampled_from(("seg_1", "seg_2")), max_size=2, unique=True),
    ),
    min_size=1,
    max_size=4,
).map(lambda found: [Person(**{**p.__dict__, "key": f"p{i}"}) for i, p in enumerate(found)])


@PROFILE
@given(condition_json=conditions(4), cast=people)
async def test_pipelines_select_exactly_whom_the_evaluator_accepts(db, condition_json, cast):
    workspace_id = f"ws_{uuid.uuid4().hex[:12]}"  # one store per test: examples stay apart by workspace
    ids = await store_world(db, workspace_id, cast)
    condition = parse_condition(condition_json)
    expected = await members_by_evaluator(db, workspace_id, condition, ids)
    event("matched " + ("nobody" if not expected else "everybody" if len(expected) == len(ids) else "some"))
    assert await members_by_pipelines(db, workspace_id, condition, ids) == expected
    # Restricting the universe to some people gives the same answer for them.
    some = [ids["p0"]]
    restricted = await matching_person_ids(db, condition, workspace_id=workspace_id, now=NOW, person_ids=some)
    assert restricted == ({ids["p0"]} if "p0" in expected else set())


CHECK_TIMES = sorted(
    {NOW + offset + duration + nudge for offset in OFFSETS for duration in (0, HOUR, DAY, 7 * DAY, 30 * DAY, 1) for nudge in (-1, 0, 1)}
)


@PROFILE
@given(condition_json=conditions(3), person=people.map(lambda cast: cast[0]))
def test_truth_holds_until_next_change_at(condition_json, person):
    """next_change_at is never late: before it, the truth is what it was at now."""
    condition = parse_condition(condition_json)
    data = person_data(person)
    at_now = evaluate(condition, data, now=NOW)
    until = at_now.next_change_at if at_now.next_change_at is not None else float("inf")
    for moment in CHECK_TIMES:
        if NOW < moment < until:
            assert evaluate(condition, data, now=moment).holds is at_now.holds, moment
