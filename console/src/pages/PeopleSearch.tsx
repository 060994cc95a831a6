import { useState, type FormEvent } from "react";
import { useQuery } from "urql";
import { graphql } from "../gql";
import { useApiKey } from "../apiKey";
import { downloadCsv } from "../client";
import { SelectField, TextField } from "../components/fields";
import { Empty, ErrorBox, Loading, Pager, When, firstPage, type Paging } from "../components/ui";
import { navigate } from "../router";

const PAGE_SIZE = 25;

const PeopleQuery = graphql(`
  query People(
    $first: Int, $after: String, $email: String, $profileId: String, $attribute: AttributeFilterInput,
    $segmentId: ID, $notInSegmentId: ID
  ) {
    people(
      first: $first, after: $after, email: $email, profileId: $profileId, attribute: $attribute,
      segmentId: $segmentId, notInSegmentId: $notInSegmentId
    ) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { cioId id email createdAt attributes } }
    }
    segments { id name }
  }
`);

// The search lives in the URL (#/people?segmentId=...), so a count's link opens it pre-filtered.
const FILTERS = ["email", "profileId", "attributePath", "attributeValue", "segmentId", "notInSegmentId"] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

function filtersOf(params: URLSearchParams): Filters {
  return Object.fromEntries(FILTERS.flatMap((name) => (params.get(name) ? [[name, params.get(name)!]] : [])));
}

function attributeOf(filters: Filters): { path: string; value: unknown } | null {
  if (!filters.attributePath || filters.attributeValue === undefined) return null;
  try {
    return { path: filters.attributePath, value: JSON.parse(filters.attributeValue) };
  } catch {
    return { path: filters.attributePath, value: filters.attributeValue };
  }
}

export function PeopleSearch({ params }: { params: URLSearchParams }) {
  const filters = filtersOf(params);
  const key = JSON.stringify(filters);
  // A new search starts on its first page.
  return <PeopleResults key={key} filters={filters} />;
}

function PeopleResults({ filters }: { filters: Filters }) {
  const apiKey = useApiKey();
  const [paging, setPaging] = useState<Paging>(firstPage);
  const [exportError, setExportError] = useState<string | null>(null);
  const [exporting, setExporting] = useState(false);
  const [{ data, error, fetching }] = useQuery({
    query: PeopleQuery,
    variables: {
      first: PAGE_SIZE,
      after: paging.after,
      email: filters.email,
      profileId: filters.profileId,
      attribute: attributeOf(filters),
      segmentId: filters.segmentId,
      notInSegmentId: filters.notInSegmentId,
    },
    requestPolicy: "cache-and-network",
  });
  const segmentName = (id?: string) => data?.segments.find((s) => s.id === id)?.name ?? id;
  const exportCsv = async () => {
    setExporting(true);
    setExportError(null);
    const query = new URLSearchParams(filters as Record<string, string>);
    const result = await downloadCsv(apiKey, `/exports/people.csv?${query}`);
    setExporting(false);
    setExportError(result.error ?? null);
  };
  const described = [
    filters.segmentId && `in ${segmentName(filters.segmentId)}`,
    filters.notInSegmentId && `not in ${segmentName(filters.notInSegmentId)}`,
    filters.email && `email contains “${filters.email}”`,
    filters.profileId && `profile id ${filters.profileId}`,
    filters.attributePath && `${filters.attributePath} = ${filters.attributeValue}`,
  ].filter(Boolean);
  return (
    <section aria-labelledby="people-title">
      <div className="page-head">
        <h1 id="people-title">People</h1>
        <button type="button" className="secondary" onClick={exportCsv} disabled={exporting || !data}>
          {exporting ? "Exporting…" : "Export CSV"}
        </button>
      </div>
      {exportError && <ErrorBox error={exportError} title="Export failed" />}
      <SearchForm initial={filters} segments={data?.segments ?? []} />
      <p className="muted" data-testid="search-summary">
        {described.length ? `People ${described.join(", ")}` : "Everybody in the workspace"}
      </p>
      {error && <ErrorBox error={error} title="The search failed" />}
      {fetching && !data && <Loading what="people" />}
      {data && data.people.edges.length === 0 && <Empty title="Nobody matches this search" />}
      {data && data.people.edges.length > 0 && (
        <>
          <table className="people-table">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Profile id</th>
                <th scope="col">cioId</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {data.people.edges.map(({ node }) => (
                <tr key={node.cioId}>
                  <td><a href={`#/people/${node.cioId}`}>{node.email ?? <span className="muted">no email</span>}</a></td>
                  <td>{node.id ?? <span className="muted">—</span>}</td>
                  <td className="mono">{node.cioId}</td>
                  <td><When at={node.createdAt} /></td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager
            paging={paging}
            setPaging={setPaging}
            endCursor={data.people.pageInfo.endCursor}
            hasNextPage={data.people.pageInfo.hasNextPage}
            totalCount={data.people.totalCount}
            shown={data.people.edges.length}
            pageSize={PAGE_SIZE}
            noun="people"
          />
        </>
      )}
    </section>
  );
}

function SearchForm({ initial, segments }: { initial: Filters; segments: { id: string; name: string }[] }) {
  const [form, setForm] = useState<Filters>(initial);
  const initialValue = attributeOf(initial)?.value;
  const [valueType, setValueType] = useState(typeof initialValue === "number" ? "number" : typeof initialValue === "boolean" ? "boolean" : "text");
  const [attributeText, setAttributeText] = useState(initialValue === undefined ? "" : String(initialValue));
  const set = (patch: Filters) => setForm({ ...form, ...patch });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const value = valueType === "number" ? Number(attributeText) : valueType === "boolean" ? attributeText === "true" : attributeText;
    const attribute = form.attributePath ? { attributePath: form.attributePath, attributeValue: JSON.stringify(value) } : {};
    navigate("/people", { ...form, attributePath: undefined, attributeValue: undefined, ...attribute });
  };
  const segmentOptions: [string, string][] = [["", "any"], ...segments.map((s): [string, string] => [s.id, s.name])];
  return (
    <form className="card search-form" onSubmit={submit} aria-label="Search people">
      <TextField label="Email contains" value={form.email ?? ""} onChange={(email) => set({ email })} />
      <TextField label="Profile id" value={form.profileId ?? ""} onChange={(profileId) => set({ profileId })} />
      <TextField label="Attribute" value={form.attributePath ?? ""} onChange={(attributePath) => set({ attributePath })} placeholder="plan" />
      <TextField label="equals" value={attributeText} onChange={setAttributeText} placeholder="pro" />
      <SelectField label="Value type" value={valueType} options={[["text", "text"], ["number", "number"], ["boolean", "true/false"]]} onChange={setValueType} />
      <SelectField label="In segment" value={form.segmentId ?? ""} options={segmentOptions} onChange={(segmentId) => set({ segmentId })} />
      <SelectField label="Not in segment" value={form.notInSegmentId ?? ""} options={segmentOptions} onChange={(notInSegmentId) => set({ notInSegmentId })} />
      <div className="actions">
        <button type="submit">Search</button>
        <a className="button secondary" href="#/people">Clear</a>
      </div>
    </form>
  );
}
