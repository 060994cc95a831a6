"""customerio-node's APIClient (5.2.0), unchanged, against the App API routes it
offers for people: createCustomersExport, getExport, listExports, downloadExport."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).parent / "node" / "app_api_scenario.js"


def test_node_api_client_exports(server, node):
    ws = server.create_workspace()
    with server.track(ws) as track:
        for profile_id, plan in (("u1", "pro"), ("u2", "free"), ("u3", "pro")):
            assert track.put(f"/api/v1/customers/{profile_id}", json={"email": f"{profile_id}@example.com", "plan": plan}).status_code == 200
    filters = {"and": [{"attribute": {"field": "plan", "operator": "eq", "value": "pro"}},
                       {"not": {"attribute": {"field": "id", "operator": "eq", "value": "u3"}}}]}
    environment = {**os.environ, "SEGMENTS_URL": server.base_url, "SEGMENTS_APP_API_KEY": ws["appApiKey"], "SEGMENTS_FILTERS": json.dumps(filters)}
    result = subprocess.run([node, SCRIPT.name], cwd=SCRIPT.parent, env=environment, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    export = answer["created"]["export"]
    assert (export["status"], export["total"], export["failed"]) == ("done", 1, False)
    assert answer["status"]["export"]["id"] == export["id"]
    assert [e["id"] for e in answer["listed"]["exports"]] == [export["id"]]
    rows = list(csv.DictReader(io.StringIO(answer["csv"])))
    assert [(r["id"], r["email"]) for r in rows] == [("u1", "u1@example.com")]
    assert answer["missing"]["name"] == "CustomerIORequestError"
    assert answer["missing"]["statusCode"] == 404
    assert "exp_missing" in answer["missing"]["message"]  # read from Customer.io's {"meta": {"error"}} shape
