"""The product's two examples and a manual segment, built and used through
the console in Chromium, checked against what the API says.

One flow, in the order a new user works: sign in, build "lifetime value over
25000" and "saw the same offer page five times in the last week and has not
bought it" in the condition builder (the exact count shows before saving),
see the saved counts, click a count into the filtered people search and
export it, then fill a manual segment by pasting emails and by a CSV upload
(dry run first), remove someone, and open a person's page.
"""

from __future__ import annotations

import csv
import io
import re
import time

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot, sign_in

HIGH_VALUE = {"attribute": {"path": "lifetime_value", "op": "GT", "value": 25000}}
OFFER_NOT_BOUGHT = {
    "all": [
        {
            "pageView": {
                "url": {"op": "STARTS_WITH", "value": "/offers/"},
                "sameUrl": True,
                "count": {"op": "AT_LEAST", "value": 5},
                "window": {"within": {"days": 7}},
            }
        },
        {"not": {"event": {"name": "purchase"}}},
    ]
}


def _send_offer_visitors(server) -> dict[str, bool]:
    """Through the Track API, people who saw offer pages this week; True for those the
    second example should select (the same page five times, no purchase)."""
    now = time.time()
    visitors = {
        "keen-1@shop.test": (["/offers/42"] * 6, False, True),
        "keen-2@shop.test": (["/offers/7"] * 5, False, True),
        "bought@shop.test": (["/offers/42"] * 6, True, False),
        "browser@shop.test": (["/offers/1", "/offers/2", "/offers/3", "/offers/4", "/offers/5"], False, False),
        "long-ago@shop.test": (["/offers/9"] * 6, False, False),
    }
    with server.track(server.workspace) as track:
        for email, (urls, bought, _) in visitors.items():
            assert track.put(f"/api/v1/customers/{email}", json={"email": email}).status_code == 200
            # "long-ago" saw the page twenty days ago: outside the week.
            seen_at = now - (20 * 86400 if email.startswith("long-ago") else 3600)
            for i, url in enumerate(urls):
                body = {"type": "page", "name": url, "timestamp": int(seen_at) + i}
                assert track.post(f"/api/v1/customers/{email}/events", json=body).status_code == 200
            if bought:
                body = {"name": "purchase", "data": {"amount": 30}, "timestamp": int(now) - 60}
                assert track.post(f"/api/v1/customers/{email}/events", json=body).status_code == 200
    return {email: selected for email, (_, _, selected) in visitors.items()}


def _api_count(server, condition: dict) -> int:
    result = server.graphql(server.workspace, "query ($c: ConditionInput!) { previewSegment(condition: $c) { count } }", {"c": condition})
    return result["data"]["previewSegment"]["count"]


def _members(server, segment_id: str) -> set[str]:
    query = "query ($id: ID!) { segment(id: $id) { members(first: 500) { edges { node { email } } } } }"
    edges = server.graphql(server.workspace, query, {"id": segment_id})["data"]["segment"]["members"]["edges"]
    return {edge["node"]["email"] for edge in edges}


def _segment_id(page: Page) -> str:
    page.wait_for_url(re.compile(r"#/segments/seg_"))
    return page.url.rsplit("/", 1)[1]


def _node(page: Page, pointer: str):
    return page.locator(f'[data-pointer="{pointer}"]')


def _expect_ready(page: Page, count: int) -> None:
    expect(page.locator(".facts .badge")).to_have_text("Ready", timeout=30_000)
    expect(page.get_by_test_id("segment-member-count")).to_have_text(f"{count:,}")


def test_two_examples_people_search_export_manual_segment_and_person(page: Page, demo_server, tmp_path):
    workspace = demo_server.workspace
    offer_visitors = _send_offer_visitors(demo_server)
    high_value_count = _api_count(demo_server, HIGH_VALUE)
    offer_count = _api_count(demo_server, OFFER_NOT_BOUGHT)
    assert 0 < high_value_count < 400 and offer_count >= 2

    # A wrong key is refused with a clear message; the right one opens the workspace.
    page.goto("/")
    page.get_by_label("App API key").fill(workspace["trackApiKey"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("This key was not accepted")
    page.console_errors.clear()  # the browser logs the refused request's 401
    sign_in(page, workspace["appApiKey"])
    expect(page.get_by_test_id("workspace-name")).to_have_text("Demo shop")
    expect(page.get_by_text("No segments yet")).to_be_visible()

    # Example 1: lifetime_value > 25000, built in the builder; the count shows before saving.
    page.get_by_role("link", name="New segment").first.click()
    page.get_by_label("Name").fill("High value")
    page.get_by_label("Description (optional)").fill("Lifetime value above 25000")
    first = _node(page, "/condition/all/0")
    first.get_by_label("Attribute path").fill("lifetime_value")
    first.get_by_label("Operator").select_option(label="is greater than")
    first.get_by_label("Value", exact=True).fill("25000")
    expect(first.get_by_label("Value type")).to_have_value("number")
    expect(page.get_by_test_id("preview-count")).to_have_text(f"{high_value_count:,}")
    screenshot(page, "segment-editor")
    page.get_by_role("button", name="Save segment").click()
    high_value_id = _segment_id(page)
    _expect_ready(page, high_value_count)

    # Example 2: the same offer page 5 times within 7 days, and no purchase.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Segments").click()
    page.get_by_role("link", name="New segment").first.click()
    page.get_by_label("Name").fill("Offer seen, not bought")
    views = _node(page, "/condition/all/0")
    views.get_by_label("Condition type").first.select_option(label="Page view")
    views.get_by_label("Operator").select_option(label="starts with")
    views.get_by_label("URL", exact=True).fill("/offers/")
    views.get_by_label("How often").select_option(label="at least")
    views.get_by_label("Times").fill("5")
    views.get_by_label("All on the same URL").check()
    views.get_by_label("When").select_option(label="within the last")
    views.get_by_label("Amount").fill("7")
    views.get_by_label("Unit").select_option("days")
    page.get_by_role("button", name="+ Add condition").click()
    _node(page, "/condition/all/1").get_by_label("Condition type").first.select_option(label="Not")
    purchase = _node(page, "/condition/all/1/not")
    purchase.get_by_label("Condition type").select_option(label="Event")
    purchase.get_by_label("Event name").fill("purchase")
    expect(page.get_by_test_id("preview-count")).to_have_text(f"{offer_count:,}")
    # The JSON view shows exactly the condition built.
    page.get_by_role("button", name="Show as JSON").click()
    shown = page.get_by_label("Condition as JSON").input_value()
    assert '"sameUrl": true' in shown and '"name": "purchase"' in shown and '"days": 7' in shown
    page.get_by_role("button", name="Hide JSON").click()
    page.get_by_role("button", name="Save segment").click()
    offer_id = _segment_id(page)
    _expect_ready(page, offer_count)
    saved = demo_server.graphql(workspace, "query ($id: ID!) { segment(id: $id) { condition } }", {"id": offer_id})
    assert saved["data"]["segment"]["condition"]["all"][0]["pageView"]["count"] == {"op": "atLeast", "value": 5}
    offer_members = _members(demo_server, offer_id)
    assert {email for email, selected in offer_visitors.items() if selected} <= offer_members
    assert not {email for email, selected in offer_visitors.items() if not selected} & offer_members

    # The list shows both saved counts; a count opens the people search filtered by its segment.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Segments").click()
    high_row = page.locator(f'tr[data-segment-id="{high_value_id}"]')
    expect(high_row.locator("a.count")).to_have_text(f"{high_value_count:,}")
    expect(page.locator(f'tr[data-segment-id="{offer_id}"] a.count')).to_have_text(f"{offer_count:,}")
    screenshot(page, "segments-list")
    high_row.locator("a.count").click()
    expect(page.get_by_test_id("search-summary")).to_have_text("People in High value")
    expect(page.locator(".pager")).to_contain_text(f"of {high_value_count:,} people")
    screenshot(page, "people-search")
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    exported = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    assert len(exported) == high_value_count
    assert {row["email"] for row in exported} == _members(demo_server, high_value_id)

    # A manual segment, filled by pasting emails.
    people = demo_server.graphql(workspace, "{ people(first: 6) { edges { node { cioId email } } } }")
    emails = [edge["node"]["email"] for edge in people["data"]["people"]["edges"]]
    cio_ids = {edge["node"]["email"]: edge["node"]["cioId"] for edge in people["data"]["people"]["edges"]}
    assert all(emails)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Segments").click()
    page.get_by_role("link", name="New segment").first.click()
    page.get_by_label("Name").fill("VIP list")
    page.get_by_label("Segment type").select_option("MANUAL")
    page.get_by_role("button", name="Save segment").click()
    vip_id = _segment_id(page)
    page.get_by_role("tab", name="Add or remove people").click()
    page.get_by_label("One per line").fill(f"{emails[0]}\n{emails[1]}\nnobody@example.com")
    page.get_by_role("button", name="Add to segment").click()
    results = page.get_by_test_id("paste-results")
    expect(results.locator("tr", has_text=emails[0])).to_contain_text("added")
    expect(results.locator("tr", has_text=emails[1])).to_contain_text("added")
    expect(results.locator("tr", has_text="nobody@example.com")).to_contain_text("not found")
    page.get_by_label("One per line").fill(emails[0])
    page.get_by_role("button", name="Add to segment").click()
    expect(results.locator("tr", has_text=emails[0])).to_contain_text("already a member")
    expect(page.get_by_test_id("segment-member-count")).to_have_text("2")

    # ... and by a CSV upload: a dry run reports first and changes nothing.
    upload = tmp_path / "vip.csv"
    upload.write_text(f"note,email\na,{emails[2]}\nb,{emails[3]}\nc,\nd,ghost@example.com\ne,{emails[0]}\n")
    page.get_by_label("CSV file (UTF-8").set_input_files(str(upload))
    expect(page.get_by_label("Identifier column")).to_have_value("email")
    page.get_by_role("button", name="Dry run").click()
    report = page.get_by_test_id("import-report")
    expect(report).to_contain_text("Dry run: nothing was changed")
    expect(report).to_contain_text("2 would be added")
    expect(report).to_contain_text("1 already members")
    expect(report).to_contain_text("1 unknown people")
    bad_rows = page.get_by_test_id("bad-rows")
    expect(bad_rows.locator("tr", has_text="ghost@example.com").locator("td").first).to_have_text("5")
    expect(bad_rows.locator("tbody tr").first.locator("td").first).to_have_text("4")
    assert _members(demo_server, vip_id) == {emails[0], emails[1]}
    screenshot(page, "csv-dry-run")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(report).to_contain_text("Imported")
    expect(report).to_contain_text("2 added")
    expect(page.get_by_test_id("segment-member-count")).to_have_text("4")
    assert _members(demo_server, vip_id) == set(emails[:4])

    # Remove one.
    page.get_by_label("One per line").fill(emails[1])
    page.get_by_role("button", name="Remove from segment").click()
    expect(results.locator("tr", has_text=emails[1])).to_contain_text("removed")
    expect(page.get_by_test_id("segment-member-count")).to_have_text("3")
    assert _members(demo_server, vip_id) == {emails[0], emails[2], emails[3]}

    # The removed person's page: their segments and their entry and exit.
    page.goto(f"/#/people/{cio_ids[emails[1]]}")
    expect(page.get_by_role("heading", name=emails[1])).to_be_visible()
    history = page.get_by_test_id("person-history")
    expect(history.locator("tr", has_text="Exited")).to_contain_text("VIP list")
    expect(history.locator("tr", has_text="Entered").filter(has_text="VIP list")).to_have_count(1)
    # A member's page lists the segment with when they entered.
    page.goto(f"/#/people/{cio_ids[emails[0]]}")
    expect(page.get_by_test_id("person-segments").locator("tr", has_text="VIP list")).to_be_visible()
    screenshot(page, "person")
