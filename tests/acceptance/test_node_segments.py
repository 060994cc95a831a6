"""customerio-node's addCustomersToSegment / removeCustomersFromSegment, by id
and by email, against the running service; GraphQL then shows the membership."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

NODE_DIR = Path(__file__).parent / "node"

# Identifies three people, then runs the segment calls given as JSON
# [[action, segmentId, ids, idType], ...] in order, printing each answer.
SCRIPT = """
const { TrackClient } = require('customerio-node');
const env = process.env;
const client = new TrackClient(env.SEGMENTS_SITE_ID, env.SEGMENTS_TRACK_API_KEY, { url: env.SEGMENTS_URL + '/api/v1' });
(async () => {
  for (const [id, email] of [['u-1', 'ann@example.com'], ['u-2', 'bob@example.com'], ['u-3', 'cy@example.com']]) {
    await client.identify(id, { email, plan: 'pro' });
  }
  for (const [action, segmentId, ids, idType] of JSON.parse(env.SEGMENTS_CALLS)) {
    const answer = action === 'add'
      ? await client.addCustomersToSegment(segmentId, ids, idType)
      : await client.removeCustomersFromSegment(segmentId, ids, idType);
    console.log(JSON.stringify(answer));
  }
})().catch((error) => { console.error(error.statusCode, error.message); process.exit(1); });
"""

CREATE = """mutation ($input: CreateSegmentInput!) { createSegment(input: $input) { ... on Segment { id } } }"""
MEMBERS = """query ($id: ID!) { segment(id: $id) {
  memberCount members { edges { node { id email } } }
  changes { edges { node { kind person { id } } } } } }"""


def _run(node: str, server, ws: dict, calls: list) -> list[dict]:
    environment = {
        **os.environ,
        "SEGMENTS_URL": server.base_url,
        "SEGMENTS_SITE_ID": ws["siteId"],
        "SEGMENTS_TRACK_API_KEY": ws["trackApiKey"],
        "SEGMENTS_CALLS": json.dumps(calls),
    }
    result = subprocess.run([node, "-e", SCRIPT], cwd=NODE_DIR, env=environment, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_node_sdk_adds_and_removes_by_id_and_email(server, node):
    ws = server.create_workspace()
    segment_id = server.graphql(ws, CREATE, {"input": {"name": "Beta testers", "type": "MANUAL"}})["data"]["createSegment"]["id"]
    answers = _run(
        node,
        server,
        ws,
        [
            ["add", segment_id, ["u-1", "u-2", "u-404"], "id"],
            ["add", segment_id, ["CY@example.com"], "email"],
            ["remove", segment_id, ["bob@example.com"], "email"],
            ["remove", segment_id, ["u-1"], None],  # no idType: the profile id, as Customer.io
        ],
    )
    assert answers[0] == {"added": ["u-1", "u-2"], "alreadyMembers": [], "notFound": ["u-404"], "invalid": []}
    assert answers[1]["added"] == ["CY@example.com"]
    assert answers[2]["removed"] == ["bob@example.com"] and answers[3]["removed"] == ["u-1"]

    segment = server.graphql(ws, MEMBERS, {"id": segment_id})["data"]["segment"]
    assert segment["memberCount"] == 1
    assert [edge["node"] for edge in segment["members"]["edges"]] == [{"id": "u-3", "email": "cy@example.com"}]
    history = sorted((e["node"]["person"]["id"], e["node"]["kind"]) for e in segment["changes"]["edges"])
    assert history == [("u-1", "ENTERED"), ("u-1", "EXITED"), ("u-2", "ENTERED"), ("u-2", "EXITED"), ("u-3", "ENTERED")]
