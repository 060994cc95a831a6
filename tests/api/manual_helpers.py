"""GraphQL calls shared by the manual-segment, CSV and export tests."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import HTTP

CREATE_SEGMENT = """
mutation ($input: CreateSegmentInput!) {
  createSegment(input: $input) { __typename ... on Segment { id } ... on Error { message } }
}
"""

MEMBERS = """
query ($id: ID!) {
  segment(id: $id) { memberCount members(first: 500) { totalCount edges { node { cioId id email } } } }
}
"""

IMPORT = """
mutation ($segmentId: ID!, $file: Upload!, $mode: ImportMode!, $dryRun: Boolean!, $column: String) {
  importSegmentMembers(segmentId: $segmentId, file: $file, mode: $mode, dryRun: $dryRun, column: $column) {
    __typename
    ... on SegmentImport {
      mode dryRun rows added alreadyMembers removed notFound invalid duplicates malformed badRowCount
      badRows { line problem message }
      segment { memberCount }
    }
    ... on Error { message }
  }
}
"""


def create_manual_segment(server: Any, ws: dict, name: str = "VIP list") -> str:
    result = server.graphql(ws, CREATE_SEGMENT, {"input": {"name": name, "type": "MANUAL"}})
    assert result["data"]["createSegment"]["__typename"] == "Segment", result
    return result["data"]["createSegment"]["id"]


def create_data_driven_segment(server: Any, ws: dict, name: str = "Pro plan") -> str:
    condition = {"attribute": {"path": "plan", "op": "EQ", "value": "pro"}}
    result = server.graphql(ws, CREATE_SEGMENT, {"input": {"name": name, "type": "DATA_DRIVEN", "condition": condition}})
    assert result["data"]["createSegment"]["__typename"] == "Segment", result
    return result["data"]["createSegment"]["id"]


def member_emails(server: Any, ws: dict, segment_id: str) -> set[str]:
    segment = server.graphql(ws, MEMBERS, {"id": segment_id})["data"]["segment"]
    assert segment["memberCount"] == segment["members"]["totalCount"]
    return {edge["node"]["email"] for edge in segment["members"]["edges"]}


def import_csv(
    server: Any,
    ws: dict,
    segment_id: str,
    content: bytes,
    *,
    mode: str = "APPEND",
    dry_run: bool = False,
    column: str | None = None,
    filename: str = "members.csv",
    timeout: float = 120,
) -> dict:
    """`importSegmentMembers` as the GraphQL multipart request spec sends it."""
    operations = {
        "query": IMPORT,
        "variables": {"segmentId": segment_id, "file": None, "mode": mode, "dryRun": dry_run, "column": column},
    }
    response = HTTP.post(
        f"{server.base_url}/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (filename, content, "text/csv")},
        headers={"Authorization": f"Bearer {ws['appApiKey']}"},
        timeout=timeout,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["importSegmentMembers"]
