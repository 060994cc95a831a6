"""JSON bodies of the Track API -> validated operations (rules.ingest.operations).

Customer.io's documented limits apply: at most 300 attributes per request,
attribute names up to 150 bytes and values up to 1000 bytes, event names up
to 100 bytes, event data up to 100,000 bytes, identifiers up to 150 bytes.
Request-size limits (v2 batch 500 KB, v2 entity 32 KB) are checked by the
transport before parsing. Parsing never touches the store.
"""

from __future__ import annotations

import json
import math
from typing import Any

from rules.people.identifiers import (
    MAX_IDENTIFIER_BYTES,
    Identifier,
    IdKind,
    InvalidIdentifier,
    identifier_problem,
    parse_identifier,
)
from rules.store.documents import DELIVERY_METRICS, EVENT_TYPES, RESERVED_ATTRIBUTE_KEYS
from rules.ingest.operations import (
    UNSET,
    AddDevice,
    DeleteDevice,
    DeletePerson,
    DeliveryMetric,
    Identify,
    IngestError,
    Merge,
    Operation,
    SetSuppressed,
    TrackEvent,
    Unset,
)

MAX_ATTRIBUTES = 300
MAX_ATTRIBUTE_NAME_BYTES = 150
MAX_ATTRIBUTE_VALUE_BYTES = 1000
MAX_EVENT_NAME_BYTES = 100
MAX_PAGE_URL_BYTES = 1000  # a page view's name is its URL; URLs are often longer than 100 bytes
MAX_EVENT_DATA_BYTES = 100_000
MAX_TOKEN_BYTES = 1000  # FCM tokens are ~160 characters; APNs 64
MAX_METADATA_BYTES = 150
MAX_NESTING = 32
# Unix seconds; a larger number is almost certainly milliseconds.
MAX_TIMESTAMP = 100_000_000_000
INT64 = 2**63

PERSON_ACTIONS = ("identify", "delete", "event", "page", "screen", "add_device", "delete_device", "suppress", "unsuppress", "merge")
UNSUPPORTED_PERSON_ACTIONS = ("add_relationship", "delete_relationship", "identify_anonymous")


def _nbytes(text: str) -> int:
    return len(text.encode("utf-8"))


def _json_size(value: Any) -> int:
    return _nbytes(value) if isinstance(value, str) else _nbytes(json.dumps(value, separators=(",", ":"), ensure_ascii=False))


def _check_json_value(value: Any, where: str, depth: int = 0) -> None:
    """Values must be storable on every engine: int64 integers, `$`-free and NUL-free keys, bounded nesting."""
    if depth > MAX_NESTING:
        raise IngestError(field=where, problem=f"nested more than {MAX_NESTING} levels")
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        if not -INT64 <= value < INT64:
            raise IngestError(field=where, problem="integer does not fit in 64 bits")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise IngestError(field=where, problem="must be a finite number")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_json_value(item, f"{where}[{index}]", depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key.startswith("$") or "\x00" in key:
                raise IngestError(field=f"{where}.{key}", problem="keys cannot start with '$' or contain NUL")
            _check_json_value(item, f"{where}.{key}", depth + 1)


def _object(value: Any, where: str, *, required: bool = True) -> dict[str, Any]:
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise IngestError(field=where, problem=f"must be an object, got {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "array", dict: "object"}.get(type(value), "null")


def _string(value: Any, where: str, *, max_bytes: int) -> str:
    if not isinstance(value, str):
        raise IngestError(field=where, problem=f"must be a string, got {_kind(value)}")
    value = value.strip()
    if not value:
        raise IngestError(field=where, problem="must not be empty")
    if _nbytes(value) > max_bytes:
        raise IngestError(field=where, problem=f"must be at most {max_bytes} bytes")
    return value


def _optional_string(value: Any, where: str, *, max_bytes: int = MAX_METADATA_BYTES) -> str | None:
    return None if value is None else _string(value, where, max_bytes=max_bytes)


def _id_value(value: Any, where: str) -> str:
    """Profile ids and client event ids: strings, or integers as Customer.io accepts."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return _string(value, where, max_bytes=MAX_IDENTIFIER_BYTES)


def _timestamp(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise IngestError(field=where, problem=f"must be a number (Unix seconds), got {_kind(value)}")
    if not math.isfinite(value) or not 0 <= value < MAX_TIMESTAMP:
        raise IngestError(field=where, problem="must be Unix seconds (0 to 10^11; milliseconds are not accepted)")
    return float(value)


def _identifier(kind: IdKind, value: Any, where: str) -> Identifier:
    if kind is not IdKind.CIO_ID and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    problem = identifier_problem(kind, value)
    if problem:
        raise IngestError(field=where, problem=problem)
    return Identifier(kind=kind, value=value)


def path_identifier(raw: str, where: str = "identifier") -> Identifier:
    """The `{identifier}` of a v1 path: cio_<cioId>, an email, or a profile id."""
    try:
        return parse_identifier(raw)
    except InvalidIdentifier as error:
        raise IngestError(field=where, problem=str(error)) from None


def identifiers_object(value: Any, where: str) -> Identifier:
    """`{"id": ...}`, `{"email": ...}` or `{"cio_id": ...}`: exactly one."""
    given = _object(value, where)
    kinds = [kind for kind in IdKind if kind.value in given]
    if len(kinds) != 1 or len(given) != 1:
        raise IngestError(field=where, problem="must hold exactly one of id, email, cio_id")
    kind = kinds[0]
    return _identifier(kind, given[kind.value], f"{where}.{kind.value}")


def _attributes(raw: dict[str, Any], where: str) -> dict[str, Any]:
    """Attribute changes (None removes), without the reserved keys."""
    attributes = {key: value for key, value in raw.items() if key not in RESERVED_ATTRIBUTE_KEYS}
    if len(attributes) > MAX_ATTRIBUTES:
        raise IngestError(field=where, problem=f"at most {MAX_ATTRIBUTES} attributes per request, got {len(attributes)}")
    for name, value in attributes.items():
        at = f"{where}.{name}"
        if not name.strip():
            raise IngestError(field=at, problem="attribute names must not be empty")
        if _nbytes(name) > MAX_ATTRIBUTE_NAME_BYTES:
            raise IngestError(field=at, problem=f"attribute names must be at most {MAX_ATTRIBUTE_NAME_BYTES} bytes")
        if "." in name or name.startswith("$") or "\x00" in name:
            raise IngestError(field=at, problem="attribute names cannot contain '.' or NUL, or start with '$'")
        _check_json_value(value, at)
        if _json_size(value) > MAX_ATTRIBUTE_VALUE_BYTES:
            raise IngestError(field=at, problem=f"attribute values must be at most {MAX_ATTRIBUTE_VALUE_BYTES} bytes")
    return attributes


def _identify(target: Identifier, where: str, body: dict[str, Any], attributes_where: str, *, update_only: Any = False) -> Identify:
    profile_id: str | Unset = UNSET
    email: str | Unset = UNSET
    if "id" in body:
        profile_id = _identifier(IdKind.ID, body["id"], f"{attributes_where}.id").value
    if "email" in body:
        email = _identifier(IdKind.EMAIL, body["email"], f"{attributes_where}.email").value
    if "cio_id" in body and (target.kind is not IdKind.CIO_ID or body["cio_id"] != target.value):
        raise IngestError(field=f"{attributes_where}.cio_id", problem="cannot be set or changed; address the person by cio_<cioId> instead")
    anonymous_id = body.get("anonymous_id")
    if anonymous_id is not None:
        anonymous_id = _string(anonymous_id, f"{attributes_where}.anonymous_id", max_bytes=MAX_IDENTIFIER_BYTES)
    if not isinstance(update_only, bool):
        raise IngestError(field=f"{attributes_where}._update", problem=f"must be a boolean, got {_kind(update_only)}")
    return Identify(
        target=target,
        where=where,
        attributes_where=attributes_where,
        profile_id=profile_id,
        email=email,
        attributes=_attributes(body, attributes_where),
        created_at=_timestamp(body.get("created_at"), f"{attributes_where}.created_at") if "created_at" in body else None,
        anonymous_id=anonymous_id,
        update_only=update_only,
    )


def _event(target: Identifier | None, where: str, *, type: Any, name: Any, data: Any, timestamp: Any, client_id: Any, anonymous_id: str | None, prefix: str, data_field: str) -> TrackEvent:
    if type not in EVENT_TYPES:
        raise IngestError(field=f"{prefix}type", problem=f"must be one of {', '.join(EVENT_TYPES)}, got {type!r}")
    name_limit = MAX_PAGE_URL_BYTES if type == "page" else MAX_EVENT_NAME_BYTES
    data = _object(data, f"{prefix}{data_field}", required=False)
    _check_json_value(data, f"{prefix}{data_field}")
    if _json_size(data) > MAX_EVENT_DATA_BYTES:
        raise IngestError(field=f"{prefix}{data_field}", problem=f"must be at most {MAX_EVENT_DATA_BYTES} bytes")
    return TrackEvent(
        target=target,
        where=where,
        anonymous_id=anonymous_id,
        type=type,
        name=_string(name, f"{prefix}name", max_bytes=name_limit),
        data=data,
        timestamp=_timestamp(timestamp, f"{prefix}timestamp"),
        client_id=None if client_id is None else _id_value(client_id, f"{prefix}id"),
    )


# ---- v1 routes -------------------------------------------------------------


def v1_identify(identifier: str, body: Any) -> Identify:
    target = path_identifier(identifier)
    body = _object(body, "body")
    return _identify(target, "identifier", body, "body", update_only=body.get("_update", False))


def _v1_event(target: Identifier | None, where: str, body: dict[str, Any], anonymous_id: str | None) -> TrackEvent:
    return _event(
        target,
        where,
        type=body.get("type", "event"),
        name=body.get("name"),
        data=body.get("data"),
        timestamp=body.get("timestamp"),
        client_id=body.get("id"),
        anonymous_id=anonymous_id,
        prefix="",
        data_field="data",
    )


def v1_event(identifier: str, body: Any) -> TrackEvent:
    return _v1_event(path_identifier(identifier), "identifier", _object(body, "body"), None)


def v1_anonymous_event(body: Any) -> TrackEvent:
    body = _object(body, "body")
    if body.get("anonymous_id") is None:
        raise IngestError(field="anonymous_id", problem="required (invite events without an anonymous_id are not supported)")
    anonymous_id = _string(body["anonymous_id"], "anonymous_id", max_bytes=MAX_IDENTIFIER_BYTES)
    return _v1_event(None, "anonymous_id", body, anonymous_id)


def _device(target: Identifier, where: str, device: Any, device_where: str, token_key: str) -> AddDevice:
    device = _object(device, device_where)
    known = {token_key, "platform", "last_used", "attributes"}
    attributes = _object(device.get("attributes"), f"{device_where}.attributes", required=False)
    # The Python SDK sends extra keyword arguments as device-level keys: they are attributes too.
    attributes = {**{k: v for k, v in device.items() if k not in known}, **attributes}
    return AddDevice(
        target=target,
        where=where,
        token=_string(device.get(token_key), f"{device_where}.{token_key}", max_bytes=MAX_TOKEN_BYTES),
        platform=_string(device.get("platform"), f"{device_where}.platform", max_bytes=MAX_METADATA_BYTES).lower(),
        last_used=_timestamp(device.get("last_used"), f"{device_where}.last_used"),
        attributes=_attributes(attributes, f"{device_where}.attributes"),
    )


def v1_add_device(identifier: str, body: Any) -> AddDevice:
    body = _object(body, "body")
    return _device(path_identifier(identifier), "identifier", body.get("device"), "device", "id")


def v1_delete_device(identifier: str, token: str) -> DeleteDevice:
    return DeleteDevice(target=path_identifier(identifier), where="identifier", token=_string(token, "token", max_bytes=MAX_TOKEN_BYTES))


def v1_delete(identifier: str) -> DeletePerson:
    return DeletePerson(target=path_identifier(identifier), where="identifier")


def v1_set_suppressed(identifier: str, suppressed: bool) -> SetSuppressed:
    return SetSuppressed(target=path_identifier(identifier), where="identifier", suppressed=suppressed)


def _merge(body: dict[str, Any], prefix: str) -> Merge:
    primary = identifiers_object(body.get("primary"), f"{prefix}primary")
    secondary = identifiers_object(body.get("secondary"), f"{prefix}secondary")
    return Merge(primary=primary, secondary=secondary, primary_where=f"{prefix}primary", secondary_where=f"{prefix}secondary")


def v1_merge(body: Any) -> Merge:
    return _merge(_object(body, "body"), "")


# ---- v2 entity and batch -----------------------------------------------------


def _v2_person(op: dict[str, Any], action: str, prefix: str) -> Operation:
    if action == "merge":
        return _merge(op, prefix)
    target = identifiers_object(op.get("identifiers"), f"{prefix}identifiers")
    where = f"{prefix}identifiers"
    match action:
        case "identify":
            if "cio_relationships" in op:
                raise IngestError(field=f"{prefix}cio_relationships", problem="relationships are not supported")
            attributes = _object(op.get("attributes"), f"{prefix}attributes", required=False)
            return _identify(target, where, attributes, f"{prefix}attributes", update_only=attributes.get("_update", False))
        case "delete":
            return DeletePerson(target=target, where=where)
        case "event" | "page" | "screen":
            return _event(
                target,
                where,
                type=action,
                name=op.get("name"),
                data=op.get("attributes"),
                timestamp=op.get("timestamp"),
                client_id=op.get("id"),
                anonymous_id=None,
                prefix=prefix,
                data_field="attributes",
            )
        case "add_device":
            return _device(target, where, op.get("device"), f"{prefix}device", "token")
        case "delete_device":
            device = _object(op.get("device"), f"{prefix}device")
            return DeleteDevice(target=target, where=where, token=_string(device.get("token"), f"{prefix}device.token", max_bytes=MAX_TOKEN_BYTES))
        case "suppress" | "unsuppress":
            return SetSuppressed(target=target, where=where, suppressed=action == "suppress")
    raise AssertionError(action)


def _v2_delivery(op: dict[str, Any], action: str, prefix: str) -> DeliveryMetric:
    # Customer.io sends {"action": "event", "name": "<metric>"}; "<metric>" as the action is accepted too.
    metric = op.get("name") if action == "event" else action
    metric_field = f"{prefix}name" if action == "event" else f"{prefix}action"
    if metric not in DELIVERY_METRICS:
        raise IngestError(field=metric_field, problem=f"must be a delivery metric ({', '.join(DELIVERY_METRICS)}), got {metric!r}")
    identifiers = _object(op.get("identifiers"), f"{prefix}identifiers")
    if set(identifiers) != {"id"}:
        raise IngestError(field=f"{prefix}identifiers", problem="must hold exactly the delivery id: {\"id\": ...}")
    attributes = _object(op.get("attributes"), f"{prefix}attributes", required=False)
    at = f"{prefix}attributes."
    return DeliveryMetric(
        delivery_id=_id_value(identifiers["id"], f"{prefix}identifiers.id"),
        prefix=prefix,
        metric=metric,
        timestamp=_timestamp(op.get("timestamp"), f"{prefix}timestamp"),
        person=None if op.get("person") is None else identifiers_object(op["person"], f"{prefix}person"),
        message_id=_optional_string(attributes.get("message_id"), f"{at}message_id"),
        campaign_id=_optional_string(_stringified(attributes.get("campaign_id")), f"{at}campaign_id"),
        broadcast_id=_optional_string(_stringified(attributes.get("broadcast_id")), f"{at}broadcast_id"),
        channel=None if attributes.get("channel") is None else _string(attributes["channel"], f"{at}channel", max_bytes=MAX_METADATA_BYTES).lower(),
    )


def _stringified(value: Any) -> Any:
    """Customer.io campaign and broadcast ids are numbers; we keep every id as a string."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def v2_operation(op: Any, prefix: str = "") -> Operation:
    op = _object(op, prefix.rstrip(".") or "body")
    kind, action = op.get("type"), op.get("action")
    if kind == "object":
        raise IngestError(field=f"{prefix}type", problem="objects are not supported (person and delivery are)")
    if kind not in ("person", "delivery"):
        raise IngestError(field=f"{prefix}type", problem=f"must be 'person' or 'delivery', got {kind!r}")
    if not isinstance(action, str):
        raise IngestError(field=f"{prefix}action", problem=f"must be a string, got {_kind(action)}")
    if kind == "delivery":
        return _v2_delivery(op, action, prefix)
    if action in UNSUPPORTED_PERSON_ACTIONS:
        raise IngestError(field=f"{prefix}action", problem=f"{action} is not supported")
    if action not in PERSON_ACTIONS:
        raise IngestError(field=f"{prefix}action", problem=f"must be one of {', '.join(PERSON_ACTIONS)}, got {action!r}")
    # Only activity keeps its time, but a bad one is refused everywhere rather than silently dropped.
    _timestamp(op.get("timestamp"), f"{prefix}timestamp")
    return _v2_person(op, action, prefix)


def batch_entries(body: Any) -> tuple[dict[str, Any], list[Any]]:
    """The body as an object and its non-empty `batch` array (Track v2 and Segment-spec alike)."""
    body = _object(body, "body")
    batch = body.get("batch")
    if not isinstance(batch, list):
        raise IngestError(field="batch", problem=f"must be an array, got {_kind(batch)}")
    if not batch:
        raise IngestError(field="batch", problem="must not be empty")
    return body, batch


def v2_batch(body: Any) -> tuple[list[Operation], list[IngestError]]:
    """Every operation of a batch, and every problem found (all of them, not just the first)."""
    _, batch = batch_entries(body)
    operations: list[Operation] = []
    errors: list[IngestError] = []
    for index, op in enumerate(batch):
        try:
            operations.append(v2_operation(op, f"batch[{index}]."))
        except IngestError as error:
            errors.append(error)
    return operations, errors
