"""Failures are retried with exponential backoff on the service's (fake)
clock, every attempt is recorded, an endpoint that fails for over a day is
disabled with a reason, and a delivery can be retried by hand."""

from __future__ import annotations

import time
from datetime import datetime

from tests.webhooks.helpers import create_endpoint, deliveries, gql
from tests.webhooks.receiver import Receiver

RETRY = """mutation($id: ID!) { retryWebhookDelivery(id: $id) {
  __typename ... on WebhookDelivery { status attempts { statusCode manual } } ... on Error { message } } }"""
ENABLE = """mutation($id: ID!) { updateWebhookEndpoint(id: $id, input: {enabled: true}) {
  ... on WebhookEndpoint { enabled disabledReason } ... on Error { message } } }"""
PRO = {"attribute": {"path": "plan", "op": "EQ", "value": "pro"}}


def _advance(service, seconds: float) -> float:
    async def advance(services):
        return services.clock.advance(seconds)

    return service.call(advance)


def _now(service) -> float:
    async def now(services):
        return services.clock.now()

    return service.call(now)


def _wait(condition, what: str, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return result


def _setup(service, receiver):
    ws = service.create_workspace("retries")
    gql(service, ws, 'mutation($c: ConditionInput!) { createSegment(input: {name: "Pro", condition: $c}) { ... on Segment { id } } }', {"c": PRO})
    created = create_endpoint(service, ws, url=receiver.url, timeoutSeconds=2)
    receiver.secret = created["secret"]
    return ws, created["endpoint"]["id"]


def _identify(service, ws, person: str, plan: str) -> None:
    with service.track(ws) as track:
        assert track.put(f"/api/v1/customers/{person}", json={"plan": plan}).status_code == 200


def test_a_receiver_answering_500_then_recovering_gets_every_change(service, receiver):
    ws, _ = _setup(service, receiver)
    receiver.status_for = lambda n: 500 if n < 2 else 200
    _identify(service, ws, "ann", "pro")
    receiver.wait_for(lambda: receiver.requests >= 1, what="a first attempt")
    (delivery,), _ = _wait(lambda: (d := deliveries(service, ws)) and d[0] and d[0][0]["attempts"] and d, "the first attempt recorded")
    assert delivery["status"] == "PENDING"
    assert [a["statusCode"] for a in delivery["attempts"]] == [500]
    assert delivery["attempts"][0]["error"] == "HTTP 500" and delivery["attempts"][0]["latencyMs"] >= 0
    # first retry after 5 s +- 20 %, on the service's clock: nothing happens before it
    wait = datetime.fromisoformat(delivery["nextAttemptAt"]).timestamp() - delivery_time(delivery)
    assert 4.0 <= wait <= 6.0, wait
    time.sleep(0.3)
    assert receiver.requests == 1
    _advance(service, 6)
    receiver.wait_for(lambda: receiver.requests >= 2, what="the first retry")
    (delivery,), _ = _wait(lambda: (d := deliveries(service, ws)) and len(d[0][0]["attempts"]) == 2 and d, "retry recorded")
    second_wait = datetime.fromisoformat(delivery["nextAttemptAt"]).timestamp() - delivery_time(delivery)
    assert 16.0 <= second_wait <= 24.0, second_wait  # 5 s * 4, +- 20 %
    _advance(service, 25)
    receiver.wait_for(lambda: len(receiver.changes()) == 1)
    (delivery,), endpoint = _wait(lambda: (d := deliveries(service, ws)) and d[0][0]["status"] == "DELIVERED" and d, "delivered")
    assert [a["statusCode"] for a in delivery["attempts"]] == [500, 500, 200]
    assert delivery["nextAttemptAt"] is None and endpoint["enabled"]
    assert receiver.changes()[0]["person"]["id"] == "ann"


def delivery_time(delivery) -> float:
    return datetime.fromisoformat(delivery["attempts"][-1]["at"]).timestamp()


def test_a_receiver_down_for_a_while_gets_every_change_in_order_when_back(service, receiver):
    ws, _ = _setup(service, receiver)
    receiver.stop()  # connections are refused from now on
    for plan in ("pro", "free", "pro"):
        _identify(service, ws, "bob", plan)
    (first,), _ = _wait(lambda: (d := deliveries(service, ws)) and d[0] and d[0][0]["attempts"] and d, "a refused attempt")
    assert first["attempts"][0]["statusCode"] is None and "Connect" in first["attempts"][0]["error"]
    for _ in range(3):  # down for minutes: still retried, still pending
        _advance(service, 120)
        time.sleep(0.2)
    back = Receiver(port=receiver.port).start()
    try:
        back.secret = receiver.secret
        _advance(service, 3600)
        back.wait_for(lambda: len(back.changes()) == 3)
        assert [(c["person"]["id"], c["kind"]) for c in back.changes()] == [("bob", "ENTERED"), ("bob", "EXITED"), ("bob", "ENTERED")]
        attempts = [d["attempts"] for d in deliveries(service, ws)[0]]
        assert sum(len(a) for a in attempts) >= 4 and all(a[-1]["statusCode"] == 200 for a in attempts)
    finally:
        back.stop()


def test_an_endpoint_failing_for_a_day_is_disabled_and_a_delivery_can_be_retried_by_hand(service, receiver):
    ws, endpoint_id = _setup(service, receiver)
    failing = True
    receiver.status_for = lambda n: 503 if failing else 200
    _identify(service, ws, "cy", "pro")
    started = _now(service)
    # retried for more than a day (26 h), then given up
    while True:
        _wait(lambda: receiver.requests >= 1, "an attempt")
        (delivery,), endpoint = deliveries(service, ws)
        if delivery["status"] == "FAILED":
            break
        assert _now(service) - started < 30 * 3600, "still retrying after 30 h"
        before = receiver.requests
        next_attempt = datetime.fromisoformat(delivery["nextAttemptAt"]).timestamp()
        _advance(service, next_attempt - _now(service) - 1)
        time.sleep(0.2)
        assert receiver.requests == before, "retried before its time"
        _advance(service, 2)
        _wait(lambda: receiver.requests > before, "the next retry")
        _wait(lambda: len(deliveries(service, ws)[0][0]["attempts"]) == receiver.requests, "the attempt recorded")
    assert _now(service) - started >= 24 * 3600
    assert not endpoint["enabled"] and "failed" in endpoint["disabledReason"] and "HTTP 503" in endpoint["disabledReason"]
    # a disabled endpoint is not sent to
    requests = receiver.requests
    _identify(service, ws, "dee", "pro")
    _advance(service, 3600)
    time.sleep(0.3)
    assert receiver.requests == requests

    failing = False
    retried = gql(service, ws, RETRY, {"id": delivery["id"]})["retryWebhookDelivery"]
    assert retried["status"] == "DELIVERED" and retried["attempts"][-1] == {"statusCode": 200, "manual": True}
    assert [c["person"]["id"] for c in receiver.changes()] == ["cy"]
    enabled = gql(service, ws, ENABLE, {"id": endpoint_id})["updateWebhookEndpoint"]
    assert enabled == {"enabled": True, "disabledReason": None}
    # it resumes where it stopped: dee's entry, recorded while it was disabled, arrives
    receiver.wait_for(lambda: [c["person"]["id"] for c in receiver.changes()] == ["cy", "dee"])
    missing = gql(service, ws, RETRY, {"id": "msg_nope"})["retryWebhookDelivery"]
    assert missing["__typename"] == "NotFoundError"
    # another workspace can neither see nor retry this delivery
    other = service.create_workspace("other")
    assert gql(service, other, RETRY, {"id": delivery["id"]})["retryWebhookDelivery"]["__typename"] == "NotFoundError"


def test_an_answer_slower_than_the_endpoint_timeout_is_a_failure_and_retried(service, receiver):
    ws = service.create_workspace("timeout")
    gql(service, ws, 'mutation($c: ConditionInput!) { createSegment(input: {name: "Pro", condition: $c}) { ... on Segment { id } } }', {"c": PRO})
    receiver.secret = create_endpoint(service, ws, url=receiver.url, timeoutSeconds=1)["secret"]
    # Far slower than the timeout, so that a loaded machine's late timer still
    # ends the attempt before the receiver answers.
    receiver.delay = 5
    _identify(service, ws, "eve", "pro")
    (delivery,), _ = _wait(lambda: (d := deliveries(service, ws)) and d[0] and d[0][0]["attempts"] and d, "a timed-out attempt")
    assert delivery["attempts"][0] == {**delivery["attempts"][0], "statusCode": None, "error": "no answer within 1 s"}
    assert 1000 <= delivery["attempts"][0]["latencyMs"] < 5000
    receiver.delay = 0
    _advance(service, 10)
    _wait(lambda: deliveries(service, ws)[0][0]["status"] == "DELIVERED", "the retry")
    # the slow receiver may have accepted the first attempt too: the same webhook-id and changeId, de-duplicated
    assert [c["person"]["id"] for c in receiver.changes()] == ["eve"]
    assert len(set(receiver.message_ids)) == 1
