"""The official customerio-node SDK (5.2.0), unchanged, against the running service."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.acceptance.track_scenario import BATCH, CREATED_AT, LAST_USED, check_graphql, check_store

SCRIPT = Path(__file__).parent / "node" / "track_scenario.js"


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
    result = subprocess.run([node, SCRIPT.name], cwd=SCRIPT.parent, env=environment, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    check_store(server, ws)
    check_graphql(server, ws)
