"""Segment-spec messages (identify, track, page, screen, alias, group) ->
validated Track API operations (rules.ingest.operations).

The mapping is documented field by field in docs/segment-spec.md. In short:
`userId` is the person's profile id and `anonymousId` their anonymous id;
identify's `traits` are attributes (`email` the email, `createdAt` the
creation time); track, page and screen are events of type `event`, `page`
(named by its URL) and `screen`, with `properties` as data, `messageId` as
the de-duplication key and `context` kept on the event; `context.device` of
an identified person is a device; alias adopts `previousId` as an anonymous
id of `userId`; group is an event named `group`.

Times: Segment's clock-skew correction. A message's own time is its
`originalTimestamp` (else `timestamp`); when the sender also says when it
sent it (`sentAt`, on the message or the batch), the stored time is
`receivedAt - (sentAt - originalTimestamp)`, so a device clock that is off
shifts nothing. Without `sentAt` the message's time is kept as given;
without any, the time of receipt.

Parsing never touches the store; every problem is an IngestError naming the
field (`batch[3].properties.plan`).
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from rules.people.identifiers import MAX_IDENTIFIER_BYTES, Identifier, IdKind
from rules.store.documents import RESERVED_ATTRIBUTE_KEYS
from rules.ingest.operations import AddDevice, IngestError, Operation
from rules.ingest.parse import (
    MAX_EVENT_NAME_BYTES,
    MAX_METADATA_BYTES,
    MAX_PAGE_URL_BYTES,
    MAX_TOKEN_BYTES,
    _attributes,
    _check_json_value,
    _event,
    _identifier,
    _identify,
    _kind,
    _object,
    _string,
    _timestamp,
    batch_entries,
)

# Segment's documented limits: 32 KB per message, 500 KB per batch request.
MAX_MESSAGE_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MESSAGE_TYPES = ("identify", "track", "page", "screen", "alias", "group")
# Traits that are not attributes: identifiers, the creation time, and the
# Track API's reserved keys (which would otherwise act as its options).
_IDENTIFY_TRAIT_KEYS = RESERVED_ATTRIBUTE_KEYS | {"createdAt"}
# Device fields that are not its attributes.
_DEVICE_KEYS = {"token", "id", "type"}


def _message_size(message: Any) -> int:
    return len(json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def _time(value: Any, where: str) -> float | None:
    """ISO-8601 (as the SDKs send) or Unix seconds."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise IngestError(field=where, problem=f"must be an ISO-8601 date-time, got {value!r}") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.timestamp()
    return _timestamp(value, where)


def event_time(message: dict[str, Any], prefix: str, *, batch_sent_at: Any, received_at: float) -> float | None:
    """When the message happened, corrected for the sender's clock skew (see the module doc)."""
    original_key = "originalTimestamp" if message.get("originalTimestamp") is not None else "timestamp"
    original = _time(message.get(original_key), f"{prefix}{original_key}")
    if original is None:
        return None
    sent_key = "sentAt" if message.get("sentAt") is not None else None
    sent_at = _time(message["sentAt"], f"{prefix}sentAt") if sent_key else _time(batch_sent_at, "sentAt")
    corrected = original if sent_at is None else received_at - (sent_at - original)
    if not math.isfinite(corrected) or corrected < 0:
        raise IngestError(field=f"{prefix}{original_key}", problem="is before 1970 once corrected by sentAt")
    return _timestamp(corrected, f"{prefix}{original_key}")


def _dict_or_empty(value: Any) -> dict[str, Any]:
    """An optional part of the context: anything but an object counts as absent."""
    return value if isinstance(value, dict) else {}


def _id_string(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # numeric user ids are sent as numbers by some SDKs
    return _string(value, where, max_bytes=MAX_IDENTIFIER_BYTES)


def _device(target: Identifier, where: str, context: dict[str, Any], at: float | None, prefix: str) -> AddDevice | None:
    device = context.get("device")
    if not isinstance(device, dict):
        return None
    token_key = "token" if device.get("token") is not None else "id"
    if device.get(token_key) is None:
        return None
    os = _dict_or_empty(context.get("os"))
    platform = device.get("type") or os.get("name") or "unknown"
    device_where = f"{prefix}context.device"
    attributes = {key: value for key, value in device.items() if key not in _DEVICE_KEYS}
    return AddDevice(
        target=target,
        where=where,
        token=_string(device[token_key], f"{device_where}.{token_key}", max_bytes=MAX_TOKEN_BYTES),
        platform=_string(platform, f"{device_where}.type", max_bytes=MAX_METADATA_BYTES).lower(),
        last_used=at,
        attributes=_attributes(attributes, device_where),
    )


def _page_url(message: dict[str, Any], properties: dict[str, Any], context: dict[str, Any], prefix: str) -> tuple[str, str]:
    """A page view is named by its URL: properties.url, else context.page.url, else the path."""
    page = _dict_or_empty(context.get("page"))
    for value, where in (
        (properties.get("url"), "properties.url"),
        (page.get("url"), "context.page.url"),
        (properties.get("path"), "properties.path"),
        (page.get("path"), "context.page.path"),
    ):
        if value is not None:
            return value, where
    raise IngestError(field=f"{prefix}properties.url", problem="a page needs its URL (properties.url or context.page.url)")


def message_operations(message: Any, prefix: str, *, type: str | None = None, batch: dict[str, Any] | None = None, received_at: float) -> list[Operation]:
    """The operations of one message; `type` is given by single-message routes, else read from the message."""
    message = _object(message, prefix.rstrip(".") or "body")
    batch = batch or {}
    if type is None:
        type = message.get("type")
        if type not in MESSAGE_TYPES:
            raise IngestError(field=f"{prefix}type", problem=f"must be one of {', '.join(MESSAGE_TYPES)}, got {type!r}")
    if _message_size(message) > MAX_MESSAGE_BYTES:
        raise IngestError(field=prefix.rstrip(".") or "body", problem=f"a message must be at most {MAX_MESSAGE_BYTES} bytes (32 KB)")
    user_id = _id_string(message.get("userId"), f"{prefix}userId")
    anonymous_id = _id_string(message.get("anonymousId"), f"{prefix}anonymousId")
    if user_id is None and anonymous_id is None:
        raise IngestError(field=f"{prefix}userId", problem="a message needs a userId or an anonymousId")
    batch_context = _dict_or_empty(batch.get("context"))
    context = {**batch_context, **_object(message.get("context"), f"{prefix}context", required=False)}
    _check_json_value(context, f"{prefix}context")
    at = event_time(message, prefix, batch_sent_at=batch.get("sentAt"), received_at=received_at)
    target = None if user_id is None else _identifier(IdKind.ID, user_id, f"{prefix}userId")
    where = f"{prefix}userId" if target else f"{prefix}anonymousId"
    operations: list[Operation] = []

    if type in ("identify", "alias"):
        if target is None:
            raise IngestError(field=f"{prefix}userId", problem=f"{type} needs a userId (anonymous profiles are not stored)")
        if type == "identify":
            # RudderStack's SDKs send identify's traits in `context.traits`.
            traits_field = "traits" if message.get("traits") is not None or not isinstance(context.get("traits"), dict) else "context.traits"
            traits = _object(message.get("traits") if traits_field == "traits" else context["traits"], f"{prefix}{traits_field}", required=False)
            body = {key: value for key, value in traits.items() if key not in _IDENTIFY_TRAIT_KEYS}
            if traits.get("email") is not None:
                body["email"] = traits["email"]
            created = traits.get("createdAt", traits.get("created_at"))
            if created is not None:
                body["created_at"] = _time(created, f"{prefix}{traits_field}.createdAt")
            anonymous = anonymous_id
        else:
            traits_field, body = "traits", {}
            anonymous = _id_string(message.get("previousId"), f"{prefix}previousId")
            if anonymous is None:
                raise IngestError(field=f"{prefix}previousId", problem="required")
        if anonymous is not None:
            body["anonymous_id"] = anonymous
        operations.append(_identify(target, where, body, f"{prefix}{traits_field}"))
    else:
        properties = _object(message.get("properties"), f"{prefix}properties", required=False)
        data, data_field = properties, "properties"
        match type:
            case "track":
                kind, name, name_field = "event", message.get("event"), "event"
            case "screen":
                kind, name, name_field = "screen", message.get("name"), "name"
            case "page":
                kind = "page"
                name, name_field = _page_url(message, properties, context, prefix)
                data = {**properties, **{key: message[key] for key in ("name", "category") if message.get(key) is not None}}
            case "group":
                kind, name, name_field = "event", "group", "groupId"
                group_id = _id_string(message.get("groupId"), f"{prefix}groupId")
                if group_id is None:
                    raise IngestError(field=f"{prefix}groupId", problem="required")
                data = {"group_id": group_id, "traits": _object(message.get("traits"), f"{prefix}traits", required=False)}
                data_field = "traits"
        if name is None:
            raise IngestError(field=f"{prefix}{name_field}", problem="required")
        # Checked here to name Segment's fields; _event checks them again under the Track API's names.
        name = _string(name, f"{prefix}{name_field}", max_bytes=MAX_PAGE_URL_BYTES if kind == "page" else MAX_EVENT_NAME_BYTES)
        event = _event(
            target,
            where,
            type=kind,
            name=name,
            data=data,
            timestamp=at,
            client_id=_id_string(message.get("messageId"), f"{prefix}messageId"),
            anonymous_id=anonymous_id if target is None else None,
            prefix=prefix,
            data_field=data_field,
        )
        operations.append(replace(event, context=context or None))
    if target is not None:
        device = _device(target, where, context, at, prefix)
        if device is not None:
            operations.append(device)
    return operations


def single_message(type: str, body: Any, *, received_at: float) -> list[Operation]:
    """`POST /v1/{type}`: one message, its type given by the path."""
    return message_operations(body, "", type=type, received_at=received_at)


def batch_messages(body: Any, *, received_at: float) -> tuple[list[Operation], list[IngestError]]:
    """`POST /v1/batch`: every message's operations, and every problem found."""
    body, messages = batch_entries(body)
    operations: list[Operation] = []
    errors: list[IngestError] = []
    for index, message in enumerate(messages):
        try:
            operations += message_operations(message, f"batch[{index}].", batch=body, received_at=received_at)
        except IngestError as error:
            errors.append(error)
    return operations, errors
