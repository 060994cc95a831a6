"""The analytics SDKs from PyPI and npm, unchanged, pointed at the running
service (plain http, the SDKs' own `/v1/batch` path): segment-analytics-python,
rudder-sdk-python (gzip bodies by default) and @segment/analytics-node."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.acceptance.segment_spec_scenario import (
    check_graphql,
    check_member_within_a_second,
    create_order_segment,
    send_with_python_sdk,
)

NODE_SCRIPT = Path(__file__).parent / "node" / "segment_spec_scenario.js"


def _segment_client(write_key: str, host: str, on_error):
    from segment.analytics import Client

    return Client(write_key, host=host, on_error=on_error, max_retries=0, upload_size=100, upload_interval=0.05)


def _rudder_client(write_key: str, host: str, on_error):
    from rudderstack.analytics import Client

    return Client(write_key, host=host, on_error=on_error, max_retries=0, upload_size=100, upload_interval=0.05, gzip=True)


@pytest.mark.parametrize("make_client", [_segment_client, _rudder_client], ids=["segment-analytics-python", "rudder-sdk-python"])
def test_python_sdk_scenario(server, make_client):
    ws = server.create_workspace()
    segment_id = create_order_segment(server, ws)
    errors: list = []
    client = make_client(ws["trackApiKey"], server.base_url, lambda error, batch: errors.append((error, batch)))
    send_with_python_sdk(client)
    client.flush()
    flushed_at = time.monotonic()
    client.shutdown()
    assert errors == []
    check_member_within_a_second(server, ws, segment_id, flushed_at)
    check_graphql(server, ws)


def test_node_sdk_scenario(server, node):
    ws = server.create_workspace()
    segment_id = create_order_segment(server, ws)
    environment = {**os.environ, "SEGMENTS_URL": server.base_url, "SEGMENTS_WRITE_KEY": ws["trackApiKey"]}
    result = subprocess.run([node, NODE_SCRIPT.name], cwd=NODE_SCRIPT.parent, env=environment, capture_output=True, text=True, timeout=60)
    flushed_at = time.monotonic()
    assert result.returncode == 0, result.stderr
    assert "batches: 1" in result.stdout, result.stdout  # the eight calls went as one batch
    check_member_within_a_second(server, ws, segment_id, flushed_at)
    check_graphql(server, ws)
