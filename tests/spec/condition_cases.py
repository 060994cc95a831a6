"""Golden cases: a condition, a small cast of people, and who must match.

Each case runs on every backend (tests/spec/test_condition_spec.py). The
casts are shared by theme so each case reads as one line of intent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from bson import Int64

from tests.spec.world import DAY, HOUR, NOW, Person, delivery, device, event, page


@dataclass(frozen=True, kw_only=True)
class Case:
    name: str
    condition: dict
    people: tuple[Person, ...]
    expected: frozenset[str]


def naive_utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


# Values of one attribute across kinds, as the store can hold them.
VALUES = (
    Person(key="number", attributes={"lifetime_value": 30000}),
    Person(key="float", attributes={"lifetime_value": 30000.0}),
    Person(key="string", attributes={"lifetime_value": "30000"}),
    Person(key="low", attributes={"lifetime_value": 100}),
    Person(key="array", attributes={"lifetime_value": [100, 40000]}),
    Person(key="bool", attributes={"lifetime_value": True}),
    Person(key="null", attributes={"lifetime_value": None}),
    Person(key="missing", attributes={}),
)
TEXT = (
    Person(key="ada", attributes={"name": "Ada Lovelace", "tags": ["vip", "beta"], "email": "ada@example.com", "plan": "pro"}),
    Person(key="bob", attributes={"name": "Bob", "tags": ["vipx"], "email": "bob@example.com\n", "plan": "basic"}),
    Person(key="cy", attributes={"name": 42, "tags": "vip list", "email": ["c@other.org", "cy@example.com"], "plan": 5}),
    Person(key="dee", attributes={}),
)
NESTED = (
    Person(key="paris", attributes={"address": {"city": "Paris", "zip": "75001"}}),
    Person(key="rome", attributes={"address": {"city": "Rome"}}),
    Person(key="flat", attributes={"address": "Paris"}),
    Person(key="none", attributes={}),
)
TIMES = (
    Person(key="recent", attributes={"last_login": NOW - 2 * DAY}),
    Person(key="edge7", attributes={"last_login": NOW - 7 * DAY}),
    Person(key="inside7", attributes={"last_login": NOW - 7 * DAY + 1}),
    Person(key="old", attributes={"last_login": NOW - 40 * DAY}),
    Person(key="edge30", attributes={"last_login": NOW - 30 * DAY}),
    Person(key="future", attributes={"last_login": NOW + DAY}),
    Person(key="date", attributes={"last_login": naive_utc(NOW - 3 * DAY)}),
    Person(key="text", attributes={"last_login": "2025-12-30"}),
    Person(key="never", attributes={}),
)
PURCHASES = (
    Person(key="none", events=(event("signup"),)),
    Person(key="one", events=(event("purchase", amount=50),)),
    Person(key="two", events=(event("purchase", amount=50), event("purchase", amount=500, at=NOW - 10 * DAY))),
    Person(key="three", events=tuple(event("purchase", amount=150, at=NOW - i * DAY) for i in range(1, 4))),
    Person(key="quiet"),
)
EDGES = (  # window boundaries: within 7 days is (now - 7d, now]
    Person(key="at_edge", events=(event("purchase", at=NOW - 7 * DAY),)),
    Person(key="inside", events=(event("purchase", at=NOW - 7 * DAY + 1),)),
    Person(key="at_now", events=(event("purchase", at=NOW),)),
    Person(key="future", events=(event("purchase", at=NOW + 1),)),
)
ABSOLUTE = (  # absolute windows are [from, to)
    Person(key="at_from", events=(event("purchase", at=NOW - 10 * DAY),)),
    Person(key="before_from", events=(event("purchase", at=NOW - 10 * DAY - 1),)),
    Person(key="at_to", events=(event("purchase", at=NOW - 5 * DAY),)),
    Person(key="before_to", events=(event("purchase", at=NOW - 5 * DAY - 1),)),
)
FILTERED = (
    Person(key="big", events=(event("purchase", amount=500, item={"sku": "A1"}),)),
    Person(key="small", events=(event("purchase", amount=20, item={"sku": "B2"}, coupon="X"),)),
    Person(key="text_amount", events=(event("purchase", amount="500"),)),
    Person(key="no_data", events=(event("purchase"),)),
)
PAGES = (
    Person(key="fan", events=tuple(page("/offers/gold", at=NOW - i * DAY) for i in range(5))),
    Person(key="spread", events=tuple(page(f"/offers/{u}", at=NOW - HOUR) for u in ("a", "a", "a", "b", "b"))),
    Person(key="buyer", events=tuple(page("/offers/gold", at=NOW - i * HOUR) for i in range(5)) + (event("purchase"),)),
    Person(key="stale", events=tuple(page("/offers/gold", at=NOW - (6 + i) * DAY) for i in range(5))),
    Person(key="blog", events=(page("/blog/post", referrer="google"), event("/offers/gold"))),
    Person(key="nobody"),
)
DEVICES = (
    Person(key="iphone", devices=(device("ios", app_version="2.1.0"),)),
    Person(key="old_iphone", devices=(device("ios", last_used=NOW - 60 * DAY, app_version="1.9"),)),
    Person(key="android", devices=(device("android", app_version="2.0.1"),)),
    Person(key="both", devices=(device("android", last_used=NOW - 90 * DAY), device("ios", last_used=NOW - DAY))),
    Person(key="none"),
)
MESSAGES = (
    Person(key="opener", deliveries=(delivery(message_id="m1", campaign_id="c1", sent=NOW - 2 * DAY, delivered=NOW - 2 * DAY, opened=NOW - DAY),)),
    Person(key="clicker", deliveries=(
        delivery(message_id="m2", campaign_id="c2", sent=NOW - DAY, opened=NOW - DAY, clicked=NOW - HOUR),
        delivery(message_id="m1", campaign_id="c1", channel="push", sent=NOW - 20 * DAY, opened=NOW - 20 * DAY),
    )),
    Person(key="ignorer", deliveries=(delivery(message_id="m1", campaign_id="c1", sent=NOW - DAY, delivered=NOW - DAY),)),
    Person(key="bounced", deliveries=(delivery(message_id="m1", sent=NOW - DAY, bounced=NOW - DAY),)),
    Person(key="none"),
)
SEGMENTED = (
    Person(key="vip", segments=("seg_vip",)),
    Person(key="both", segments=("seg_vip", "seg_churn")),
    Person(key="churn", segments=("seg_churn",)),
    Person(key="none"),
)
MIXED = (
    Person(key="z1", attributes={"score": ["z", 1], "flags": [True], "seen": naive_utc(NOW - DAY)}),
    Person(key="wide", attributes={"score": [1, 100], "flags": [1], "seen": NOW - DAY}),
    Person(key="nulls", attributes={"score": [None, 3], "flags": [], "seen": [NOW - 50 * DAY, NOW - DAY]}),
    Person(key="obj", attributes={"score": {"value": 5}, "flags": "true"}),
)
# Booleans and numbers that Python's `==` confuses (False == 0, True == 1.0);
# MongoDB never does: they are different BSON types. 1, 1.0 and Int64(1) are one number.
LOOKALIKES = (
    Person(key="false", attributes={"v": False}),
    Person(key="zero", attributes={"v": 0}),
    Person(key="zero_float", attributes={"v": 0.0}),
    Person(key="true", attributes={"v": True}),
    Person(key="one", attributes={"v": 1}),
    Person(key="one_float", attributes={"v": 1.0}),
    Person(key="int64", attributes={"v": Int64(1)}),
    Person(key="list_false", attributes={"v": [False]}),
    Person(key="list_zero", attributes={"v": [0]}),
    Person(key="list_true", attributes={"v": [True, "x"]}),
    Person(key="list_one", attributes={"v": [1.0]}),
    Person(key="object", attributes={"v": {"x": False}}),
    Person(key="missing", attributes={}),
)
LOOKALIKE_KEYS = frozenset(p.key for p in LOOKALIKES)
FLAGGED_EVENTS = (
    Person(key="paid_false", events=(event("checkout", paid=False),)),
    Person(key="paid_zero", events=(event("checkout", paid=0),)),
    Person(key="paid_one", events=(event("checkout", paid=1.0),)),
    Person(key="paid_true", events=(event("checkout", paid=True),)),
    Person(key="paid_list", events=(event("checkout", paid=[0, True]),)),
)
FLAGGED_DEVICES = (
    Person(key="push_false", devices=(device("ios", push=False),)),
    Person(key="push_zero", devices=(device("ios", push=0),)),
    Person(key="push_true", devices=(device("ios", push=True),)),
)


def attr(path: str, op: str, value=None) -> dict:
    body = {"path": path, "op": op}
    if value is not None:
        body["value"] = value
    return {"attribute": body}


def case(name: str, condition: dict, people: tuple[Person, ...], *expected: str) -> Case:
    return Case(name=name, condition=condition, people=people, expected=frozenset(expected))


LTV = "lifetime_value"
BRIEF_OFFER = {
    "all": [
        {"pageView": {"url": {"op": "startsWith", "value": "/offers/"}, "count": {"op": "atLeast", "value": 5},
                      "window": {"within": {"days": 7}}, "sameUrl": True}},
        {"not": {"event": {"name": "purchase"}}},
    ]
}

CASES = [
    # -- attributes: comparisons never cross types; arrays match on any element
    case("brief: lifetime_value greater than 25000", attr(LTV, "gt", 25000), VALUES, "number", "float", "array"),
    case("gte includes the bound", attr(LTV, "gte", 30000), VALUES, "number", "float", "array"),
    case("lt on numbers only", attr(LTV, "lt", 1000), VALUES, "low", "array"),
    case("lte bound", attr(LTV, "lte", 100), VALUES, "low", "array"),
    case("eq number matches int and float", attr(LTV, "eq", 30000), VALUES, "number", "float"),
    case("eq string is not eq number", attr(LTV, "eq", "30000"), VALUES, "string"),
    case("eq true is not 1", attr(LTV, "eq", True), VALUES, "bool"),
    case("ne matches missing and null", attr(LTV, "ne", 30000), VALUES, "string", "low", "array", "bool", "null", "missing"),
    case("between inclusive", attr(LTV, "between", [100, 30000]), VALUES, "number", "float", "low", "array"),
    case("in mixes kinds", attr(LTV, "in", [100, "30000"]), VALUES, "string", "low", "array"),
    case("notIn matches missing", attr(LTV, "notIn", [100, 30000]), VALUES, "string", "bool", "null", "missing"),
    case("exists: present and not null", attr(LTV, "exists"), VALUES, "number", "float", "string", "low", "array", "bool"),
    case("notExists: missing or null", attr(LTV, "notExists"), VALUES, "null", "missing"),
    case("gt on strings compares strings only", attr("plan", "gt", "c"), TEXT, "ada"),
    case("contains: substring of a string, member of an array", attr("tags", "contains", "vip"), TEXT, "ada", "cy"),
    case("contains on name substring", attr("name", "contains", "Love"), TEXT, "ada"),
    case("notContains matches missing", attr("tags", "notContains", "vip"), TEXT, "bob", "dee"),
    case("startsWith on any array element", attr("email", "startsWith", "c"), TEXT, "cy"),
    case("endsWith ignores no trailing newline", attr("email", "endsWith", "@example.com"), TEXT, "ada", "cy"),
    case("matches uses a regular expression search", attr("name", "matches", "^A.a L"), TEXT, "ada"),
    case("matches never matches numbers", attr("name", "matches", "4"), TEXT),
    case("nested path", attr("address.city", "eq", "Paris"), NESTED, "paris"),
    case("nested notExists through a scalar", attr("address.zip", "notExists"), NESTED, "rome", "flat", "none"),
    case("ne on nested path", attr("address.city", "ne", "Paris"), NESTED, "rome", "flat", "none"),
    # -- timestamps: numbers or stored dates; withinLast is (now - d, now]
    case("withinLast 7 days excludes the edge and the future", attr("last_login", "withinLast", {"days": 7}), TIMES, "recent", "inside7", "date"),
    case("moreThanAgo 30 days includes the edge", attr("last_login", "moreThanAgo", {"days": 30}), TIMES, "old", "edge30"),
    case("before absolute", attr("last_login", "before", NOW - 7 * DAY), TIMES, "old", "edge30"),
    case("after absolute", attr("last_login", "after", NOW - 7 * DAY), TIMES, "recent", "inside7", "future", "date"),
    case("withinLast in hours", attr("last_login", "withinLast", {"hours": 24 * 7}), TIMES, "recent", "inside7", "date"),
    # -- events
    case("performed purchase", {"event": {"name": "purchase"}}, PURCHASES, "one", "two", "three"),
    case("at least 3 purchases", {"event": {"name": "purchase", "count": {"op": "atLeast", "value": 3}}}, PURCHASES, "three"),
    case("at most 1 purchase includes people with none", {"event": {"name": "purchase", "count": {"op": "atMost", "value": 1}}}, PURCHASES, "none", "one", "quiet"),
    case("exactly 0 purchases includes people with no activity", {"event": {"name": "purchase", "count": {"op": "exactly", "value": 0}}}, PURCHASES, "none", "quiet"),
    case("exactly 2 purchases", {"event": {"name": "purchase", "count": {"op": "exactly", "value": 2}}}, PURCHASES, "two"),
    case("at least 0 is everyone", {"event": {"name": "purchase", "count": {"op": "atLeast", "value": 0}}}, PURCHASES, "none", "one", "two", "three", "quiet"),
    case("purchases in the last 7 days", {"event": {"name": "purchase", "window": {"within": {"days": 7}}, "count": {"op": "atLeast", "value": 2}}}, PURCHASES, "three"),
    case("relative window edge: (now - 7d, now]", {"event": {"name": "purchase", "window": {"within": {"days": 7}}}}, EDGES, "inside", "at_now"),
    case("absolute window edge: [from, to)", {"event": {"name": "purchase", "window": {"from": NOW - 10 * DAY, "to": NOW - 5 * DAY}}}, ABSOLUTE, "at_from", "before_to"),
    case("absolute window open end stops at now", {"event": {"name": "purchase", "window": {"from": NOW - DAY}}}, EDGES, "at_now"),
    case("absolute window open start", {"event": {"name": "purchase", "window": {"to": NOW - 5 * DAY}}}, ABSOLUTE, "at_from", "before_from", "before_to"),
    case("any event counts only type event", {"event": {"count": {"op": "atLeast", "value": 1}}}, PAGES, "buyer", "blog"),
    case("event filter gt never crosses types", {"event": {"name": "purchase", "filters": [{"path": "amount", "op": "gt", "value": 100}]}}, FILTERED, "big"),
    case("event filter on nested data", {"event": {"name": "purchase", "filters": [{"path": "item.sku", "op": "startsWith", "value": "B"}]}}, FILTERED, "small"),
    case("event filter notExists", {"event": {"name": "purchase", "filters": [{"path": "coupon", "op": "notExists"}]}}, FILTERED, "big", "text_amount", "no_data"),
    case("two filters must hold on one event", {"event": {"name": "purchase", "filters": [{"path": "amount", "op": "lt", "value": 100}, {"path": "coupon", "op": "eq", "value": "X"}]}}, FILTERED, "small"),
    # -- page views
    case("page views of offers at least twice", {"pageView": {"url": {"op": "startsWith", "value": "/offers/"}, "count": {"op": "atLeast", "value": 2}}}, PAGES, "fan", "spread", "buyer", "stale"),
    case("sameUrl needs one URL to reach the count", {"pageView": {"url": {"op": "startsWith", "value": "/offers/"}, "count": {"op": "atLeast", "value": 4}, "sameUrl": True}}, PAGES, "fan", "buyer", "stale"),
    case("without sameUrl the views add up", {"pageView": {"url": {"op": "startsWith", "value": "/offers/"}, "count": {"op": "atLeast", "value": 5}}}, PAGES, "fan", "spread", "buyer", "stale"),
    case("sameUrl atMost uses the busiest URL", {"pageView": {"count": {"op": "atMost", "value": 3}, "sameUrl": True}}, PAGES, "spread", "blog", "nobody"),
    case("brief: same offer page 5 times in a week, no purchase", BRIEF_OFFER, PAGES, "fan"),
    case("page filter on data", {"pageView": {"filters": [{"path": "referrer", "op": "eq", "value": "google"}]}}, PAGES, "blog"),
    case("no page views at all", {"pageView": {"count": {"op": "exactly", "value": 0}}}, PAGES, "nobody"),
    case("url matches", {"pageView": {"url": {"op": "matches", "value": "^/offers/[ab]$"}}}, PAGES, "spread"),
    # -- devices
    case("has an ios device", {"device": {"platform": "ios"}}, DEVICES, "iphone", "old_iphone", "both"),
    case("ios device used in the last 30 days", {"device": {"platform": "ios", "lastUsed": {"within": {"days": 30}}}}, DEVICES, "iphone", "both"),
    case("device filter on attributes", {"device": {"filters": [{"path": "app_version", "op": "startsWith", "value": "2."}]}}, DEVICES, "iphone", "android"),
    case("no device at all", {"not": {"device": {}}}, DEVICES, "none"),
    case("android used in the last 30 days", {"device": {"platform": "android", "lastUsed": {"within": {"days": 30}}}}, DEVICES, "android"),
    # -- messages
    case("opened any message", {"message": {"metric": "opened"}}, MESSAGES, "opener", "clicker"),
    case("opened message m1 by email", {"message": {"metric": "OPENED", "messageId": "m1", "channel": "email"}}, MESSAGES, "opener"),
    case("clicked in campaign c2 in the last day", {"message": {"metric": "clicked", "campaignId": "c2", "window": {"within": {"days": 1}}}}, MESSAGES, "clicker"),
    case("delivered but never opened", {"all": [{"message": {"metric": "sent"}}, {"not": {"message": {"metric": "opened"}}}]}, MESSAGES, "ignorer", "bounced"),
    case("opened at least twice", {"message": {"metric": "opened", "count": {"op": "atLeast", "value": 2}}}, MESSAGES, "clicker"),
    case("opened in the last week", {"message": {"metric": "opened", "window": {"within": {"days": 7}}}}, MESSAGES, "opener", "clicker"),
    # -- segment references
    case("member of a segment", {"segment": {"id": "seg_vip"}}, SEGMENTED, "vip", "both"),
    case("not a member includes people in no segment", {"segment": {"id": "seg_vip", "member": False}}, SEGMENTED, "churn", "none"),
    case("in one segment but not another", {"all": [{"segment": {"id": "seg_vip"}}, {"segment": {"id": "seg_churn", "member": False}}]}, SEGMENTED, "vip"),
    # -- nesting and negation
    case("any of", {"any": [attr(LTV, "eq", "30000"), attr(LTV, "eq", True)]}, VALUES, "string", "bool"),
    case("not all", {"not": {"all": [attr(LTV, "exists"), attr(LTV, "gt", 1000)]}}, VALUES, "string", "low", "bool", "null", "missing"),
    case("double negation", {"not": {"not": attr(LTV, "gt", 25000)}}, VALUES, "number", "float", "array"),
    case("nested groups three deep", {"all": [{"any": [{"event": {"name": "purchase", "count": {"op": "atLeast", "value": 2}}}, {"event": {"name": "signup"}}]}, {"not": {"event": {"name": "purchase", "window": {"within": {"days": 2}}, "filters": [{"path": "amount", "op": "lt", "value": 100}]}}}]}, PURCHASES, "none", "three"),
    # -- mixed types and arrays
    case("gt on a mixed array: a string element never compares", attr("score", "gt", 0), MIXED, "z1", "wide", "nulls"),
    case("gt on a mixed array needs a bigger number", attr("score", "gt", 5), MIXED, "wide"),
    case("between needs one element within both bounds", attr("score", "between", [50, 60]), MIXED),
    case("in with a boolean does not match 1", attr("flags", "in", [True]), MIXED, "z1"),
    case("exists is false for an array holding null", attr("score", "exists"), MIXED, "z1", "wide", "obj"),
    case("an object never equals a scalar", attr("score", "eq", 5), MIXED),
    case("timestamp op on a stored date and on an array", attr("seen", "withinLast", {"days": 2}), MIXED, "z1", "wide", "nulls"),
    case("order op never matches a date", attr("seen", "gt", 0), MIXED, "wide", "nulls"),
    case("contains on an empty array", attr("flags", "contains", True), MIXED, "z1"),
    # -- booleans are never numbers: false vs 0, true vs 1, [false] vs [0]
    case("eq false is not 0", attr("v", "eq", False), LOOKALIKES, "false", "list_false"),
    case("eq 0 is not false", attr("v", "eq", 0), LOOKALIKES, "zero", "zero_float", "list_zero"),
    case("eq true matches true in an array, not 1", attr("v", "eq", True), LOOKALIKES, "true", "list_true"),
    case("eq 1 matches 1.0 and Int64(1), not true", attr("v", "eq", 1), LOOKALIKES, "one", "one_float", "int64", "list_one"),
    case("ne false keeps 0", attr("v", "ne", False), LOOKALIKES, *(LOOKALIKE_KEYS - {"false", "list_false"})),
    case("ne 1 keeps true", attr("v", "ne", 1.0), LOOKALIKES, *(LOOKALIKE_KEYS - {"one", "one_float", "int64", "list_one"})),
    case("in [false] is not in [0]", attr("v", "in", [False]), LOOKALIKES, "false", "list_false"),
    case("in [0] is not in [false]", attr("v", "in", [0]), LOOKALIKES, "zero", "zero_float", "list_zero"),
    case("in [true, 0]", attr("v", "in", [True, 0]), LOOKALIKES, "true", "list_true", "zero", "zero_float", "list_zero"),
    case("notIn [false, 1] keeps 0 and true", attr("v", "notIn", [False, 1]), LOOKALIKES,
         *(LOOKALIKE_KEYS - {"false", "list_false", "one", "one_float", "int64", "list_one"})),
    case("contains false is not contains 0", attr("v", "contains", False), LOOKALIKES, "list_false"),
    case("contains 0 is not contains false", attr("v", "contains", 0), LOOKALIKES, "list_zero"),
    case("contains 1 is not contains true", attr("v", "contains", 1), LOOKALIKES, "list_one"),
    case("notContains true keeps [1.0]", attr("v", "notContains", True), LOOKALIKES, *(LOOKALIKE_KEYS - {"list_true"})),
    case("a nested false is not 0", attr("v.x", "eq", 0), LOOKALIKES),
    case("event filter eq false", {"event": {"name": "checkout", "filters": [{"path": "paid", "op": "eq", "value": False}]}}, FLAGGED_EVENTS, "paid_false"),
    case("event filter in [1] on a mixed array", {"event": {"name": "checkout", "filters": [{"path": "paid", "op": "in", "value": [1]}]}}, FLAGGED_EVENTS, "paid_one"),
    case("event filter ne true", {"event": {"name": "checkout", "filters": [{"path": "paid", "op": "ne", "value": True}]}}, FLAGGED_EVENTS, "paid_false", "paid_zero", "paid_one"),
    case("device filter eq 0", {"device": {"filters": [{"path": "push", "op": "eq", "value": 0}]}}, FLAGGED_DEVICES, "push_zero"),
]
