"""The membership engine: keeps `memberships` equal to what each segment's
condition says, and records every change.

Three ways membership moves (docs/segments.md):
- builds: a new or changed data-driven segment is computed in bulk with the
  compiled pipelines (`rules.conditions.compile`), diffed against the stored members,
  and the difference written as changes; in the background, one build per
  segment at a time;
- incremental: ingestion reports which people changed and what kind of
  data (`topics`); for those people only the segments whose dependencies
  the topics touch are re-evaluated with the reference evaluator, then the
  segments referring to segments that changed, in topological order;
- time: each evaluation schedules the moment the person's membership may
  next change with no new data (`Explanation.next_change_at`); `run_due`
  re-evaluates what is due. The service runs it every second; scenario
  tests call it after advancing a fake clock.

Several service processes may share one store: a build and each round of
the scheduler run under a lease (rules/store/leases.py), so only one process does
them, and another takes them over when the holder stops renewing. The
rest is agreed through the documents (docs/decisions.md #22): cached rules
are read again when the workspace's rules version moved, a build ends
READY only while the segment's generation is its own, and a change counts
only if its membership row write took effect (rules/membership/journal.py).

Manual segments change only through `apply_manual_changes`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pymongo import ReturnDocument

from rules.membership.changefeed import Changefeed, ChangeKind, MembershipChange
from rules.clock import Clock
from rules.store.collections import SCHEDULES, SEGMENTS
from rules.conditions.compile import matching_person_ids
from rules.conditions.dependencies import Dependencies, affected_by, dependencies
from rules.conditions.evaluate import PersonData, evaluate, load_person_data
from rules.conditions.people_data import load_people_data
from rules.faults import fault_point
from rules.store.leases import LeaseLost, Leases
from rules.membership.journal import (
    ScheduleEntry,
    apply_pending_changes,
    delete_by_ids,
    existing_people,
    member_ids,
    members_among,
    recount_members,
    segments_of_person,
    write_changes,
    write_schedules,
)
from rules.membership.time_sensitive import time_sensitive_people
from rules.conditions.model import Condition
from rules.topics import Topic, removes_person
from rules.segments.records import (
    Segment,
    SegmentState,
    SegmentType,
    evaluable_condition,
    find_segment,
    list_segments,
    parsed_condition,
    rules_version,
)
from rules.store.types import Database

log = logging.getLogger("segments.membership")

WRITE_BATCH = 500  # changes written per batch during a build
DUE_BATCH = 500  # schedules taken per round of run_due
# Time-sensitive people read per batch after a windowed build: one `$in` per
# collection the condition reads. Larger than a write batch because each
# read is one query whatever its size (on the embedded sqlite engine a pass
# over the workspace's documents, docs/scaling.md), and 5,000 people's
# activity is tens of megabytes at most.
CANDIDATE_BATCH = 5_000
SCHEDULER_POLL_SECONDS = 1.0
SCHEDULER_LEASE = "membership-scheduler"
# Long enough to outlast a build's longest single store call (an in-process
# store's aggregations can hold the event loop, and with it the renewal).
WORK_LEASE_SECONDS = 30.0


def build_lease(segment_id: str) -> str:
    return f"build:{segment_id}"


# Evaluations `changes_between` makes from a due moment towards now before
# it settles for now.
MAX_CHANGE_SEARCH_STEPS = 64


def changes_between(
    condition: Condition, person: PersonData, *, was_member: bool, holds_now: bool, since: float, now: float
) -> list[tuple[float, bool]]:
    """The moments in [`since`, `now`] at which the truth of `condition` for
    `person` flipped, with its new value, ending with `holds_now`; `since` is
    a scheduled moment (before it, it was `was_member`). Walked along the
    evaluator's change moments, so an exit that fell due while the service
    was down is dated when the window closed, and an entry and exit both
    missed are both recorded, not dated when the service came back."""
    flips: list[tuple[float, bool]] = []
    member = was_member
    moment: float | None = since
    for _ in range(MAX_CHANGE_SEARCH_STEPS):
        if moment is None or moment >= now:
            break
        explanation = evaluate(condition, person, now=moment)
        if explanation.holds != member:
            flips.append((moment, explanation.holds))
            member = explanation.holds
        moment = explanation.next_change_at
    if member != holds_now:
        flips.append((now, holds_now))
    return flips


def next_check_at(next_change_at: float | None, now: float) -> float | None:
    """When to re-evaluate. The evaluator promises a moment after `now`; one
    already due would make `run_due` pick it again and again."""
    return None if next_change_at is None else max(next_change_at, now + 0.001)


@dataclass(frozen=True, kw_only=True)
class SegmentRule:
    """A data-driven segment as the engine evaluates it."""

    id: str
    condition: Condition
    deps: Dependencies


@dataclass(frozen=True, kw_only=True)
class WorkspaceRules:
    # Topological: a segment comes after every segment its condition refers to.
    ordered: tuple[SegmentRule, ...]

    @classmethod
    def of(cls, segments: Iterable[Segment]) -> WorkspaceRules:
        rules = {
            s.id: SegmentRule(id=s.id, condition=c, deps=dependencies(c))
            for s in segments
            if (c := evaluable_condition(s)) is not None
        }
        ordered: list[SegmentRule] = []
        placed: set[str] = set()

        def place(rule: SegmentRule) -> None:
            # Cycles are refused on save, so this recursion ends.
            if rule.id in placed:
                return
            for referenced in sorted(rule.deps.segment_ids):
                if referenced in rules:
                    place(rules[referenced])
            placed.add(rule.id)
            ordered.append(rule)

        for rule in rules.values():
            place(rule)
        return cls(ordered=tuple(ordered))

    def referring_to(self, segment_ids: Collection[str]) -> bool:
        return any(rule.deps.segment_ids & set(segment_ids) for rule in self.ordered)


@dataclass(frozen=True, kw_only=True)
class BuildWrites:
    changes: list[MembershipChange]  # the changes the build wrote
    # the segment's generation moved during the build: it is not READY, it builds again
    superseded: bool


@dataclass(frozen=True, kw_only=True)
class ManualChangeResult:
    added: tuple[str, ...]
    already_members: tuple[str, ...]
    removed: tuple[str, ...]
    not_members: tuple[str, ...]
    not_found: tuple[str, ...]  # person ids that are not people of the workspace


class NotAManualSegment(Exception):
    pass


class MembershipEngine:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        lease_seconds: float = WORK_LEASE_SECONDS,
    ) -> None:
        self._db = db
        self.clock = clock
        self._leases = Leases(db, seconds=lease_seconds)
        self.changefeed = Changefeed()
        # workspace -> (the rules version it was read at, its rules)
        self._rules: dict[str, tuple[int, WorkspaceRules]] = {}
        # Evaluations and writes of one workspace never interleave, so two
        # of them cannot both record the same change.
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._due_lock = asyncio.Lock()
        self._builds: dict[str, asyncio.Task[None]] = {}
        # Segments between the start of a build's computation and its end:
        # incremental evaluation leaves them to the build.
        self._building: set[str] = set()
        self._rebuild_requested: set[str] = set()
        # People whose data changed while their segment was building: the
        # build may have read them before the change, so they are re-evaluated after it.
        self._changed_while_building: dict[str, set[str]] = defaultdict(set)
        self._scheduler: asyncio.Task[None] | None = None

    # -- lifecycle -------------------------------------------------------------

    async def start(self) -> None:
        """Finish interrupted writes, resume interrupted builds, start the scheduler loop."""
        await apply_pending_changes(self._db)
        async for doc in self._db[SEGMENTS].find({"state": str(SegmentState.BUILDING)}):
            self.segment_saved(Segment.from_document(doc))
        self._scheduler = asyncio.create_task(self._scheduler_loop(), name="membership-scheduler")

    async def stop(self) -> None:
        tasks = [t for t in (self._scheduler, *self._builds.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # Another process takes the schedule over at once, not after the lease runs out.
        await self._leases.release(SCHEDULER_LEASE)

    async def wait_for_builds(self) -> None:
        """Until no build is running (for tests and the benchmark)."""
        while self._builds:
            await asyncio.gather(*self._builds.values(), return_exceptions=True)

    # -- segment definitions ---------------------------------------------------

    async def _workspace_rules(self, workspace_id: str) -> WorkspaceRules:
        """The workspace's rules, read again when the rules version moved
        (another process created, changed or deleted a segment). The version
        is read before the segments, so rules read while it moves are
        cached under the older version and read again next time."""
        version = await rules_version(self._db, workspace_id)
        cached = self._rules.get(workspace_id)
        if cached is not None and cached[0] == version:
            return cached[1]
        segments = await list_segments(self._db, workspace_id)
        rules = WorkspaceRules.of(segments)
        self._rules[workspace_id] = (version, rules)
        for segment in segments:
            # A stored condition refused by today's validation: its build fails and says why.
            if segment.is_data_driven and segment.state is not SegmentState.FAILED and evaluable_condition(segment) is None:
                self._request_build(workspace_id, segment.id)
        return rules

    def segment_saved(self, segment: Segment) -> None:
        """A segment was created or changed: forget cached rules, build if needed."""
        self._rules.pop(segment.workspace_id, None)
        if segment.is_data_driven and segment.state is SegmentState.BUILDING:
            self._request_build(segment.workspace_id, segment.id)

    async def segment_deleted(self, segment: Segment) -> None:
        self._rules.pop(segment.workspace_id, None)
        self._rebuild_requested.discard(segment.id)
        task = self._builds.get(segment.id)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    # -- builds ----------------------------------------------------------------

    def _request_build(self, workspace_id: str, segment_id: str) -> None:
        # A build already running finishes (its writes stay consistent) and
        # another one follows with the newest condition.
        self._rebuild_requested.add(segment_id)
        if segment_id not in self._builds:
            task = asyncio.create_task(self._build_until_current(workspace_id, segment_id), name=f"build-{segment_id}")
            self._builds[segment_id] = task

    async def _build_until_current(self, workspace_id: str, segment_id: str) -> None:
        try:
            async with self._leases.held(build_lease(segment_id)) as claimed:
                # Not claimed: another process is building it; if that one
                # dies, the scheduler loop finds the segment still BUILDING.
                if claimed:
                    await self._build_while_requested(workspace_id, segment_id)
                else:
                    self._rebuild_requested.discard(segment_id)
        except LeaseLost as lost:
            self._rebuild_requested.discard(segment_id)
            log.warning("build of segment %s stopped: %s", segment_id, lost)
        finally:
            self._builds.pop(segment_id, None)
            # A build requested while the lease was being released starts anew.
            current = asyncio.current_task()  # this build's own task, never None here
            if segment_id in self._rebuild_requested and current is not None and not current.cancelling():
                self._request_build(workspace_id, segment_id)

    async def _build_while_requested(self, workspace_id: str, segment_id: str) -> None:
        while segment_id in self._rebuild_requested:
            self._rebuild_requested.discard(segment_id)
            try:
                await self._build(workspace_id, segment_id)
            except (asyncio.CancelledError, LeaseLost):
                raise
            except Exception as error:
                log.exception("build of segment %s failed", segment_id)
                await self._db[SEGMENTS].update_one(
                    {"_id": segment_id, "ws": workspace_id},
                    {"$set": {"state": str(SegmentState.FAILED), "failure": f"{type(error).__name__}: {error}"}},
                )

    async def _build(self, workspace_id: str, segment_id: str) -> None:
        segment = await find_segment(self._db, workspace_id, segment_id)
        if segment is None or not segment.is_data_driven:
            return
        # Topological order: the segments this one refers to are built first
        # (cycles are refused on save, so this wait ends).
        referenced = [self._builds[i] for i in dependencies(parsed_condition(segment)).segment_ids if i in self._builds]
        await asyncio.gather(*referenced, return_exceptions=True)
        # A write of this segment that failed half-way is finished first, so the diff is exact.
        await apply_pending_changes(self._db, ws=workspace_id, segment_id=segment_id)
        # A process that lost the lease must not supersede the holder's build.
        await self._leases.confirm(build_lease(segment_id))
        # The condition and the build's generation come from one document
        # read, so an edit after it moves the generation past this build.
        started = await self._db[SEGMENTS].find_one_and_update(
            {"_id": segment_id, "ws": workspace_id},
            {"$set": {"state": str(SegmentState.BUILDING), "progress": {"done": 0, "total": 0}}, "$inc": {"generation": 1}},
            return_document=ReturnDocument.AFTER,
        )
        if started is None:  # deleted meanwhile
            return
        segment = Segment.from_document(started)
        self._rules.pop(workspace_id, None)
        self._building.add(segment_id)
        try:
            written = await self._compute_and_write(segment)
        finally:
            self._building.discard(segment_id)
        self._rules.pop(workspace_id, None)
        # Segments referring to this one follow it, for the people it moved.
        moved = [c.person_id for c in written.changes]
        if moved and (await self._workspace_rules(workspace_id)).referring_to({segment_id}):
            await self._reevaluate(workspace_id, moved, seeds=frozenset(), changed=frozenset({segment_id}))
        if written.superseded:
            # Built again at once with what the store says now; the people
            # changed meanwhile stay noted for the end of that build.
            self._rebuild_requested.add(segment_id)
            return
        missed = self._changed_while_building.pop(segment_id, set())
        if missed:
            await self._reevaluate(workspace_id, sorted(missed), seeds=frozenset({segment_id}))

    async def _still_current(self, segment: Segment) -> bool:
        """Whether no edit or other build has moved the segment's generation
        since this build started (nor deleted it)."""
        doc = await self._db[SEGMENTS].find_one({"_id": segment.id, "ws": segment.workspace_id}, {"generation": 1})
        return doc is not None and doc.get("generation") == segment.generation

    async def _compute_and_write(self, segment: Segment) -> BuildWrites:
        """Compute the segment's members and write the difference. Stops as
        soon as the build is superseded (`_still_current`), and marks the
        segment READY only if it is not, in the same write."""
        workspace_id, segment_id, build = segment.workspace_id, segment.id, segment.generation
        condition = parsed_condition(segment)
        if condition is None:  # the build fails with this message (FAILED) instead of deep in the compiler
            raise ValueError(f"data-driven segment {segment_id!r} has no condition")
        now = self.clock.now()
        matching = await matching_person_ids(self._db, condition, workspace_id=workspace_id, now=now)
        current = await member_ids(self._db, workspace_id, segment_id)
        changes = [
            MembershipChange(workspace_id=workspace_id, segment_id=segment_id, person_id=p, kind=kind, at=now)
            for kind, people in ((ChangeKind.ENTERED, matching - current), (ChangeKind.EXITED, current - matching))
            for p in sorted(people)
        ]
        lease = build_lease(segment_id)
        written: list[MembershipChange] = []
        for start in range(0, len(changes), WRITE_BATCH):
            batch = changes[start : start + WRITE_BATCH]
            await self._leases.confirm(lease)
            if not await self._still_current(segment):
                return BuildWrites(changes=written, superseded=True)
            batch_written = await write_changes(self._db, batch, build=build)
            await self._db[SEGMENTS].update_one(
                {"_id": segment_id, "ws": workspace_id},
                {"$set": {"progress": {"done": start + len(batch), "total": len(changes)}}},
            )
            self.changefeed.publish(batch_written)
            written += batch_written
            await asyncio.sleep(0)  # let requests run between batches
        await self._leases.confirm(lease)
        if not await self._still_current(segment):
            return BuildWrites(changes=written, superseded=True)
        await self._schedule_after_build(workspace_id, segment_id, condition, now)
        await self._leases.confirm(lease)
        await recount_members(self._db, workspace_id, segment_id)
        ready = await self._db[SEGMENTS].update_one(
            {"_id": segment_id, "ws": workspace_id, "generation": build},
            {
                "$set": {
                    "state": str(SegmentState.READY),
                    "progress": {"done": len(changes), "total": len(changes)},
                    "failure": None,
                }
            },
        )
        return BuildWrites(changes=written, superseded=ready.matched_count == 0)

    async def _schedule_after_build(self, workspace_id: str, segment_id: str, condition: Condition, now: float) -> None:
        # A crash from here until the state is READY is safe: the segment is
        # still BUILDING, and is built (and scheduled) again at start-up.
        await self._db[SCHEDULES].delete_many({"ws": workspace_id, "segmentId": segment_id})
        fault_point("build.after_schedules_cleared")
        candidates = await time_sensitive_people(
            self._db, condition, dependencies(condition), workspace_id=workspace_id, now=now
        )
        ordered = sorted(candidates)
        reads = dependencies(condition)
        for start in range(0, len(ordered), CANDIDATE_BATCH):
            people = await load_people_data(self._db, workspace_id, ordered[start : start + CANDIDATE_BATCH], reads=reads)
            moments = {
                person_id: next_check_at(evaluate(condition, person, now=now).next_change_at, now)
                for person_id, person in people.items()
            }
            # The segment's schedules were cleared above: a person with no next moment has none to remove.
            entries = [
                ScheduleEntry(workspace_id=workspace_id, segment_id=segment_id, person_id=person_id, at=at)
                for person_id, at in moments.items()
                if at is not None
            ]
            for written in range(0, len(entries), WRITE_BATCH):
                await write_schedules(self._db, entries[written : written + WRITE_BATCH])

    # -- incremental -------------------------------------------------------------

    async def people_changed(self, workspace_id: str, person_ids: list[str], topics: set[Topic]) -> None:
        """The change listener registered on `Services.change_listeners`."""
        rules = await self._workspace_rules(workspace_id)
        seeds = frozenset(rule.id for rule in rules.ordered if affected_by(rule.deps, topics))
        if seeds or removes_person(topics):
            await self._reevaluate(workspace_id, person_ids, seeds=seeds)

    async def _reevaluate(
        self,
        workspace_id: str,
        person_ids: Sequence[str],
        *,
        seeds: frozenset[str],
        changed: frozenset[str] = frozenset(),
        due: Mapping[tuple[str, str], float] | None = None,
    ) -> None:
        """Re-evaluate `seeds` for these people, then every segment that refers
        to a segment whose membership moved (`changed` starts that set).
        `due`: (segment, person) -> the scheduled moment that made `run_due`
        re-evaluate them; a change found then is dated when it happened."""
        due = due or {}
        async with self._locks[workspace_id]:
            rules = await self._workspace_rules(workspace_id)
            now = self.clock.now()
            changes: list[MembershipChange] = []
            schedules: list[ScheduleEntry] = []
            removed_people: list[str] = []
            for person_id in person_ids:
                person = await load_person_data(self._db, workspace_id, person_id)
                # Dated after the read of the membership state it departs from:
                # across processes, a change made from a later read is dated later.
                now = self.clock.now()
                if person is None:
                    changes.extend(await self._exits_of_removed_person(workspace_id, person_id, now))
                    removed_people.append(person_id)
                    continue
                member_of = set(person.segment_ids)
                moved = set(changed)
                # when the latest change of this person in this pass happened:
                # a referring segment that follows it moved at that moment
                moved_at: float | None = None
                for rule in rules.ordered:
                    if rule.id not in seeds and not rule.deps.segment_ids & moved:
                        continue
                    if rule.id in self._building:
                        self._changed_while_building[rule.id].add(person_id)
                        continue
                    as_member_of = replace(person, segment_ids=frozenset(member_of))
                    explanation = evaluate(rule.condition, as_member_of, now=now)
                    schedules.append(
                        ScheduleEntry(
                            workspace_id=workspace_id,
                            segment_id=rule.id,
                            person_id=person_id,
                            at=next_check_at(explanation.next_change_at, now),
                        )
                    )
                    was_member = rule.id in member_of
                    if (rule.id, person_id) in due:
                        flips = changes_between(
                            rule.condition,
                            as_member_of,
                            was_member=was_member,
                            holds_now=explanation.holds,
                            since=due[(rule.id, person_id)],
                            now=now,
                        )
                    elif explanation.holds == was_member:
                        continue
                    elif rule.id not in seeds and moved_at is not None:
                        flips = [(moved_at, explanation.holds)]
                    else:
                        flips = [(now, explanation.holds)]
                    changes.extend(
                        MembershipChange(
                            workspace_id=workspace_id,
                            segment_id=rule.id,
                            person_id=person_id,
                            kind=ChangeKind.ENTERED if holds else ChangeKind.EXITED,
                            at=at,
                            recorded_at=now,
                        )
                        for at, holds in flips
                    )
                    if flips:
                        moved_at = flips[-1][0] if moved_at is None else max(moved_at, flips[-1][0])
                    if explanation.holds != was_member:
                        member_of.symmetric_difference_update({rule.id})
                        moved.add(rule.id)
            # A pair that keeps its membership, of a segment time alone cannot move,
            # has no schedule to write or remove (its builds clear the segment's);
            # pairs that change keep theirs for the crash-safe order below.
            timeless = {rule.id for rule in rules.ordered if not rule.deps.time_relative}
            touched = {(c.segment_id, c.person_id) for c in changes} | set(due)
            schedules = [
                e for e in schedules
                if e.at is not None or e.segment_id not in timeless or (e.segment_id, e.person_id) in touched
            ]
            written = await self._write_changes_and_schedules(changes, schedules, due=due, now=now)
            for person_id in removed_people:
                await self._db[SCHEDULES].delete_many({"ws": workspace_id, "personId": person_id})
        self.changefeed.publish(written)

    async def _write_changes_and_schedules(
        self,
        changes: Sequence[MembershipChange],
        schedules: Sequence[ScheduleEntry],
        *,
        due: Mapping[tuple[str, str], float],
        now: float,
    ) -> list[MembershipChange]:
        """Crash-safe order (docs/segments.md, "Crash safety"): the pairs that
        change are first scheduled as due (at their due moment if `run_due`
        found them, so a late change keeps its date, else now), so that a
        crash before their changes and final schedules are written leaves
        them for `run_due` to evaluate again after the restart, instead of
        without a schedule; the other pairs get their final schedule at once.
        Returns the changes that took effect (`write_changes`)."""
        if not changes:
            await write_schedules(self._db, schedules)
            return []
        changing = {(c.segment_id, c.person_id) for c in changes}
        await write_schedules(
            self._db,
            [
                replace(e, at=due.get((e.segment_id, e.person_id), now)) if (e.segment_id, e.person_id) in changing else e
                for e in schedules
            ],
        )
        fault_point("reevaluate.after_due_marks")
        written = await write_changes(self._db, changes)
        fault_point("reevaluate.after_changes")
        await write_schedules(self._db, [e for e in schedules if (e.segment_id, e.person_id) in changing])
        return written

    async def _exits_of_removed_person(self, workspace_id: str, person_id: str, now: float) -> list[MembershipChange]:
        """A deleted or merged-away person leaves every segment, manual ones too
        (their schedules are dropped once these exits are written)."""
        segment_ids = await segments_of_person(self._db, workspace_id, person_id)
        return [
            MembershipChange(
                workspace_id=workspace_id, segment_id=segment_id, person_id=person_id, kind=ChangeKind.EXITED, at=now
            )
            for segment_id in sorted(segment_ids)
        ]

    # -- manual segments -----------------------------------------------------------

    async def apply_manual_changes(
        self, workspace_id: str, segment_id: str, *, add: Sequence[str] = (), remove: Sequence[str] = ()
    ) -> ManualChangeResult:
        """Add and remove people (by internal id) to and from a MANUAL segment,
        recorded and propagated like every other change."""
        segment = await find_segment(self._db, workspace_id, segment_id)
        if segment is None or segment.type is not SegmentType.MANUAL:
            raise NotAManualSegment(f"segment {segment_id!r} is not a MANUAL segment of this workspace")
        wanted = list(dict.fromkeys([*add, *remove]))
        existing = await existing_people(self._db, workspace_id, wanted)
        async with self._locks[workspace_id]:
            members = await members_among(self._db, workspace_id, segment_id, wanted, member_count=segment.member_count)
            now = self.clock.now()
            to_add = [p for p in dict.fromkeys(add) if p in existing and p not in members]
            to_remove = [p for p in dict.fromkeys(remove) if p in existing and p in members]
            changes = [
                MembershipChange(workspace_id=workspace_id, segment_id=segment_id, person_id=p, kind=kind, at=now)
                for kind, people in ((ChangeKind.ENTERED, to_add), (ChangeKind.EXITED, to_remove))
                for p in people
            ]
            written = await write_changes(self._db, changes)
            # another process may have added or removed some of them first
            took_effect = {c.person_id for c in written}
            to_add = [p for p in to_add if p in took_effect]
            to_remove = [p for p in to_remove if p in took_effect]
        self.changefeed.publish(written)
        moved = to_add + to_remove
        if moved and (await self._workspace_rules(workspace_id)).referring_to({segment_id}):
            await self._reevaluate(workspace_id, moved, seeds=frozenset(), changed=frozenset({segment_id}))
        return ManualChangeResult(
            added=tuple(to_add),
            already_members=tuple(p for p in dict.fromkeys(add) if p in existing and p not in to_add),
            removed=tuple(to_remove),
            not_members=tuple(p for p in dict.fromkeys(remove) if p in existing and p not in to_remove),
            not_found=tuple(p for p in wanted if p not in existing),
        )

    async def _adopt_unclaimed_builds(self) -> None:
        """Segments left BUILDING by another process (it saved them, or died
        building them): try to build them here; the build's lease decides."""
        async for doc in self._db[SEGMENTS].find({"state": str(SegmentState.BUILDING)}):
            if doc["_id"] not in self._builds:
                self.segment_saved(Segment.from_document(doc))

    # -- time ----------------------------------------------------------------------

    async def run_due(self) -> int:
        """Re-evaluate every (segment, person) whose scheduled moment has come,
        in every workspace (the one query that is not per workspace: each due
        entry is then handled within its own). Returns how many were due.

        An entry is deleted only after its re-evaluation, and only if that
        did not reschedule it (its segment was deleted, or is building and
        schedules its people itself): a crash in between leaves it due."""
        handled = 0
        async with self._due_lock:
            while True:
                now = self.clock.now()
                due = (
                    await self._db[SCHEDULES]
                    .find({"at": {"$lte": now, "$type": "number"}})
                    .sort([("at", 1), ("_id", 1)])
                    .limit(DUE_BATCH)
                    .to_list()
                )
                if not due:
                    return handled
                await self._leases.confirm(SCHEDULER_LEASE)
                by_workspace: dict[str, list[dict[str, Any]]] = defaultdict(list)
                for entry in due:
                    by_workspace[entry["ws"]].append(entry)
                for workspace_id, entries in by_workspace.items():
                    people = sorted({e["personId"] for e in entries})
                    await self._reevaluate(
                        workspace_id,
                        people,
                        seeds=frozenset(e["segmentId"] for e in entries),
                        due={(e["segmentId"], e["personId"]): e["at"] for e in entries},
                    )
                fault_point("run_due.after_reevaluate")
                await delete_by_ids(self._db[SCHEDULES], [(d["ws"], d["_id"]) for d in due], at={"$lte": now})
                handled += len(due)

    async def _scheduler_loop(self) -> None:
        while True:
            try:
                await self._adopt_unclaimed_builds()
                # Renewed in the background while the round runs: a round of
                # re-evaluations longer than the lease must not let another
                # process run the same due entries meanwhile.
                async with self._leases.held(SCHEDULER_LEASE) as ours:
                    if ours:
                        await self.run_due()
            except asyncio.CancelledError:
                raise
            except LeaseLost:
                pass  # another process runs the schedule now
            except Exception:
                log.exception("scheduled membership re-evaluation failed; retrying")
            await asyncio.sleep(SCHEDULER_POLL_SECONDS)
