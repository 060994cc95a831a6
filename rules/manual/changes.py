"""Manual segments: people added and removed by hand, by id, email or cioId.

Identifiers are resolved in bulk through `identities` (profile ids and
emails) and `people` (cioIds); the changes go through the membership
engine's `apply_manual_changes`, which records them as ENTERED/EXITED and
re-evaluates the segments that refer to this one. Every identifier given
gets an outcome of its own. Data-driven segments refuse all of this: their
members follow their condition.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from rules.people.identifiers import CIO_PREFIX, IdKind, Identifier, identifier_problem, resolve_people
from rules.membership.engine import MembershipEngine, NotAManualSegment
from rules.segments.records import Segment, SegmentType, get_segment
from rules.store.types import Database

# Customer.io's limit for add_customers / remove_customers, kept for GraphQL too.
MAX_IDENTIFIERS_PER_CHANGE = 1_000
# People per engine call when applying a large change (a CSV import).
APPLY_CHUNK = 1_000


class Direction(StrEnum):
    ADD = "ADD"
    REMOVE = "REMOVE"


class Outcome(StrEnum):
    ADDED = "ADDED"
    REMOVED = "REMOVED"
    ALREADY_MEMBER = "ALREADY_MEMBER"
    ALREADY_ABSENT = "ALREADY_ABSENT"
    NOT_FOUND = "NOT_FOUND"
    INVALID = "INVALID"


class ManualChangeInvalid(ValueError):
    """The request as a whole is unusable (no identifiers, too many); the message names the field."""


@dataclass(frozen=True, kw_only=True)
class IdentifierOutcome:
    identifier: str  # as given
    outcome: Outcome
    person_id: str | None = None
    message: str | None = None  # why an INVALID identifier cannot address anybody


@dataclass(frozen=True, kw_only=True)
class ManualChangeReport:
    direction: Direction
    outcomes: tuple[IdentifierOutcome, ...]  # one per distinct identifier, in the order given

    def having(self, outcome: Outcome) -> tuple[IdentifierOutcome, ...]:
        return tuple(o for o in self.outcomes if o.outcome is outcome)


@dataclass(frozen=True, kw_only=True)
class ManualChanges:
    """People (internal ids) to add to and remove from one manual segment."""

    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()


async def manual_segment(db: Database, workspace_id: str, segment_id: str) -> Segment:
    """The segment, if people can be added to it by hand (SegmentNotFound, NotAManualSegment otherwise)."""
    segment = await get_segment(db, workspace_id, segment_id)
    if segment.type is not SegmentType.MANUAL:
        raise NotAManualSegment(
            f"segment {segment.name!r} ({segment.id}) is {segment.type}: its members follow its condition "
            "and cannot be added or removed by hand"
        )
    return segment


def _split(direction: Direction, people: Sequence[str]) -> dict[str, Sequence[str]]:
    return {"add": people} if direction is Direction.ADD else {"remove": people}


# direction -> (outcome for a person it changed, outcome for one it did not need to)
_OUTCOMES = {
    Direction.ADD: (Outcome.ADDED, Outcome.ALREADY_MEMBER),
    Direction.REMOVE: (Outcome.REMOVED, Outcome.ALREADY_ABSENT),
}


def identifier_of_kind(kind: IdKind, value: str) -> Identifier | str:
    """The identifier `value` names, or why it names nobody (a message starting with the kind).

    Surrounding whitespace is not part of an identifier (a CSV cell or a
    pasted list often carries some), wherever the identifiers come from."""
    value = value.strip()
    if kind is IdKind.CIO_ID and value.startswith(CIO_PREFIX):
        # The Track API writes internal ids as cio_<id>; accept that form too.
        value = value[len(CIO_PREFIX) :]
    problem = identifier_problem(kind, value)
    return f"{kind} {problem}" if problem else Identifier(kind=kind, value=value)


async def change_membership(
    db: Database,
    engine: MembershipEngine,
    workspace_id: str,
    segment_id: str,
    *,
    direction: Direction,
    kind: IdKind,
    identifiers: Sequence[str],
) -> ManualChangeReport:
    """Add or remove the people `identifiers` name, reporting on each identifier."""
    if not identifiers:
        raise ManualChangeInvalid("ids: give at least one identifier")
    if len(identifiers) > MAX_IDENTIFIERS_PER_CHANGE:
        raise ManualChangeInvalid(f"ids: at most {MAX_IDENTIFIERS_PER_CHANGE} identifiers per request, got {len(identifiers)}")
    await manual_segment(db, workspace_id, segment_id)
    parsed = {raw: identifier_of_kind(kind, raw) for raw in identifiers}
    people = await resolve_people(db, workspace_id, [p for p in parsed.values() if isinstance(p, Identifier)])
    named = list(dict.fromkeys(people.values()))
    result = await engine.apply_manual_changes(workspace_id, segment_id, **_split(direction, named))
    changed = {*result.added, *result.removed}
    vanished = set(result.not_found)  # deleted between resolving and applying
    changed_outcome, unchanged_outcome = _OUTCOMES[direction]

    def outcome_of(raw: str, identifier: Identifier | str) -> IdentifierOutcome:
        if isinstance(identifier, str):
            return IdentifierOutcome(identifier=raw, outcome=Outcome.INVALID, message=identifier)
        person_id = people.get(identifier)
        if person_id is None or person_id in vanished:
            return IdentifierOutcome(identifier=raw, outcome=Outcome.NOT_FOUND)
        outcome = changed_outcome if person_id in changed else unchanged_outcome
        return IdentifierOutcome(identifier=raw, outcome=outcome, person_id=person_id)

    return ManualChangeReport(direction=direction, outcomes=tuple(outcome_of(raw, p) for raw, p in parsed.items()))
