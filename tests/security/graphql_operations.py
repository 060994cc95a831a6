"""GraphQL operations generated from the committed schema by
hypothesis-graphql, with scalars drawn where bugs live: identifiers of both
workspaces and odd strings for ID and String, 32-bit extremes for Int,
extreme and malformed datetimes, nested JSON with huge numbers.

Drawing an operation costs tens of milliseconds, so a separate process
(`produce`) draws them while the test sends them: generation and the
server each get a core.
"""

from __future__ import annotations

from pathlib import Path

import graphql
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes

SCHEMA = Path(__file__).resolve().parents[2] / "schema.graphql"

ODD_STRINGS = [
    "", " ", "/", "%2F", "..", "../..", "\x00", "\ud800", "\uffff", "💥", "a" * 10_000, "null", "0", "-1",
    "1e400", "NaN", "seg_", "cio_", "ws_", "$where", "{\"$gt\": \"\"}", ".*", "^(a+)+$", "=1+1", "\n", "\t",
]  # fmt: skip
EXTREME_DATETIMES = [
    "0001-01-01T00:00:00", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999", "9999-12-31T23:59:59+14:00",
    "0001-01-01T00:00:00-14:00", "1970-01-01T00:00:00Z", "2026-13-01T00:00:00", "not a date", "", "10000-01-01",
    "2026-01-01", "2026-01-01T00:00:00.000000001Z", "-0001-01-01T00:00:00",
]  # fmt: skip
EXTREME_INTS = [0, 1, -1, 2**31 - 1, -(2**31), 100, 101, 1000, 1001, 10_000]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def _json_node(value) -> graphql.ValueNode:
    if value is None:
        return graphql.NullValueNode()
    if isinstance(value, bool):
        return nodes.Boolean(value)
    if isinstance(value, int):
        return nodes.Int(value)
    if isinstance(value, float):
        return nodes.Float(value)
    if isinstance(value, str):
        return nodes.String(value)
    if isinstance(value, list):
        return nodes.List([_json_node(v) for v in value])
    return nodes.Object([graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=_json_node(v)) for k, v in value.items() if k.isidentifier()])


def _operations(identifiers: list[str]) -> st.SearchStrategy[str]:
    strings = st.one_of(st.sampled_from(identifiers + ODD_STRINGS), st.text(max_size=30))
    scalars = {
        "ID": strings.map(nodes.String),
        "String": strings.map(nodes.String),
        "Int": st.one_of(st.sampled_from(EXTREME_INTS), st.integers(-(2**31), 2**31 - 1)).map(nodes.Int),
        "DateTime": st.one_of(
            st.sampled_from(EXTREME_DATETIMES), st.datetimes(timezones=st.none() | st.timezones()).map(lambda d: d.isoformat())
        ).map(nodes.String),
        "JSON": json_values.map(_json_node),
        "Upload": st.just(graphql.NullValueNode()),
    }
    schema = SCHEMA.read_text()
    return st.one_of(
        from_schema(schema, custom_scalars=scalars, mode=Mode.POSITIVE),
        from_schema(schema, custom_scalars=scalars, mode=Mode.NEGATIVE),
    )




def produce(identifiers: list[str], count: int, queue) -> None:
    """Put `count` generated operations on `queue`, then None."""

    @settings(max_examples=count, deadline=None, database=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(query=_operations(identifiers))
    def draw(query: str) -> None:
        queue.put(query)

    try:
        draw()
    finally:
        queue.put(None)
