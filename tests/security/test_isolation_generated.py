"""Isolation, generated: workspace A's keys, given workspace B's ids, cioIds,
emails, segment ids, delivery ids, device tokens and cursors, read and
change nothing of B, through every query, mutation and subscription field
and every HTTP route.

Nothing here lists operations: root fields come from the running service's
introspection and routes from its Starlette route table; arguments are
built from their GraphQL types (any String/ID position receives the foreign
value, enums take each of their values, input objects are filled field by
field, `@oneOf` inputs one member at a time). A type the generator cannot
fill fails the test, so a new operation is covered, or loudly not.

Values that exist in both workspaces (`shared`, `shared@example.com`) and in
B only (`only-b`, B's cioIds and segment ids, which are store-wide unique
`_id`s) are both tried. A leak is any of B's own strings (other than the
foreign value itself, which error messages may echo) in a response; a
change is any difference in B's documents.
"""

from __future__ import annotations

import itertools
import json
import random
import time
from urllib.parse import quote

import graphql
import httpx
from websockets.sync.client import connect

from tests.conftest import HTTP
from tests.security.conftest import DEEP, Tenant, store_contents

MAX_VARIANTS_PER_VALUE = 4 if DEEP else 2  # argument sets tried per (operation, foreign value)
SELECTION_DEPTH = 3
UPLOAD = object()  # marks an Upload position: sent as a multipart file holding the foreign value


class NoGenerator(Exception):
    pass


def _foreign_values(b: Tenant) -> list[str]:
    return sorted(
        {"shared", "shared@example.com", b.own_id, b.own_email, "token-of-b-shared", "secret-of-b-delivery"}
        | set(b.cio_ids.values()) | set(b.segment_ids.values()) | set(b.cursors) | set(b.endpoint_ids)
    )  # fmt: skip


# ---------------------------------------------------------------- argument values from types


def _values(type_: graphql.GraphQLInputType, foreign: str, depth: int = 0) -> list:
    """Candidate values of `type_` carrying `foreign` wherever a string goes."""
    if isinstance(type_, graphql.GraphQLNonNull):
        return [v for v in _values(type_.of_type, foreign, depth) if v is not None]
    if isinstance(type_, graphql.GraphQLList):
        return [[v] for v in _values(type_.of_type, foreign, depth)[:3]]
    if isinstance(type_, graphql.GraphQLEnumType):
        return list(type_.values)
    if isinstance(type_, graphql.GraphQLScalarType):
        match type_.name:
            case "ID" | "String" | "JSON":
                return [foreign]
            case "Int":
                return [5]
            case "Float":
                return [1.5]
            case "Boolean":
                return [True, False]
            case "DateTime":
                return ["2000-01-01T00:00:00Z"]
            case "Upload":
                return [UPLOAD]
        raise NoGenerator(f"no value generator for scalar {type_.name}")
    if isinstance(type_, graphql.GraphQLInputObjectType):
        if depth > 4:
            return []
        fields = type_.fields
        if type_.is_one_of:
            return [{name: v} for name, field in fields.items() for v in _values(field.type, foreign, depth + 1)[:4]]
        required = {n: f for n, f in fields.items() if graphql.is_required_input_field(f)}
        base = {}
        for name, field in required.items():
            options = _values(field.type, foreign, depth + 1)
            if not options:
                return []
            base[name] = options[0]
        variants = [base]
        for name, field in fields.items():
            if name not in required:
                variants += [{**base, name: v} for v in _values(field.type, foreign, depth + 1)[:3]]
        return variants
    raise NoGenerator(f"no value generator for {type_}")


def _argument_sets(field: graphql.GraphQLField, foreign: str, rng: random.Random) -> list[dict]:
    """Required arguments always; each optional argument in turn."""
    candidates = {name: _values(arg.type, foreign) for name, arg in field.args.items()}
    required = [n for n, a in field.args.items() if graphql.is_required_argument(a)]
    if any(not candidates[n] for n in required):
        raise NoGenerator(f"cannot fill a required argument among {required}")
    sets = [dict(choice) for choice in itertools.product(*[[(n, v) for v in candidates[n]] for n in required])]
    base = sets[0] if sets else {}
    for name in field.args:
        if name not in required:
            sets += [{**base, name: v} for v in candidates[name]]
    unique = list({json.dumps(s, sort_keys=True, default=str): s for s in sets}.values())
    return unique if len(unique) <= MAX_VARIANTS_PER_VALUE else rng.sample(unique, MAX_VARIANTS_PER_VALUE)


# ---------------------------------------------------------------- selections from types


def _arguments_text(args: dict, field: graphql.GraphQLField) -> str:
    parts = []
    for name, value in args.items():
        parts.append(f"{name}: {_typed_literal(value, field.args[name].type)}")
    return f"({', '.join(parts)})" if parts else ""


def _typed_literal(value, type_) -> str:
    named = graphql.get_nullable_type(type_)
    if value is UPLOAD:
        return "$file"
    if isinstance(named, graphql.GraphQLList):
        return "[" + ", ".join(_typed_literal(v, named.of_type) for v in value) + "]"
    if isinstance(named, graphql.GraphQLEnumType):
        return value
    if isinstance(named, graphql.GraphQLInputObjectType):
        return "{" + ", ".join(f"{k}: {_typed_literal(v, named.fields[k].type)}" for k, v in value.items()) + "}"
    return json.dumps(value)


def _selection(type_: graphql.GraphQLOutputType, foreign: str | None, depth: int) -> str:
    """Every field to SELECTION_DEPTH; with `foreign`, nested scalar arguments (cursors, names) carry it."""
    named = graphql.get_named_type(type_)
    if isinstance(named, (graphql.GraphQLScalarType, graphql.GraphQLEnumType)):
        return ""
    if isinstance(named, (graphql.GraphQLUnionType, graphql.GraphQLInterfaceType)):
        members = _SCHEMA.get_possible_types(named)
        return "{ __typename " + " ".join(f"... on {m.name} {_selection(m, foreign, depth)}" for m in members) + " }"
    parts = ["__typename"]
    for name, field in named.fields.items():
        child = graphql.get_named_type(field.type)
        leaf = isinstance(child, (graphql.GraphQLScalarType, graphql.GraphQLEnumType))
        if not leaf and depth >= SELECTION_DEPTH:
            continue
        # Nested arguments: cursors and ids get the foreign value too (B's cursor into A's connection).
        args = {}
        for arg_name, arg in field.args.items():
            given = foreign is not None and isinstance(graphql.get_named_type(arg.type), graphql.GraphQLScalarType)
            if graphql.is_required_argument(arg) or given:
                options = [v for v in _values(arg.type, foreign or "x") if v is not UPLOAD]
                if options:
                    args[arg_name] = options[0]
        text = name + (_arguments_text(args, field) if args else "")
        parts.append(text if leaf else f"{text} {_selection(field.type, foreign, depth + 1)}")
    return "{ " + " ".join(parts) + " }"


_SCHEMA: graphql.GraphQLSchema


def _operations(schema: graphql.GraphQLSchema, foreign: str, rng: random.Random):
    """(kind, field name, document, has upload) for every root field."""
    for kind, root in (("query", schema.query_type), ("mutation", schema.mutation_type), ("subscription", schema.subscription_type)):
        if root is None:
            continue
        for name, field in root.fields.items():
            for args in _argument_sets(field, foreign, rng):
                upload = any(v is UPLOAD for v in args.values())
                header = f"{kind}($file: Upload)" if upload else kind
                # Plain, and with the foreign value in nested arguments too (B's cursor into A's
                # connection); apart, because an invalid cursor nulls the data around it.
                for nested in (None, foreign) if kind == "query" else (None,):
                    selection = _selection(field.type, nested, 1)
                    yield kind, name, f"{header} {{ {name}{_arguments_text(args, field)} {selection} }}", upload


# ---------------------------------------------------------------- checks


def _strings(value) -> set[str]:
    """Every string value and key inside a JSON-like value."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*(_strings(k) | _strings(v) for k, v in value.items())) if value else set()
    if isinstance(value, (list, tuple)):
        return set().union(*(_strings(v) for v in value)) if value else set()
    return set()


def _leaks(text: str, b: Tenant, foreign: str, a_values: set[str]) -> list[str]:
    """B's markers in a response, except inside the echoed foreign value or in a string A holds itself."""
    try:
        values = _strings(json.loads(text))
    except ValueError:
        values = {text}
    return sorted(
        {m for value in values if value not in a_values for m in b.markers if m in value.replace(foreign, "\x00")}
    )


def _a_values(server, a: Tenant) -> set[str]:
    return _strings(store_contents(server, a))


def _send_graphql(server, a: Tenant, document: str, upload: bool, foreign: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {a.workspace['appApiKey']}"}
    if not upload:
        return HTTP.post(f"{server.base_url}/graphql", json={"query": document}, headers=headers, timeout=60)
    operations = json.dumps({"query": document, "variables": {"file": None}})
    files = {"0": ("members.csv", f"id\n{foreign}\n".encode(), "text/csv")}
    data = {"operations": operations, "map": json.dumps({"0": ["variables.file"]})}
    return HTTP.post(f"{server.base_url}/graphql", data=data, files=files, headers={**headers, "GraphQL-Require-Preflight": "1"}, timeout=60)


def _subscription_messages(server, a: Tenant, b: Tenant, document: str) -> list[str]:
    """What A's subscription receives while B's memberships change."""
    url = server.base_url.replace("http://", "ws://") + "/graphql"
    received = []
    with connect(url, subprotocols=["graphql-transport-ws"], open_timeout=10) as socket:
        socket.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {a.workspace['appApiKey']}"}}))
        received.append(socket.recv(10))
        socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": document}}))
        time.sleep(0.2)
        for mutation in ("removePeopleFromSegment", "addPeopleToSegment"):
            server.graphql(b.workspace, f'mutation {{ {mutation}(segmentId: "{b.segment_ids["manual"]}", ids: ["only-b"]) {{ __typename }} }}')
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            try:
                received.append(socket.recv(max(0.01, deadline - time.monotonic())))
            except TimeoutError:
                break
    return received


def test_a_foreign_workspaces_identifiers_reach_nothing_of_it(two_workspaces):
    global _SCHEMA
    server, a, b = two_workspaces
    introspection = server.graphql(a.workspace, graphql.get_introspection_query())
    _SCHEMA = graphql.build_client_schema(introspection["data"])
    rng = random.Random(7)
    foreign_values = _foreign_values(b)
    before_b = store_contents(server, b)
    a_values = _a_values(server, a)
    tried: dict[str, int] = {}
    covered: set[str] = set()
    missing_generators: list[str] = []
    failures: list[str] = []
    for foreign in foreign_values:
        try:
            operations = list(_operations(_SCHEMA, foreign, rng))
        except NoGenerator as missing:
            missing_generators.append(str(missing))
            continue
        for kind, name, document, upload in operations:
            if kind == "subscription":
                text = json.dumps([json.loads(message) for message in _subscription_messages(server, a, b, document)])
            else:
                response = _send_graphql(server, a, document, upload, foreign)
                if response.status_code >= 500:
                    failures.append(f"{kind} {name}: HTTP {response.status_code}\n{document}")
                text = response.text
            tried[kind] = tried.get(kind, 0) + 1
            covered.add(f"{kind} {name}")
            if kind == "mutation":
                _adopt_rotated_key(a, text)
                a_values = _a_values(server, a)  # A may now legitimately hold values named like B's
            if leaks := _leaks(text, b, foreign, a_values):
                failures.append(f"{kind} {name} leaked {leaks} given {foreign!r}:\n{document}\n{text[:500]}")
            if kind == "subscription":
                before_b = store_contents(server, b)  # B's own changes, made by B's key to feed the stream
            elif kind == "mutation" and store_contents(server, b) != before_b:
                failures.append(f"{kind} {name} changed workspace B given {foreign!r}:\n{document}")
                before_b = store_contents(server, b)
    print(f"\nIsolation (GraphQL): {tried} requests over {len(covered)} root fields, {len(failures)} failures")
    assert not missing_generators, missing_generators
    roots = {f"{kind} {name}" for kind, root in (("query", _SCHEMA.query_type), ("mutation", _SCHEMA.mutation_type), ("subscription", _SCHEMA.subscription_type)) if root for name in root.fields}
    assert covered == roots
    assert not failures, "\n\n".join(failures[:10])
    # A's rotateApiKey replaced A's keys only: B's still open B.
    assert server.graphql(b.workspace, "{ workspace { id } }")["data"]["workspace"]["id"] == b.workspace["workspaceId"]


def _adopt_rotated_key(a: Tenant, text: str) -> None:
    """`rotateApiKey` replaces the key A authenticates with: go on with the new one."""
    try:
        rotated = (json.loads(text).get("data") or {}).get("rotateApiKey") or {}
    except ValueError:
        return
    if rotated.get("key"):
        a.workspace[{"APP": "appApiKey", "TRACK": "trackApiKey"}[rotated["kind"]]] = rotated["key"]


GENERIC_BODY_KEYS = ("id", "email", "cio_id", "anonymous_id", "userId", "anonymousId", "previousId", "groupId", "customer_id")


def _route_body(foreign: str) -> bytes:
    """A body naming the foreign value everywhere an identifier usually goes (Customer.io and Segment shapes)."""
    person = {"id": foreign}
    body = {key: foreign for key in GENERIC_BODY_KEYS} | {
        "ids": [foreign], "primary": person, "secondary": person, "identifiers": person, "person": person,
        "type": "person", "action": "delete", "name": foreign, "device": {"id": foreign, "token": foreign},
        "batch": [{"type": "person", "action": "delete", "identifiers": person}, {"type": "track", "userId": foreign, "event": foreign}],
    }  # fmt: skip
    return json.dumps(body).encode()


def test_every_route_with_a_foreign_workspaces_identifiers_reaches_nothing_of_it(two_workspaces):
    server, a, b = two_workspaces
    # Cursors are GraphQL's; no route reads one (the deep profile tries them anyway).
    foreign_values = [value for value in _foreign_values(b) if DEEP or value not in b.cursors]
    credentials = {
        "app key": {"Authorization": f"Bearer {a.workspace['appApiKey']}"},
        "track key": {"Authorization": httpx.BasicAuth(a.workspace["siteId"], a.workspace["trackApiKey"])._auth_header},
        # Segment-spec routes (/v1/*): the write key is the user name, the password empty.
        "write key": {"Authorization": httpx.BasicAuth(a.workspace["trackApiKey"], "")._auth_header},
    }
    routes = [route for route in server.app.routes if hasattr(route, "methods") and route.methods]
    before_b = store_contents(server, b)
    failures, tried = [], 0
    for route in routes:
        params = list(route.param_convertors)
        for method in sorted(route.methods - {"HEAD"}):
            a_values = _a_values(server, a)
            # Every credential is tried with the first foreign value; a credential
            # the route refuses (401) reaches no handler, so only the accepted
            # ones go on to the other values.
            accepted = dict(credentials)
            for index, foreign in enumerate(foreign_values):
                path = route.path_format
                for param in params:
                    path = path.replace("{" + param + "}", quote(foreign, safe=""))
                for who, headers in list(accepted.items()):
                    for query in ("", "?id_type=email", "?id_type=cio_id"):  # id is the default
                        response = HTTP.request(
                            method, server.base_url + path + query, content=_route_body(foreign), timeout=60,
                            headers={**headers, "content-type": "application/json"},
                        )  # fmt: skip
                        tried += 1
                        if index == 0 and response.status_code == 401:
                            accepted.pop(who, None)
                        if response.status_code >= 500:
                            failures.append(f"{method} {path}{query} ({who}): HTTP {response.status_code}")
                        if leaks := _leaks(response.text, b, foreign, a_values):
                            failures.append(f"{method} {path}{query} ({who}) leaked {leaks}: {response.text[:300]}")
                        if query and not DEEP and "identifier" not in params:
                            break  # `id_type` only matters to routes that take a person's identifier
                if method != "GET" and store_contents(server, b) != before_b:
                    failures.append(f"{method} {route.path} changed workspace B given {foreign!r}")
                    before_b = store_contents(server, b)
    print(f"\nIsolation (routes): {tried} requests over {len(routes)} routes, {len(failures)} failures")
    assert store_contents(server, b) == before_b
    assert not failures, "\n".join(failures[:20])
