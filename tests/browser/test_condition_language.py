"""The builder covers the whole condition language: every kind of node, value
editors by operator, property filters, counts and both kinds of window,
built by clicking and typing only; the JSON it produces, the count it
previews and the members it saves agree with the API. And a person's page
shows their activity as the API has it."""

from __future__ import annotations

import json
import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in

JAN_1_2026 = 1_767_225_600


def _graphql_form(condition):
    """The JSON form with operators, count operators and metrics as GraphQL enum values."""
    if isinstance(condition, list):
        return [_graphql_form(item) for item in condition]
    if not isinstance(condition, dict):
        return condition
    converted = {}
    for name, value in condition.items():
        if name in ("op", "metric"):
            converted[name] = re.sub(r"([A-Z])", r"_\1", value).upper()
        elif name == "value":
            converted[name] = value
        else:
            converted[name] = _graphql_form(value)
    return converted


def _add(page: Page, pointer: str, kind: str) -> None:
    page.locator('[data-pointer="/condition"] > .group > button', has_text="+ Add condition").click()
    page.locator(f'[data-pointer="{pointer}"]').get_by_label("Condition type").first.select_option(label=kind)


def test_every_kind_of_condition_is_built_by_clicking(page: Page, demo_server):
    workspace = demo_server.workspace
    created = demo_server.graphql(
        workspace,
        "mutation ($c: ConditionInput!) { createSegment(input: {name: \"Newsletter readers\", condition: $c}) { ... on Segment { id } } }",
        {"c": {"attribute": {"path": "newsletter", "op": "EQ", "value": True}}},
    )
    referenced = created["data"]["createSegment"]["id"]
    demo_server.call(lambda services: services.membership.wait_for_builds())

    sign_in(page, workspace["appApiKey"])
    page.get_by_role("link", name="New segment").first.click()
    page.get_by_label("Name").fill("Everything")
    page.locator('[data-pointer="/condition"]').get_by_label("Condition type").first.select_option(label="Any of")

    plan = page.locator('[data-pointer="/condition/any/0"]')
    plan.get_by_label("Attribute path").fill("plan")
    plan.get_by_label("Operator").select_option(label="is one of")
    plan.get_by_label("Values (comma-separated)").fill("pro, enterprise")

    _add(page, "/condition/any/1", "Attribute")
    value = page.locator('[data-pointer="/condition/any/1"]')
    value.get_by_label("Attribute path").fill("lifetime_value")
    value.get_by_label("Operator").select_option(label="is between")
    value.get_by_label("From value").fill("1000")
    value.get_by_label("To value").fill("5000")

    _add(page, "/condition/any/2", "Attribute")
    recent = page.locator('[data-pointer="/condition/any/2"]')
    recent.get_by_label("Attribute path").fill("last_seen")
    recent.get_by_label("Operator").select_option(label="is within the last")
    recent.get_by_label("Amount").fill("30")

    _add(page, "/condition/any/3", "Event")
    cart = page.locator('[data-pointer="/condition/any/3"]')
    cart.get_by_label("Event name").fill("add_to_cart")
    cart.get_by_role("button", name="+ Add property filter").click()
    cart.get_by_label("Property").fill("price")
    cart.get_by_label("Operator").select_option(label="is greater than")
    cart.get_by_label("Value", exact=True).fill("50")
    cart.get_by_label("How often").select_option(label="at most")
    cart.get_by_label("Times").fill("2")
    cart.get_by_label("When").select_option(label="between dates")
    cart.get_by_label("From", exact=True).fill("2026-01-01T00:00")

    _add(page, "/condition/any/4", "Device")
    device = page.locator('[data-pointer="/condition/any/4"]')
    device.get_by_label("Platform").fill("ios")
    device.get_by_label("Last used").select_option(label="within the last")
    device.get_by_label("Amount").fill("30")
    device.get_by_role("button", name="+ Add property filter").click()
    device.get_by_label("Property").fill("push_enabled")
    device.get_by_label("Value", exact=True).fill("true")
    device.get_by_label("Value type").select_option(label="true/false")

    _add(page, "/condition/any/5", "Message")
    message = page.locator('[data-pointer="/condition/any/5"]')
    message.get_by_label("Metric").select_option("clicked")
    message.get_by_label("Campaign id").fill("cmp_spring_sale")
    message.get_by_label("How often").select_option(label="exactly")
    message.get_by_label("When").select_option(label="within the last")
    message.get_by_label("Amount").fill("90")

    _add(page, "/condition/any/6", "Not")
    page.locator('[data-pointer="/condition/any/6/not"]').get_by_label("Condition type").select_option(label="Segment")
    page.locator('[data-pointer="/condition/any/6/not"]').get_by_label("Segment", exact=True).select_option(label="Newsletter readers")

    expected = {
        "any": [
            {"attribute": {"path": "plan", "op": "in", "value": ["pro", "enterprise"]}},
            {"attribute": {"path": "lifetime_value", "op": "between", "value": [1000, 5000]}},
            {"attribute": {"path": "last_seen", "op": "withinLast", "value": {"days": 30}}},
            {
                "event": {
                    "name": "add_to_cart",
                    "filters": [{"path": "price", "op": "gt", "value": 50}],
                    "count": {"op": "atMost", "value": 2},
                    "window": {"from": JAN_1_2026},
                }
            },
            {
                "device": {
                    "platform": "ios",
                    "lastUsed": {"within": {"days": 30}},
                    "filters": [{"path": "push_enabled", "op": "eq", "value": True}],
                }
            },
            {
                "message": {
                    "metric": "clicked",
                    "campaignId": "cmp_spring_sale",
                    "count": {"op": "exactly", "value": 1},
                    "window": {"within": {"days": 90}},
                }
            },
            {"not": {"segment": {"id": referenced, "member": True}}},
        ]
    }
    page.get_by_role("button", name="Show as JSON").click()
    assert json.loads(page.get_by_label("Condition as JSON").input_value()) == expected

    preview = demo_server.graphql(
        workspace, "query ($c: ConditionInput!) { previewSegment(condition: $c) { count } }", {"c": _graphql_form(expected)}
    )
    count = preview["data"]["previewSegment"]["count"]
    assert 0 < count < 400
    expect(page.get_by_test_id("preview-count")).to_have_text(f"{count:,}")
    page.get_by_role("button", name="Save segment").click()
    expect(page.locator(".facts .badge")).to_have_text("Ready", timeout=30_000)
    expect(page.get_by_test_id("segment-member-count")).to_have_text(f"{count:,}")


def test_a_persons_page_shows_their_activity(page: Page, demo_server):
    people = demo_server.graphql(
        demo_server.workspace,
        """{ people(first: 40) { edges { node {
             cioId email attributes devices { token platform }
             deliveries { totalCount } pageViews: events(type: PAGE) { totalCount } events(type: EVENT) { totalCount } } } } }""",
    )["data"]["people"]["edges"]
    person = next(
        p["node"] for p in people if p["node"]["devices"] and p["node"]["deliveries"]["totalCount"] and p["node"]["pageViews"]["totalCount"]
    )
    sign_in(page, demo_server.workspace["appApiKey"])
    page.goto(f"/#/people/{person['cioId']}")
    expect(page.get_by_role("heading", name=person["email"])).to_be_visible()
    expect(page.get_by_role("heading", name=f"Deliveries ({person['deliveries']['totalCount']})")).to_be_visible()
    expect(page.get_by_role("heading", name=f"Recent page views ({person['pageViews']['totalCount']})")).to_be_visible()
    expect(page.get_by_role("heading", name=f"Recent events ({person['events']['totalCount']})")).to_be_visible()
    expect(page.get_by_role("heading", name=f"Devices ({len(person['devices'])})")).to_be_visible()
    expect(page.get_by_text(person["devices"][0]["token"])).to_be_visible()
    expect(page.locator("pre.json")).to_contain_text(f'"plan": "{person["attributes"]["plan"]}"')

    # Search by attribute, from the people page.
    page.get_by_role("link", name="People", exact=True).click()
    page.get_by_label("Attribute").fill("plan")
    page.get_by_label("equals").fill("enterprise")
    page.get_by_role("button", name="Search").click()
    total = demo_server.graphql(
        demo_server.workspace, '{ people(attribute: {path: "plan", value: "enterprise"}) { totalCount } }'
    )["data"]["people"]["totalCount"]
    expect(page.locator(".pager")).to_contain_text(f"of {total:,} people")

    # Everyone NOT in a segment, by exact profile id too.
    created = demo_server.graphql(
        demo_server.workspace,
        'mutation { createSegment(input: {name: "Free plan", condition: {attribute: {path: "plan", op: EQ, value: "free"}}}) '
        "{ ... on Segment { id } } }",
    )
    free = created["data"]["createSegment"]["id"]
    demo_server.call(lambda services: services.membership.wait_for_builds())
    page.get_by_role("link", name="Clear").click()
    page.get_by_label("Not in segment").select_option(label="Free plan")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("search-summary")).to_have_text("People not in Free plan")
    outside = demo_server.graphql(
        demo_server.workspace, "query ($s: ID!) { people(notInSegmentId: $s) { totalCount } }", {"s": free}
    )["data"]["people"]["totalCount"]
    expect(page.locator(".pager")).to_contain_text(f"of {outside:,} people")
    page.get_by_role("link", name="Clear").click()
    page.get_by_label("Profile id").fill("user-000007")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".people-table tbody tr")).to_have_count(1)
    expect(page.locator(".people-table tbody tr")).to_contain_text("user-000007")
