"""One scenario sent by each official Customer.io SDK, and the exact store it must leave.

Steps (each SDK in its own words): identify u1; an event with a client id
and a page view for u1; two devices, one deleted; identify u2 with an event,
then merge u2 into u1; identify u3 and suppress them; identify u4 and delete
them; an anonymous event; and a v2 batch that identifies u5 with an event, a
page view and a device, and reports a delivery to u1 (sent, then opened).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.api.track_helpers import stored

CREATED_AT = 1_700_000_000
LAST_USED = 1_766_000_000
SENT_AT = 1_766_000_100
OPENED_AT = 1_766_000_400

BATCH = [
    {"type": "person", "action": "identify", "identifiers": {"id": "u5"}, "attributes": {"plan": "enterprise"}},
    {"type": "person", "action": "event", "identifiers": {"id": "u5"}, "name": "add_to_cart", "attributes": {"sku": "A1"}},
    {"type": "person", "action": "page", "identifiers": {"id": "u5"}, "name": "/pricing"},
    {"type": "person", "action": "add_device", "identifiers": {"id": "u5"}, "device": {"token": "tok-5", "platform": "android"}},
    {
        "type": "delivery",
        "action": "event",
        "name": "sent",
        "identifiers": {"id": "dlv-1"},
        "person": {"id": "u1"},
        "timestamp": SENT_AT,
        "attributes": {"campaign_id": 7, "message_id": "msg-welcome", "channel": "email"},
    },
    {"type": "delivery", "action": "event", "name": "opened", "identifiers": {"id": "dlv-1"}, "timestamp": OPENED_AT},
]


def check_store(server: Any, workspace: dict) -> None:
    people = {p["id"]: p for p in stored(server, "people", workspace)}
    assert set(people) == {"u1", "u3", "u5"}
    u1, u3, u5 = people["u1"], people["u3"], people["u5"]
    assert (u1["email"], u1["attributes"], u1["createdAt"], u1["suppressed"]) == (
        "u1@example.com",
        {"plan": "pro", "city": "Oslo"},  # city came from u2 in the merge
        CREATED_AT,
        False,
    )
    assert (u3["attributes"], u3["suppressed"]) == ({"plan": "free"}, True)
    assert (u5["attributes"], u5["email"]) == ({"plan": "enterprise"}, None)

    events = Counter((e["personId"], e["anonymousId"], e["type"], e["name"], repr(e["data"])) for e in stored(server, "events", workspace))
    assert events == Counter(
        [
            (u1["_id"], None, "event", "purchase", repr({"amount": 25})),
            (u1["_id"], None, "page", "/offers/7", repr({})),
            (u1["_id"], None, "event", "signed_in", repr({})),  # moved from u2 by the merge
            (u5["_id"], None, "event", "add_to_cart", repr({"sku": "A1"})),
            (u5["_id"], None, "page", "/pricing", repr({})),
            (None, "anon-1", "event", "viewed_pricing", repr({"source": "ad"})),
        ]
    )
    purchase = stored(server, "events", workspace, {"name": "purchase"})[0]
    assert purchase["_id"] == f"{workspace['workspaceId']}|evt-1"

    devices = {d["token"]: (d["personId"], d["platform"], d["attributes"]) for d in stored(server, "devices", workspace)}
    assert devices == {"tok-1": (u1["_id"], "ios", {"app_version": "2.0"}), "tok-5": (u5["_id"], "android", {})}
    assert stored(server, "devices", workspace, {"token": "tok-1"})[0]["lastUsed"] == LAST_USED

    (delivery,) = stored(server, "deliveries", workspace)
    assert (delivery["personId"], delivery["campaignId"], delivery["messageId"], delivery["channel"]) == (u1["_id"], "7", "msg-welcome", "email")
    assert delivery["metrics"] == {"sent": SENT_AT, "opened": OPENED_AT}

    identities = sorted(i["_id"].split("|", 1)[1] for i in stored(server, "identities", workspace))
    assert identities == ["email|u1@example.com", "id|u1", "id|u3", "id|u5"]


PERSON_QUERY = """
query ($id: String!) {
  person(id: $id) {
    id email attributes suppressed
    devices { token platform attributes }
    events(first: 20) { totalCount edges { node { type name data } } }
    deliveries(first: 5) { edges { node { deliveryId campaignId channel metrics { sent opened clicked } } } }
  }
}
"""


def check_graphql(server: Any, workspace: dict) -> None:
    """What GraphQL shows of u1 is exactly what the SDK sent."""
    person = server.graphql(workspace, PERSON_QUERY, {"id": "u1"})["data"]["person"]
    assert (person["id"], person["email"], person["attributes"], person["suppressed"]) == ("u1", "u1@example.com", {"plan": "pro", "city": "Oslo"}, False)
    assert person["devices"] == [{"token": "tok-1", "platform": "ios", "attributes": {"app_version": "2.0"}}]
    events = sorted((e["node"]["type"], e["node"]["name"], repr(e["node"]["data"])) for e in person["events"]["edges"])
    assert person["events"]["totalCount"] == 3
    assert events == [("EVENT", "purchase", repr({"amount": 25})), ("EVENT", "signed_in", repr({})), ("PAGE", "/offers/7", repr({}))]
    (delivery,) = [edge["node"] for edge in person["deliveries"]["edges"]]
    assert (delivery["deliveryId"], delivery["campaignId"], delivery["channel"]) == ("dlv-1", "7", "email")
    metrics = delivery["metrics"]
    assert metrics["sent"].startswith("2025-12-17T19:35:00") and metrics["opened"].startswith("2025-12-17T19:40:00")
    assert metrics["clicked"] is None
