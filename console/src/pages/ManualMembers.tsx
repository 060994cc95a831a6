import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { graphql } from "../gql";
import { SelectField } from "../components/fields";
import { ErrorBox } from "../components/ui";

// The API's limit per add or remove (CONTRACT: 1 to 1,000 identifiers).
const MAX_IDENTIFIERS = 1000;

const AddPeopleMutation = graphql(`
  mutation AddPeople($segmentId: ID!, $ids: [String!]!, $idType: IdType!) {
    addPeopleToSegment(segmentId: $segmentId, ids: $ids, idType: $idType) {
      __typename
      ... on PeopleAddedToSegment {
        added { identifier } alreadyMembers { identifier } notFound invalid { identifier message }
        segment { id memberCount }
      }
      ... on Error { message }
    }
  }
`);

const RemovePeopleMutation = graphql(`
  mutation RemovePeople($segmentId: ID!, $ids: [String!]!, $idType: IdType!) {
    removePeopleFromSegment(segmentId: $segmentId, ids: $ids, idType: $idType) {
      __typename
      ... on PeopleRemovedFromSegment {
        removed { identifier } alreadyAbsent { identifier } notFound invalid { identifier message }
        segment { id memberCount }
      }
      ... on Error { message }
    }
  }
`);

const ImportMutation = graphql(`
  mutation ImportMembers($segmentId: ID!, $file: Upload!, $mode: ImportMode!, $dryRun: Boolean!, $column: String, $idType: IdType) {
    importSegmentMembers(segmentId: $segmentId, file: $file, mode: $mode, dryRun: $dryRun, column: $column, idType: $idType) {
      __typename
      ... on SegmentImport {
        dryRun mode rows added alreadyMembers removed notFound invalid duplicates malformed badRowCount
        badRows { line problem message }
        segment { id memberCount }
      }
      ... on Error { message }
    }
  }
`);

type Outcome = { identifier: string; result: string; tone: "ok" | "same" | "bad" };
type IdType = "EMAIL" | "ID" | "CIO_ID";
const ID_TYPES: [IdType, string][] = [["EMAIL", "emails"], ["ID", "profile ids"], ["CIO_ID", "cioIds"]];

export function PasteMembers({ segmentId }: { segmentId: string }) {
  const [text, setText] = useState("");
  const [idType, setIdType] = useState<IdType>("EMAIL");
  const [outcomes, setOutcomes] = useState<Outcome[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [, addPeople] = useMutation(AddPeopleMutation);
  const [, removePeople] = useMutation(RemovePeopleMutation);
  const ids = [...new Set(text.split(/\r?\n/).map((line) => line.trim()).filter(Boolean))];

  const run = async (action: "add" | "remove") => {
    setBusy(true);
    setError(null);
    setOutcomes(null);
    const variables = { segmentId, ids, idType };
    const context = { additionalTypenames: ["Segment", "SegmentMember", "MembershipChange"] };
    let report: Outcome[] | null = null;
    let failure: string | undefined;
    if (action === "add") {
      const { data, error } = await addPeople(variables, context);
      const result = data?.addPeopleToSegment;
      if (result?.__typename === "PeopleAddedToSegment") {
        report = [
          ...result.added.map((p) => ({ identifier: p.identifier, result: "added", tone: "ok" as const })),
          ...result.alreadyMembers.map((p) => ({ identifier: p.identifier, result: "already a member", tone: "same" as const })),
          ...result.notFound.map((identifier) => ({ identifier, result: "not found", tone: "bad" as const })),
          ...result.invalid.map((p) => ({ identifier: p.identifier, result: `invalid: ${p.message}`, tone: "bad" as const })),
        ];
      } else failure = result && "message" in result ? result.message : error?.message;
    } else {
      const { data, error } = await removePeople(variables, context);
      const result = data?.removePeopleFromSegment;
      if (result?.__typename === "PeopleRemovedFromSegment") {
        report = [
          ...result.removed.map((p) => ({ identifier: p.identifier, result: "removed", tone: "ok" as const })),
          ...result.alreadyAbsent.map((p) => ({ identifier: p.identifier, result: "was not a member", tone: "same" as const })),
          ...result.notFound.map((identifier) => ({ identifier, result: "not found", tone: "bad" as const })),
          ...result.invalid.map((p) => ({ identifier: p.identifier, result: `invalid: ${p.message}`, tone: "bad" as const })),
        ];
      } else failure = result && "message" in result ? result.message : error?.message;
    }
    setBusy(false);
    if (report) {
      // In the order they were pasted.
      const order = new Map(ids.map((id, i) => [id, i]));
      setOutcomes(report.sort((a, b) => (order.get(a.identifier) ?? 0) - (order.get(b.identifier) ?? 0)));
    } else setError(failure ?? "Nothing changed.");
  };
  const tooMany = ids.length > MAX_IDENTIFIERS;
  const submit = (event: FormEvent) => event.preventDefault();
  return (
    <form className="card" onSubmit={submit} aria-labelledby="paste-title">
      <h2 id="paste-title">Paste people</h2>
      <SelectField label="The lines are" value={idType} options={ID_TYPES} onChange={(t) => setIdType(t as IdType)} />
      <label htmlFor="paste-ids">One per line (up to {MAX_IDENTIFIERS.toLocaleString()})</label>
      <textarea id="paste-ids" rows={8} value={text} onChange={(e) => setText(e.target.value)} placeholder={"ada@example.com\ngrace@example.com"} />
      <p className="help">{ids.length.toLocaleString()} distinct line{ids.length === 1 ? "" : "s"}</p>
      {tooMany && <p className="form-error" role="alert">At most {MAX_IDENTIFIERS.toLocaleString()} at a time: upload a CSV file for more.</p>}
      <div className="actions">
        <button type="button" disabled={busy || ids.length === 0 || tooMany} onClick={() => run("add")}>Add to segment</button>
        <button type="button" className="secondary" disabled={busy || ids.length === 0 || tooMany} onClick={() => run("remove")}>Remove from segment</button>
      </div>
      {error && <ErrorBox error={error} title="Nothing changed" />}
      {outcomes && (
        <table className="outcomes" data-testid="paste-results">
          <thead><tr><th scope="col">Identifier</th><th scope="col">Result</th></tr></thead>
          <tbody>
            {outcomes.map((o) => (
              <tr key={o.identifier} className={o.tone}><td>{o.identifier}</td><td>{o.result}</td></tr>
            ))}
          </tbody>
        </table>
      )}
    </form>
  );
}

type Report = {
  dryRun: boolean; mode: string; rows: number; added: number; alreadyMembers: number; removed: number; notFound: number;
  invalid: number; duplicates: number; malformed: number; badRowCount: number;
  badRows: { line: number; problem: string; message: string }[];
};

// The header line of a CSV file, for the column choice.
async function headerOf(file: File): Promise<string[]> {
  const head = await file.slice(0, 64 * 1024).text();
  const line = head.replace(/^\uFEFF/, "").split(/\r?\n/, 1)[0] ?? "";
  return line.split(",").map((name) => name.trim().replace(/^"(.*)"$/, "$1")).filter(Boolean);
}

export function CsvImport({ segmentId }: { segmentId: string }) {
  const [file, setFile] = useState<File | null>(null);
  const [columns, setColumns] = useState<string[]>([]);
  const [column, setColumn] = useState("");
  const [idType, setIdType] = useState<IdType | "">("");
  const [mode, setMode] = useState<"APPEND" | "REPLACE">("APPEND");
  const [report, setReport] = useState<Report | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [running, setRunning] = useState<"dry" | "real" | null>(null);
  const [, importMembers] = useMutation(ImportMutation);

  const choose = async (chosen: File | null) => {
    setFile(chosen);
    setReport(null);
    setError(null);
    const header = chosen ? await headerOf(chosen) : [];
    setColumns(header);
    const guess = header.find((name) => ["email", "id", "cio_id"].includes(name.toLowerCase())) ?? header[0] ?? "";
    setColumn(guess);
    setIdType("");
  };
  const run = async (dryRun: boolean) => {
    if (!file) return;
    setRunning(dryRun ? "dry" : "real");
    setError(null);
    const { data, error } = await importMembers(
      { segmentId, file, mode, dryRun, column: column || null, idType: idType || null },
      { additionalTypenames: ["Segment", "SegmentMember", "MembershipChange"] },
    );
    setRunning(null);
    const result = data?.importSegmentMembers;
    if (result?.__typename === "SegmentImport") setReport(result);
    else {
      setReport(null);
      setError(result && "message" in result ? result.message : error?.message ?? "The file was not imported.");
    }
  };
  // The real import is offered once a dry run of the same choices has been seen.
  const dryRunSeen = report?.dryRun === true && report.mode === mode;
  return (
    <form className="card" onSubmit={(e) => e.preventDefault()} aria-labelledby="csv-title">
      <h2 id="csv-title">Upload a CSV file</h2>
      <label htmlFor="csv-file">CSV file (UTF-8, with a header line)</label>
      <input id="csv-file" type="file" accept=".csv,text/csv" onChange={(e) => choose(e.target.files?.[0] ?? null)} />
      {file && (
        <>
          <SelectField label="Identifier column" value={column} options={columns.map((c) => [c, c])} onChange={(c) => { setColumn(c); setReport(null); }} />
          <SelectField
            label="The column holds"
            value={idType}
            options={[["", "what its name says (id, email, cio_id)"], ["EMAIL", "emails"], ["ID", "profile ids"], ["CIO_ID", "cioIds"]]}
            onChange={(t) => { setIdType(t as IdType | ""); setReport(null); }}
          />
          <SelectField
            label="Mode"
            value={mode}
            options={[["APPEND", "Append: add the file's people"], ["REPLACE", "Replace: members become exactly the file's people"]]}
            onChange={(m) => { setMode(m as typeof mode); setReport(null); }}
          />
          <div className="actions">
            <button type="button" className="secondary" disabled={!!running} onClick={() => run(true)}>Dry run</button>
            <button type="button" disabled={!!running || !dryRunSeen} onClick={() => run(false)}>Import</button>
          </div>
          {!dryRunSeen && !running && !report && <p className="help">Run a dry run first: it reports what would happen and changes nothing.</p>}
        </>
      )}
      {running && (
        <div className="state loading" role="status">
          <progress aria-label="Import progress" /> {running === "dry" ? "Checking" : "Importing"} {file?.name}…
        </div>
      )}
      {error && <ErrorBox error={error} title="The file was not imported" />}
      {report && <ImportReport report={report} />}
    </form>
  );
}

function ImportReport({ report }: { report: Report }) {
  const would = report.dryRun;
  return (
    <div className="import-report" data-testid="import-report" role="status">
      <h3>{would ? "Dry run: nothing was changed" : "Imported"}</h3>
      <ul className="report-figures">
        <li><strong>{report.rows}</strong> rows read</li>
        <li><strong>{report.added}</strong> {would ? "would be added" : "added"}</li>
        <li><strong>{report.alreadyMembers}</strong> already members</li>
        {report.mode === "REPLACE" && <li><strong>{report.removed}</strong> {would ? "would be removed" : "removed"}</li>}
        <li><strong>{report.notFound}</strong> unknown people</li>
        <li><strong>{report.badRowCount}</strong> bad rows</li>
      </ul>
      {report.badRows.length > 0 && (
        <table data-testid="bad-rows">
          <thead><tr><th scope="col">Line</th><th scope="col">Problem</th></tr></thead>
          <tbody>
            {report.badRows.map((row) => (
              <tr key={row.line}><td>{row.line}</td><td>{row.message}</td></tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
