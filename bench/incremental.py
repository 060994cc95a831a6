"""Benchmark: the incremental cost of an identify stays flat in the number of segments.

Starts the service (embedded store, memory engine by default) on a free
port of 127.0.0.1, loads the demo data set and defines the 20 segments of
bench/membership.py. Then, for 20 segments and again after 80 more are
added (100 in all, none of the 80 depending on `lifetime_value`), sends
identify calls that change one attribute (`lifetime_value`, moving a person
in or out of "High value"), and once more for 20 after the 80 are deleted
(so that a change of the machine's load in between shows), and measures request -> visible: from sending
the identify until the membership change is readable through GraphQL
(`person { segments }`). It also prints how many segments such an identify
re-evaluates (rules/conditions/dependencies.affected_by), which is what
should stay flat. Figures only; nothing is asserted.

    python -m bench.incremental [--engine memory|sqlite] [--people 2000] [--moves 100]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from bench.ingest import _machine as machine
from bench.ingest import _Server as Server
from bench.membership import HIGH_VALUE, OFFER_VIEWERS, OTHER_SEGMENTS, GraphQLClient, create_segments, demo_workspace, percentile, unlimited_settings, visibility_latency
from rules.conditions.dependencies import affected_by, dependencies
from rules.demo import COUNTRIES, OFFER_PAGES, PLANS, PRODUCTS, TAGS
from rules.segments.records import list_segments, parsed_condition
from rules.topics import ATTRIBUTES, attribute

# What an identify that changes `lifetime_value` tells the membership engine.
LIFETIME_VALUE_CHANGED = {ATTRIBUTES, attribute("lifetime_value")}
# Identify calls sent and not counted before the first measurement: the first
# requests after the builds pay for warming caches (seen: 2-3x slower).
WARM_UP_MOVES = 10
DELETE = "mutation($id: ID!) { deleteSegment(id: $id) { __typename } }"


def more_segments() -> dict[str, dict[str, Any]]:
    """80 segments of every kind over the demo data, none reading `lifetime_value`."""
    conditions: dict[str, dict[str, Any]] = {}
    for country, _ in COUNTRIES:
        for plan, _ in PLANS:
            conditions[f"{plan} in {country}"] = {"all": [{"attribute": {"path": "country", "op": "EQ", "value": country}},
                                                         {"attribute": {"path": "plan", "op": "EQ", "value": plan}}]}
    for plan, _ in PLANS:
        conditions[f"{plan}, newsletter"] = {"all": [{"attribute": {"path": "plan", "op": "EQ", "value": plan}},
                                                     {"attribute": {"path": "newsletter", "op": "EQ", "value": True}}]}
    for tag in TAGS:
        conditions[f"tag {tag}"] = {"attribute": {"path": "tags", "op": "CONTAINS", "value": tag}}
    for page in range(1, OFFER_PAGES + 1):
        conditions[f"viewed offer {page}"] = {"pageView": {"url": {"op": "EQ", "value": f"/offers/{page}"}}}
    for product, _ in PRODUCTS:
        for name in ("purchase", "add_to_cart"):
            conditions[f"{name} {product}"] = {"event": {"name": name, "filters": [{"path": "product", "op": "EQ", "value": product}]}}
    for method in ("password", "google", "sso"):
        conditions[f"signs in with {method}"] = {"event": {"name": "signed_in", "filters": [{"path": "method", "op": "EQ", "value": method}]}}
    for campaign in ("cmp_welcome", "cmp_spring_sale", "cmp_app_nudge"):
        for metric in ("OPENED", "CLICKED"):
            conditions[f"{metric.lower()} {campaign}"] = {"message": {"metric": metric, "campaignId": campaign}}
    for times in range(2, 2 + 80 - len(conditions)):
        conditions[f"{times}+ purchases"] = {"event": {"name": "purchase", "count": {"op": "AT_LEAST", "value": times}}}
    return conditions


def reevaluated_per_identify(server: Server, workspace_id: str) -> tuple[int, int]:
    """(segments an identify changing lifetime_value re-evaluates first, segments defined)."""
    segments = server.call(lambda db: list_segments(db, workspace_id))
    conditions = [c for c in map(parsed_condition, segments) if c is not None]
    return sum(affected_by(dependencies(c), LIFETIME_VALUE_CHANGED) for c in conditions), len(segments)


def measure(server: Server, workspace: dict, graphql: GraphQLClient, high_value: str, moves: int) -> list[float]:
    to_200, to_visible = visibility_latency(workspace, server.base_url, graphql, high_value, moves)
    seeds, defined = reevaluated_per_identify(server, workspace["workspaceId"])
    visible = [answered + seen for answered, seen in zip(to_200, to_visible)]
    print(f"{defined} segments, {seeds} re-evaluated by the identify (plus those referring to a segment it moves):")
    print(f"  request -> visible: p50 {percentile(visible, 50) * 1000:.1f} ms, p99 {percentile(visible, 99) * 1000:.1f} ms, "
          f"max {max(visible) * 1000:.1f} ms (n={len(visible)}); request -> 200: p50 {percentile(to_200, 50) * 1000:.1f} ms")
    return visible


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=("memory", "sqlite"), default="memory")
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--moves", type=int, default=100, help="identify calls per measurement")
    args = parser.parse_args(argv)

    print(f"machine: {machine()}")
    print(f"store: embedded {args.engine}; demo data, {args.people} people")
    settings = unlimited_settings(args.engine, "bench-incremental-")
    with Server(settings) as server:
        workspace, _ = demo_workspace(server, args.people)
        graphql = GraphQLClient(server.base_url, workspace["appApiKey"])
        ids = create_segments(server, graphql, {"High value": HIGH_VALUE, "Hot offer": OFFER_VIEWERS, **OTHER_SEGMENTS})
        ids |= create_segments(server, graphql, {"High value, not pro": {
            "all": [{"segment": {"id": ids["High value"]}}, {"not": {"segment": {"id": ids["Pro plan"]}}}]}})
        visibility_latency(workspace, server.base_url, graphql, ids["High value"], WARM_UP_MOVES)
        with_20 = measure(server, workspace, graphql, ids["High value"], args.moves)

        started = time.perf_counter()
        more = create_segments(server, graphql, more_segments())
        print(f"\n80 more segments created and built in {time.perf_counter() - started:.1f} s\n")
        with_100 = measure(server, workspace, graphql, ids["High value"], args.moves)

        # 20 again, after the 100: a drift of the machine's load shows as a difference between the two 20s.
        for segment_id in more.values():
            deleted = graphql(DELETE, {"id": segment_id})["deleteSegment"]
            if deleted.get("__typename") != "DeletedSegment":
                raise RuntimeError(f"deleting {segment_id}: {deleted}")
        print()
        with_20_again = measure(server, workspace, graphql, ids["High value"], args.moves)

        for p in (50, 99):
            print(f"ratio 100 / 20 segments, p{p}: {percentile(with_100, p) / percentile(with_20, p):.2f}x against the first 20, "
                  f"{percentile(with_100, p) / percentile(with_20_again, p):.2f}x against the 20 after")


if __name__ == "__main__":
    main()
