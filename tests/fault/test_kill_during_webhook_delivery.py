"""`segments serve` killed (SIGKILL) while it records and delivers the
changes of a large build to a slow receiver, then restarted: every recorded
change reaches the receiver (verified with `standardwebhooks`), none is
lost, and after de-duplication each arrives once."""

from __future__ import annotations

import signal
import time

from tests.fault.service import Service, all_changes, create_workspace_in, numbered_people
from tests.webhooks.receiver import Receiver

PEOPLE = 600
CONDITION = {"attribute": {"path": "n", "op": "GTE", "value": 0}}
CREATE_ENDPOINT = """mutation($url: String!) { createWebhookEndpoint(input: {url: $url}) {
  ... on CreatedWebhookEndpoint { secret } ... on Error { message } } }"""


def test_changes_recorded_before_a_kill_are_delivered_after_the_restart(tmp_path):
    workspace = create_workspace_in(tmp_path, numbered_people(PEOPLE))
    receiver = Receiver(delay=0.3).start()  # slow: deliveries lag behind the build
    env = {"SEGMENTS_WEBHOOK_LEASE_SECONDS": "1", "SEGMENTS_CHANGE_POLL_SECONDS": "0.1"}
    first = Service(tmp_path, workspace, env=env)
    try:
        receiver.secret = first.graphql(CREATE_ENDPOINT, {"url": receiver.url})["createWebhookEndpoint"]["secret"]
        created = first.graphql(
            'mutation($c: ConditionInput!) { createSegment(input: {name: "Large", condition: $c}) { ... on Segment { id } } }',
            {"c": CONDITION},
        )
        segment_id = created["createSegment"]["id"]
        # Kill once some changes are delivered and more are recorded but not yet delivered.
        receiver.wait_for(lambda: len(receiver.changes()) > 0, timeout=60, what="a first delivery")
    finally:
        first.stop(signal.SIGKILL)
    delivered_before_kill = len(receiver.changes())

    second = Service(tmp_path, workspace, env=env)
    try:
        deadline = time.monotonic() + 120
        while second.segment(segment_id)["state"] == "BUILDING":
            assert time.monotonic() < deadline, "the interrupted build did not finish after the restart"
            time.sleep(0.2)
        recorded = [(c["personCioId"], c["kind"]) for c in all_changes(second, segment_id)]
        assert delivered_before_kill < len(recorded), "the kill came after everything was delivered"
        receiver.delay = 0
        receiver.wait_for(lambda: len(receiver.changes()) >= len(recorded), timeout=90)
        received = receiver.changes()
        assert receiver.rejected_signatures == 0
        assert sorted((c["person"]["cioId"], c["kind"]) for c in received) == sorted(recorded)
        assert len({c["changeId"] for c in received}) == len(recorded) == PEOPLE
    finally:
        second.stop()
        receiver.stop()
