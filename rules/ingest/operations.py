"""What the Track API asks the store to do: validated, typed operations.

Every request (v1 route, v2 entity, v2 batch) is parsed into a list of these
before anything is written; a problem is reported as an `IngestError` naming
the field (a JSON-pointer-like path such as `batch[3].attributes.plan`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from rules.people.identifiers import Identifier


class UnsupportedOperation(TypeError):
    """An operation type ingestion has no handler for: a programming error.
    The group it came in fails (fail closed) instead of dropping it silently."""

    def __init__(self, operation: object) -> None:
        super().__init__(f"no handler for the Track operation {type(operation).__name__}")


@dataclass(frozen=True, kw_only=True)
class IngestError(Exception):
    """One problem with a request; `status` is 400 (bad input) or 404 (nobody to address)."""

    field: str
    problem: str
    status: int = 400

    def __str__(self) -> str:
        return f"{self.field}: {self.problem}" if self.field else self.problem


class Unset(Enum):
    """Marks an identifier the request did not mention (as opposed to one it set);
    an enum, so that `is UNSET` narrows the type."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET = Unset.UNSET


@dataclass(frozen=True, kw_only=True)
class Identify:
    target: Identifier
    where: str  # field path of the target, for error messages
    attributes_where: str  # field path of the body / attributes object
    # Identifiers set in the body; UNSET when not mentioned.
    profile_id: str | Unset = UNSET
    email: str | Unset = UNSET
    # Attribute changes; a value of None removes the attribute.
    attributes: dict[str, Any] = field(default_factory=dict)
    created_at: float | None = None
    anonymous_id: str | None = None
    update_only: bool = False


@dataclass(frozen=True, kw_only=True)
class DeletePerson:
    target: Identifier
    where: str


@dataclass(frozen=True, kw_only=True)
class TrackEvent:
    # A person, or None for an anonymous event (then anonymous_id is set).
    target: Identifier | None
    where: str
    anonymous_id: str | None
    type: str  # event | page | screen
    name: str
    data: dict[str, Any]
    timestamp: float | None  # None: when received
    client_id: str | None  # de-duplication key
    # Where it was sent from (the Segment spec's `context`: ip, page, device, library, ...); kept as sent.
    context: dict[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class AddDevice:
    target: Identifier
    where: str
    token: str
    platform: str
    last_used: float | None
    attributes: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class DeleteDevice:
    target: Identifier
    where: str
    token: str


@dataclass(frozen=True, kw_only=True)
class SetSuppressed:
    target: Identifier
    where: str
    suppressed: bool


@dataclass(frozen=True, kw_only=True)
class Merge:
    primary: Identifier
    secondary: Identifier
    primary_where: str
    secondary_where: str


@dataclass(frozen=True, kw_only=True)
class DeliveryMetric:
    delivery_id: str
    prefix: str  # field path prefix of the operation ("" or "batch[3].")
    metric: str
    timestamp: float | None  # None: when received
    # Needed when the delivery is first reported; optional afterwards.
    person: Identifier | None
    message_id: str | None
    campaign_id: str | None
    broadcast_id: str | None
    channel: str | None


Operation = Identify | DeletePerson | TrackEvent | AddDevice | DeleteDevice | SetSuppressed | Merge | DeliveryMetric
