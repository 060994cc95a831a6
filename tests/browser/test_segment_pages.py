"""Segment pages in the browser: editing with would-enter/would-leave, server
problems beside the node they name, the JSON view, live counts, history by
kind, explain, delete refused while referenced, and GraphiQL from local files."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot, sign_in

CREATE = """
mutation ($input: CreateSegmentInput!) { createSegment(input: $input) { ... on Segment { id } ... on Error { message } } }
"""
CHANGE_MEMBERS = """
mutation ($id: ID!, $ids: [String!]!, $remove: Boolean!) {
  add: addPeopleToSegment(segmentId: $id, ids: $ids, idType: EMAIL) @skip(if: $remove) { __typename }
  remove: removePeopleFromSegment(segmentId: $id, ids: $ids, idType: EMAIL) @include(if: $remove) { __typename }
}
"""


def _create(server, name: str, condition: dict | None = None) -> str:
    segment_type = "MANUAL" if condition is None else "DATA_DRIVEN"
    result = server.graphql(server.workspace, CREATE, {"input": {"name": name, "type": segment_type, "condition": condition}})
    server.call(lambda services: services.membership.wait_for_builds())
    return result["data"]["createSegment"]["id"]


def _emails(server, count: int) -> list[str]:
    people = server.graphql(server.workspace, "query ($n: Int) { people(first: $n) { edges { node { email } } } }", {"n": count})
    return [edge["node"]["email"] for edge in people["data"]["people"]["edges"]]


def _preview(server, condition: dict, segment_id: str) -> dict:
    query = "query ($c: ConditionInput!, $s: ID) { previewSegment(condition: $c, segmentId: $s) { count wouldEnter wouldLeave } }"
    return server.graphql(server.workspace, query, {"c": condition, "s": segment_id})["data"]["previewSegment"]


def test_editing_shows_who_would_enter_and_leave_problems_in_place_and_the_json_view(page: Page, demo_server):
    pro = {"attribute": {"path": "plan", "op": "EQ", "value": "pro"}}
    segment_id = _create(demo_server, "Pro plan", pro)
    paying = {"attribute": {"path": "plan", "op": "IN", "value": ["pro", "enterprise"]}}
    expected = _preview(demo_server, paying, segment_id)
    assert expected["wouldEnter"] > 0 and expected["wouldLeave"] == 0

    sign_in(page, demo_server.workspace["appApiKey"])
    page.goto(f"/#/segments/{segment_id}/edit")
    root = page.locator('[data-pointer="/condition"]')
    expect(root.get_by_label("Attribute path")).to_have_value("plan")
    expect(page.get_by_test_id("preview-diff")).to_have_text("If saved: 0 would enter, 0 would leave.")
    root.get_by_label("Operator").select_option(label="is one of")
    root.get_by_label("Values (comma-separated)").fill("pro, enterprise")
    expect(page.get_by_test_id("preview-count")).to_have_text(f"{expected['count']:,}")
    expect(page.get_by_test_id("preview-diff")).to_have_text(
        f"If saved: {expected['wouldEnter']:,} would enter, {expected['wouldLeave']:,} would leave."
    )

    # A server problem appears inside the node its JSON pointer names.
    page.get_by_role("button", name="Show as JSON").click()
    page.get_by_label("Condition as JSON").fill(
        '{"all": [{"attribute": {"path": "plan", "op": "eq", "value": "pro"}}, {"segment": {"id": "seg_gone"}}]}'
    )
    page.get_by_role("button", name="Apply JSON").click()
    missing = page.locator('[data-pointer="/condition/all/1"]')
    expect(missing.locator(".problems")).to_contain_text("seg_gone")
    expect(page.locator('[data-pointer="/condition/all/0"] .problems')).to_have_count(0)
    expect(page.locator('[data-pointer="/condition/all/0"]').get_by_label("Attribute path")).to_have_value("plan")
    screenshot(page, "validation-problem")
    # Saving is refused with the same problem, and nothing changes.
    page.get_by_role("button", name="Save segment").click()
    expect(page.get_by_role("alert").filter(has_text="Not saved")).to_be_visible()
    condition = demo_server.graphql(demo_server.workspace, "query ($id: ID!) { segment(id: $id) { condition } }", {"id": segment_id})
    assert condition["data"]["segment"]["condition"] == {"attribute": {"path": "plan", "op": "eq", "value": "pro"}}
    # JSON that is not a condition is refused in the page.
    page.get_by_role("button", name="Show as JSON").click()
    page.get_by_label("Condition as JSON").fill("{not json")
    page.get_by_role("button", name="Apply JSON").click()
    expect(page.get_by_role("alert").filter(has_text="Not valid JSON")).to_be_visible()


def test_live_counts_history_explain_and_delete_refused_while_referenced(page: Page, demo_server):
    watchers = _create(demo_server, "Watchers")
    outsiders = _create(demo_server, "Not watchers", {"segment": {"id": watchers, "member": False}})
    emails = _emails(demo_server, 3)

    sign_in(page, demo_server.workspace["appApiKey"])
    row = page.locator(f'tr[data-segment-id="{watchers}"]')
    expect(row.locator("a.count")).to_have_text("0")
    # People enter through the API, elsewhere: the list follows without a reload.
    demo_server.graphql(demo_server.workspace, CHANGE_MEMBERS, {"id": watchers, "ids": emails, "remove": False})
    expect(row.locator("a.count")).to_have_text("3", timeout=10_000)
    demo_server.graphql(demo_server.workspace, CHANGE_MEMBERS, {"id": watchers, "ids": emails[:1], "remove": True})
    expect(row.locator("a.count")).to_have_text("2", timeout=10_000)

    # History, filtered by kind.
    row.get_by_role("link", name="Watchers", exact=True).click()
    page.get_by_role("tab", name="History").click()
    history = page.get_by_test_id("history")
    expect(history.locator("tbody tr")).to_have_count(4)
    page.get_by_label("Show").select_option(label="exits only")
    expect(history.locator("tbody tr")).to_have_count(1)
    expect(history.locator("tbody tr")).to_contain_text(emails[0])
    expect(history.locator("tbody tr")).to_contain_text("Exited")

    # Explain: the condition tree, each part marked.
    page.goto(f"/#/segments/{outsiders}")
    page.get_by_role("tab", name="Why in or not?").click()
    page.get_by_label("Identifier").fill(emails[1])
    page.get_by_role("button", name="Explain").click()
    explanation = page.get_by_test_id("explanation")
    expect(explanation).to_contain_text(f"{emails[1]} is not a member — the condition does not hold now")
    expect(explanation.locator(".explain-tree .fails")).to_have_count(1)
    page.get_by_label("Identifier").fill(emails[0])
    page.get_by_role("button", name="Explain").click()
    expect(explanation).to_contain_text(f"{emails[0]} is a member — the condition holds now")
    expect(explanation.locator(".explain-tree .holds")).to_have_count(1)
    expect(explanation.locator(".explain-tree")).to_contain_text("“Watchers”")
    screenshot(page, "explain")

    # Deleting a referenced segment is refused, naming who refers to it.
    page.goto(f"/#/segments/{watchers}")
    page.get_by_role("button", name="Delete").click()
    page.get_by_role("button", name="Delete for good").click()
    expect(page.get_by_role("alert")).to_contain_text("cannot be deleted while other segments refer to it: Not watchers")
    assert demo_server.graphql(demo_server.workspace, "query ($id: ID!) { segment(id: $id) { id } }", {"id": watchers})[
        "data"
    ]["segment"]
    # Once the reference is gone, it can be deleted.
    page.goto(f"/#/segments/{outsiders}")
    page.get_by_role("button", name="Delete").click()
    page.get_by_role("button", name="Delete for good").click()
    expect(page.get_by_role("heading", name="Segments", exact=True)).to_be_visible()
    expect(page.locator(f'tr[data-segment-id="{outsiders}"]')).to_have_count(0)


def test_graphiql_is_served_from_the_services_own_files(page: Page, demo_server):
    sign_in(page, demo_server.workspace["appApiKey"])
    page.goto("/graphql")
    expect(page.locator(".graphiql-container")).to_be_visible()
    # The console's key is the default header (an editor of its own, so read the page text).
    expect(page.locator(".graphiql-container")).to_contain_text("Bearer")
    # The schema loaded with the console's key: the documentation explorer lists the root types.
    page.get_by_role("button", name="Show Documentation Explorer").click()
    expect(page.locator(".graphiql-doc-explorer")).to_contain_text("Root Types")
    expect(page.locator(".graphiql-doc-explorer")).to_contain_text("SegmentPreview")
    screenshot(page, "graphiql")
