"""Manual membership over GraphQL: `addPeopleToSegment`,
`removePeopleFromSegment` and `importSegmentMembers` (a CSV file sent with
the GraphQL multipart request spec). Results are unions; what happened to
each identifier or CSV row is data (docs/manual-segments.md)."""

from __future__ import annotations

from typing import Annotated, Literal, overload

import strawberry
from strawberry.file_uploads import Upload

from resolvers.context import Info
from resolvers.limits import upload_size
from resolvers.errors import Error, NotFoundError, ValidationError, ValidationProblem
from resolvers.segments.types import Person, Segment, membership_engine
from resolvers.segments.types import _person as person_by_id
from rules.manual.csv_import import CsvImportError, ImportReport, import_members
from rules.manual.csv_import import ImportMode as ImportModeValue
from rules.manual.csv_import import RowProblem as RowProblemValue
from rules.people.identifiers import IdKind
from rules.manual.changes import Direction, ManualChangeInvalid, ManualChangeReport, Outcome, change_membership
from rules.membership.engine import NotAManualSegment
from rules.segments.records import SegmentNotFound, get_segment

# GraphQL enums: aliases of the domain's enums (valid types for mypy), named by strawberry.enum.
IdType = IdKind
strawberry.enum(IdKind, name="IdType", description="Which identifier a value is: profile id, email or cioId.")
ImportMode = ImportModeValue
strawberry.enum(ImportModeValue, name="ImportMode")
CsvRowProblem = RowProblemValue
strawberry.enum(RowProblemValue, name="CsvRowProblem")


@strawberry.type(description="The segment is DATA_DRIVEN: its members follow its condition, never a hand.")
class NotManualSegmentError(Error):
    pass


@strawberry.type(description="The file as a whole cannot be imported (no header, no identifier column); nothing changed.")
class ImportFileError(Error):
    pass


@strawberry.type(description="An identifier that cannot address anybody, and why.")
class InvalidIdentifier:
    identifier: str
    message: str


@strawberry.type(description="A person named by an identifier of the request.")
class IdentifiedPerson:
    identifier: str = strawberry.field(description="As given in the request.")
    person_id: strawberry.Private[str]

    @strawberry.field
    async def person(self, info: Info) -> Person | None:
        return await person_by_id(info, self.person_id)


def _people(report: ManualChangeReport, outcome: Outcome) -> list[IdentifiedPerson]:
    # Every outcome but NOT_FOUND and INVALID names its person.
    return [IdentifiedPerson(identifier=o.identifier, person_id=o.person_id) for o in report.having(outcome) if o.person_id]


@strawberry.type(description="What adding did, per identifier; the segment as it is now.")
class PeopleAddedToSegment:
    segment: Segment
    added: list[IdentifiedPerson]
    already_members: list[IdentifiedPerson]
    not_found: list[str] = strawberry.field(description="Identifiers that name no person of the workspace.")
    invalid: list[InvalidIdentifier]


@strawberry.type(description="What removing did, per identifier; the segment as it is now.")
class PeopleRemovedFromSegment:
    segment: Segment
    removed: list[IdentifiedPerson]
    already_absent: list[IdentifiedPerson] = strawberry.field(description="People who were not members.")
    not_found: list[str] = strawberry.field(description="Identifiers that name no person of the workspace.")
    invalid: list[InvalidIdentifier]


@strawberry.type(description="A CSV row that was not imported.")
class CsvBadRow:
    line: int = strawberry.field(description="Where the row starts in the file; the header is line 1.")
    problem: CsvRowProblem
    message: str


@strawberry.type(description="What an import did, or would do (dryRun): the same report either way.")
class SegmentImport:
    segment: Segment
    mode: ImportMode
    dry_run: bool
    rows: int = strawberry.field(description="Data rows read; blank lines are not rows.")
    added: int
    already_members: int
    removed: int = strawberry.field(description="REPLACE: members the file does not name.")
    not_found: int
    invalid: int = strawberry.field(description="Rows with an empty or invalid identifier.")
    duplicates: int
    malformed: int
    bad_row_count: int
    bad_rows: list[CsvBadRow] = strawberry.field(description="The first bad rows, in line order (at most 1,000).")

    @classmethod
    def of(cls, segment: Segment, report: ImportReport) -> SegmentImport:
        return cls(
            segment=segment,
            mode=report.mode,
            dry_run=report.dry_run,
            rows=report.rows,
            added=report.added,
            already_members=report.already_members,
            removed=report.removed,
            not_found=report.count(RowProblemValue.UNKNOWN_PERSON),
            invalid=report.count(RowProblemValue.EMPTY_IDENTIFIER) + report.count(RowProblemValue.INVALID_IDENTIFIER),
            duplicates=report.count(RowProblemValue.DUPLICATE),
            malformed=report.count(RowProblemValue.MALFORMED_LINE),
            bad_row_count=report.bad_row_count,
            bad_rows=[CsvBadRow(line=row.line, problem=row.problem, message=row.message) for row in report.bad_rows],
        )


SegmentRefusal = NotFoundError | NotManualSegmentError
AddPeopleToSegmentResult = Annotated[
    PeopleAddedToSegment | ValidationError | SegmentRefusal, strawberry.union("AddPeopleToSegmentResult")
]
RemovePeopleFromSegmentResult = Annotated[
    PeopleRemovedFromSegment | ValidationError | SegmentRefusal, strawberry.union("RemovePeopleFromSegmentResult")
]
ImportSegmentMembersResult = Annotated[
    SegmentImport | ImportFileError | SegmentRefusal, strawberry.union("ImportSegmentMembersResult")
]


def _refusal(error: SegmentNotFound | NotAManualSegment) -> SegmentRefusal:
    if isinstance(error, SegmentNotFound):
        return NotFoundError(message=str(error))
    return NotManualSegmentError(message=str(error))


async def _current(info: Info, segment_id: str) -> Segment:
    return Segment.from_record(await get_segment(info.context.db, info.context.workspace.id, segment_id))


@overload
async def _change(
    info: Info, direction: Literal[Direction.ADD], segment_id: strawberry.ID, ids: list[str], id_type: IdKind
) -> PeopleAddedToSegment | ValidationError | SegmentRefusal: ...
@overload
async def _change(
    info: Info, direction: Literal[Direction.REMOVE], segment_id: strawberry.ID, ids: list[str], id_type: IdKind
) -> PeopleRemovedFromSegment | ValidationError | SegmentRefusal: ...
async def _change(
    info: Info, direction: Direction, segment_id: strawberry.ID, ids: list[str], id_type: IdKind
) -> PeopleAddedToSegment | PeopleRemovedFromSegment | ValidationError | SegmentRefusal:
    try:
        report = await change_membership(
            info.context.db,
            membership_engine(info),
            info.context.workspace.id,
            str(segment_id),
            direction=direction,
            kind=IdKind(id_type),
            identifiers=ids,
        )
    except ManualChangeInvalid as problem:
        return ValidationError(
            message=str(problem), problems=[ValidationProblem(path="/ids", code="INVALID_VALUE", message=str(problem))]
        )
    except (SegmentNotFound, NotAManualSegment) as error:
        return _refusal(error)
    segment = await _current(info, str(segment_id))
    not_found = [o.identifier for o in report.having(Outcome.NOT_FOUND)]
    invalid = [InvalidIdentifier(identifier=o.identifier, message=o.message or "") for o in report.having(Outcome.INVALID)]
    if direction is Direction.ADD:
        return PeopleAddedToSegment(
            segment=segment,
            added=_people(report, Outcome.ADDED),
            already_members=_people(report, Outcome.ALREADY_MEMBER),
            not_found=not_found,
            invalid=invalid,
        )
    return PeopleRemovedFromSegment(
        segment=segment,
        removed=_people(report, Outcome.REMOVED),
        already_absent=_people(report, Outcome.ALREADY_ABSENT),
        not_found=not_found,
        invalid=invalid,
    )


IdsArgument = Annotated[list[str], strawberry.argument(description="1 to 1,000 identifiers of the kind idType says.")]
IdTypeArgument = Annotated[IdType, strawberry.argument(description="Defaults to ID (the profile id).")]


@strawberry.type
class ManualSegmentsMutation:
    @strawberry.mutation(description="Adds existing people to a MANUAL segment; reports on every identifier.")
    async def add_people_to_segment(
        self, info: Info, segment_id: strawberry.ID, ids: IdsArgument, id_type: IdTypeArgument = IdKind.ID
    ) -> AddPeopleToSegmentResult:
        return await _change(info, Direction.ADD, segment_id, ids, id_type)

    @strawberry.mutation(description="Removes people from a MANUAL segment; reports on every identifier.")
    async def remove_people_from_segment(
        self, info: Info, segment_id: strawberry.ID, ids: IdsArgument, id_type: IdTypeArgument = IdKind.ID
    ) -> RemovePeopleFromSegmentResult:
        return await _change(info, Direction.REMOVE, segment_id, ids, id_type)

    @strawberry.mutation(
        description="Imports a CSV file (UTF-8, a header line) into a MANUAL segment. The identifier column is the "
        "one named id, email or cio_id (case-insensitive; with several, each row uses its first non-empty one), or "
        "the one `column` names. Bad rows are reported and skipped; good rows are imported."
    )
    async def import_segment_members(
        self,
        info: Info,
        segment_id: strawberry.ID,
        file: Upload,
        mode: ImportMode = ImportModeValue.APPEND,
        dry_run: Annotated[bool, strawberry.argument(description="Report what would happen; change nothing.")] = False,
        column: Annotated[str | None, strawberry.argument(description="The identifier column's header.")] = None,
        id_type: Annotated[
            IdType | None, strawberry.argument(description="What `column` holds, if its name does not say.")
        ] = None,
    ) -> ImportSegmentMembersResult:
        # The Upload scalar takes any variable value; only a file part has `.file`.
        binary = getattr(file, "file", None)
        if binary is None:
            return ImportFileError(message="file: send the CSV as a file part of a multipart request (GraphQL multipart request spec)")
        max_bytes = info.context.services.settings.max_upload_bytes
        if (size := upload_size(binary)) > max_bytes:
            return ImportFileError(
                message=f"file: {size} bytes; at most {max_bytes} are allowed (SEGMENTS_MAX_UPLOAD_BYTES); nothing was changed"
            )
        try:
            report = await import_members(
                info.context.db,
                membership_engine(info),
                info.context.workspace.id,
                str(segment_id),
                binary,
                mode=ImportModeValue(mode),
                dry_run=dry_run,
                column=column,
                id_type=None if id_type is None else IdKind(id_type),
            )
        except CsvImportError as error:
            return ImportFileError(message=str(error))
        except (SegmentNotFound, NotAManualSegment) as error:
            return _refusal(error)
        return SegmentImport.of(await _current(info, str(segment_id)), report)
