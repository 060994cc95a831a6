"""The official customerio-node SDK (5.2.0), unchanged, against the running service."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.acceptance.track_scenario import BATCH, CREATED_AT, LAST_USED, check_graphql, check_store

NODE_DIR = Path(__file__).parent / "node"


@pytest.fixture
def node() -> str:
    node = shutil.which("node")
    assert node, "Node.js is needed for the customerio-node acceptance test"
    assert (NODE_DIR / "node_modules" / "customerio-node").is_dir(), "run `make test` (it installs tests/acceptance/node)"
    return node


def test_node_sdk_scenario(tls_server, node):
    server = tls_server
    ws = server.create_workspace()
    environment = {
        **os.environ,
        "SEGMENTS_URL": server.base_url,
        "SEGMENTS_SITE_ID": ws["siteId"],
        "SEGMENTS_TRACK_API_KEY": ws["trackApiKey"],
        "SEGMENTS_CREATED_AT": str(CREATED_AT),
        "SEGMENTS_LAST_USED": str(LAST_USED),
        "SEGMENTS_BATCH": json.dumps(BATCH),
    }
    result = subprocess.run([node, "track_scenario.js"], cwd=NODE_DIR, env=environment, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    check_store(server, ws)
    check_graphql(server, ws)
