import { useCallback, useEffect, useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { graphql } from "../gql";
import type { PersonRefInput } from "../gql/graphql";
import { useApiKey } from "../apiKey";
import { downloadCsv } from "../client";
import { SelectField, TextField } from "../components/fields";
import { Empty, ErrorBox, Json, Loading, Pager, When, firstPage, type Paging } from "../components/ui";
import { navigate } from "../router";
import { CsvImport, PasteMembers } from "./ManualMembers";
import { POLL_MS, StateBadge, TYPE_LABELS, usePolling } from "./SegmentsList";

const PAGE_SIZE = 25;

const SegmentQuery = graphql(`
  query SegmentPage($id: ID!) {
    segment(id: $id) {
      id name description type state memberCount condition createdAt updatedAt failure
      progress { done total }
    }
    segments { id name }
  }
`);

const MembersQuery = graphql(`
  query SegmentMembers($id: ID!, $first: Int, $after: String) {
    segment(id: $id) {
      id
      members(first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { cioId id email enteredAt } }
      }
    }
  }
`);

const ChangesQuery = graphql(`
  query SegmentChanges($id: ID!, $first: Int, $after: String, $kind: MembershipChangeKind) {
    segment(id: $id) {
      id
      changes(first: $first, after: $after, kind: $kind) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { kind at personCioId person { cioId email id } } }
      }
    }
  }
`);

const ExplainQuery = graphql(`
  query Explain($segmentId: ID!, $person: PersonRefInput!) {
    explainMembership(segmentId: $segmentId, person: $person) {
      __typename
      ... on MembershipExplanation { isMember holds explanation person { cioId email id } }
      ... on NotFoundError { message }
    }
  }
`);

const DeleteSegmentMutation = graphql(`
  mutation DeleteSegment($id: ID!) {
    deleteSegment(id: $id) {
      __typename
      ... on DeletedSegment { id name }
      ... on ConflictError { message segmentIds }
      ... on Error { message }
    }
  }
`);

type Tab = "members" | "history" | "explain" | "manage";

export function SegmentPage({ id }: { id: string }) {
  const apiKey = useApiKey();
  const [{ data, error, fetching }, refetch] = useQuery({ query: SegmentQuery, variables: { id }, requestPolicy: "cache-and-network" });
  usePolling(useCallback(() => refetch({ requestPolicy: "network-only" }), [refetch]), POLL_MS);
  const [tab, setTab] = useState<Tab>("members");
  const [explainFor, setExplainFor] = useState<string | null>(null);
  const [exportError, setExportError] = useState<string | null>(null);
  if (error && !data) return <ErrorBox error={error} title="The segment could not be loaded" />;
  if (fetching && !data) return <Loading what="the segment" />;
  const segment = data?.segment;
  if (!segment) {
    return (
      <Empty title="This segment does not exist">
        <p>It may have been deleted.</p>
        <a href="#/segments">Back to the segments</a>
      </Empty>
    );
  }
  const manual = segment.type === "MANUAL";
  const tabs: [Tab, string][] = [
    ["members", "Members"],
    ["history", "History"],
    ["explain", "Why in or not?"],
    ...(manual ? [["manage", "Add or remove people"] as [Tab, string]] : []),
  ];
  const explain = (cioId: string) => {
    setExplainFor(cioId);
    setTab("explain");
  };
  return (
    <article aria-labelledby="segment-title">
      <div className="page-head">
        <div>
          <h1 id="segment-title">{segment.name}</h1>
          {segment.description && <p className="muted">{segment.description}</p>}
        </div>
        <div className="actions">
          <a className="button secondary" href={`#/segments/${segment.id}/edit`}>Edit</a>
          <button
            type="button"
            className="secondary"
            onClick={async () => setExportError((await downloadCsv(apiKey, `/exports/segments/${segment.id}.csv`)).error ?? null)}
          >
            Export CSV
          </button>
          <DeleteButton id={segment.id} name={segment.name} segments={data.segments} />
        </div>
      </div>
      {exportError && <ErrorBox error={exportError} title="Export failed" />}
      <dl className="facts card inline">
        <dt>Type</dt><dd>{TYPE_LABELS[segment.type]}</dd>
        <dt>State</dt><dd><StateBadge state={segment.state} progress={segment.progress} /></dd>
        <dt>Members</dt>
        <dd>
          <a className="count" data-testid="segment-member-count" href={`#/people?segmentId=${segment.id}`}>{segment.memberCount.toLocaleString()}</a>
        </dd>
        <dt>Updated</dt><dd><When at={segment.updatedAt} /></dd>
      </dl>
      {segment.failure && <ErrorBox error={segment.failure} title="The last build failed" />}
      {segment.condition != null && (
        <details className="card">
          <summary>Condition</summary>
          <Json value={segment.condition} />
        </details>
      )}
      <div role="tablist" className="tabs" aria-label="Segment sections">
        {tabs.map(([name, label]) => (
          <button key={name} type="button" role="tab" aria-selected={tab === name} className={tab === name ? "active" : ""} onClick={() => setTab(name)}>
            {label}
          </button>
        ))}
      </div>
      <div role="tabpanel">
        {tab === "members" && <Members id={segment.id} memberCount={segment.memberCount} onExplain={explain} />}
        {tab === "history" && <History id={segment.id} />}
        {tab === "explain" && <Explain key={explainFor ?? ""} segmentId={segment.id} cioId={explainFor} segments={data.segments} />}
        {tab === "manage" && (
          <div className="two-columns">
            <PasteMembers segmentId={segment.id} />
            <CsvImport segmentId={segment.id} />
          </div>
        )}
      </div>
    </article>
  );
}

function DeleteButton({ id, name, segments }: { id: string; name: string; segments: { id: string; name: string }[] }) {
  const [confirming, setConfirming] = useState(false);
  const [refusal, setRefusal] = useState<string | null>(null);
  const [, deleteSegment] = useMutation(DeleteSegmentMutation);
  const remove = async () => {
    const result = await deleteSegment({ id }, { additionalTypenames: ["Segment"] });
    const outcome = result.data?.deleteSegment;
    if (outcome?.__typename === "DeletedSegment") {
      navigate("/segments");
      return;
    }
    setConfirming(false);
    if (outcome?.__typename === "ConflictError") {
      const names = outcome.segmentIds.map((other) => segments.find((s) => s.id === other)?.name ?? other);
      setRefusal(`${name} cannot be deleted while other segments refer to it: ${names.join(", ")}. Change or delete those first.`);
    } else {
      setRefusal(outcome && "message" in outcome ? outcome.message : result.error?.message ?? "Not deleted.");
    }
  };
  return (
    <>
      {!confirming && <button type="button" className="danger" onClick={() => { setRefusal(null); setConfirming(true); }}>Delete</button>}
      {confirming && (
        <span className="confirm" role="group" aria-label="Confirm deletion">
          Delete {name} with its members and history?
          <button type="button" className="danger" onClick={remove}>Delete for good</button>
          <button type="button" className="secondary" onClick={() => setConfirming(false)}>Keep it</button>
        </span>
      )}
      {refusal && <p className="form-error wide" role="alert">{refusal}</p>}
    </>
  );
}

function Members({ id, memberCount, onExplain }: { id: string; memberCount: number; onExplain: (cioId: string) => void }) {
  const [paging, setPaging] = useState<Paging>(firstPage);
  const [{ data, error, fetching }, refetch] = useQuery({
    query: MembersQuery,
    variables: { id, first: PAGE_SIZE, after: paging.after },
    requestPolicy: "cache-and-network",
  });
  // Re-read when the (polled) count changes, so the page follows entries and exits.
  useEffect(() => refetch({ requestPolicy: "network-only" }), [memberCount, refetch]);
  if (error && !data) return <ErrorBox error={error} title="The members could not be loaded" />;
  if (fetching && !data) return <Loading what="members" />;
  const members = data?.segment?.members;
  if (!members || members.edges.length === 0) return <Empty title="No members yet" />;
  return (
    <section aria-label="Members">
      <table data-testid="members">
        <thead><tr><th scope="col">Email</th><th scope="col">Profile id</th><th scope="col">Entered</th><th scope="col"><span className="sr-only">Explain</span></th></tr></thead>
        <tbody>
          {members.edges.map(({ node }) => (
            <tr key={node.cioId}>
              <td><a href={`#/people/${node.cioId}`}>{node.email ?? node.cioId}</a></td>
              <td>{node.id ?? "—"}</td>
              <td><When at={node.enteredAt} /></td>
              <td><button type="button" className="link" onClick={() => onExplain(node.cioId)}>Why?</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager paging={paging} setPaging={setPaging} endCursor={members.pageInfo.endCursor} hasNextPage={members.pageInfo.hasNextPage}
        totalCount={members.totalCount} shown={members.edges.length} pageSize={PAGE_SIZE} noun="members" />
    </section>
  );
}

function History({ id }: { id: string }) {
  const [kind, setKind] = useState<"" | "ENTERED" | "EXITED">("");
  const [paging, setPaging] = useState<Paging>(firstPage);
  const [{ data, error, fetching }] = useQuery({
    query: ChangesQuery,
    variables: { id, first: PAGE_SIZE, after: paging.after, kind: kind || null },
    requestPolicy: "cache-and-network",
  });
  const changes = data?.segment?.changes;
  return (
    <section aria-label="History">
      <SelectField
        label="Show"
        value={kind}
        options={[["", "entries and exits"], ["ENTERED", "entries only"], ["EXITED", "exits only"]]}
        onChange={(k) => { setKind(k as typeof kind); setPaging(firstPage); }}
      />
      {error && !data && <ErrorBox error={error} title="The history could not be loaded" />}
      {fetching && !data && <Loading what="history" />}
      {changes && changes.edges.length === 0 && <Empty title="No changes recorded" />}
      {changes && changes.edges.length > 0 && (
        <>
          <table data-testid="history">
            <thead><tr><th scope="col">When</th><th scope="col">Change</th><th scope="col">Person</th></tr></thead>
            <tbody>
              {changes.edges.map(({ node }, i) => (
                <tr key={i}>
                  <td><When at={node.at} /></td>
                  <td><span className={`badge ${node.kind.toLowerCase()}`}>{node.kind === "ENTERED" ? "Entered" : "Exited"}</span></td>
                  <td>
                    {node.person ? <a href={`#/people/${node.person.cioId}`}>{node.person.email ?? node.person.id ?? node.personCioId}</a>
                      : <span className="muted">{node.personCioId} (deleted)</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager paging={paging} setPaging={setPaging} endCursor={changes.pageInfo.endCursor} hasNextPage={changes.pageInfo.hasNextPage}
            totalCount={changes.totalCount} shown={changes.edges.length} pageSize={PAGE_SIZE} noun="changes" />
        </>
      )}
    </section>
  );
}

type ExplanationNode = { holds: boolean; kind: string; path: string; summary: string; nextChangeAt?: number | null; children?: ExplanationNode[] };

function Explain({ segmentId, cioId, segments }: { segmentId: string; cioId: string | null; segments: { id: string; name: string }[] }) {
  const [idType, setIdType] = useState<"email" | "id" | "cioId">(cioId ? "cioId" : "email");
  const [identifier, setIdentifier] = useState(cioId ?? "");
  const [asked, setAsked] = useState<PersonRefInput | null>(cioId ? { cioId } : null);
  const [{ data, error, fetching }] = useQuery({
    query: ExplainQuery,
    variables: { segmentId, person: asked ?? { cioId: "" } },
    pause: !asked,
    requestPolicy: "network-only",
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const value = identifier.trim();
    if (value) setAsked(idType === "email" ? { email: value } : idType === "id" ? { id: value } : { cioId: value });
  };
  const result = data?.explainMembership;
  return (
    <section aria-label="Explain membership">
      <form className="inline-form" onSubmit={submit}>
        <SelectField label="Person by" value={idType} options={[["email", "email"], ["id", "profile id"], ["cioId", "cioId"]]} onChange={(t) => setIdType(t as typeof idType)} />
        <TextField label="Identifier" value={identifier} onChange={setIdentifier} />
        <button type="submit">Explain</button>
      </form>
      {fetching && <Loading what="the explanation" />}
      {error && <ErrorBox error={error} title="No explanation" />}
      {result?.__typename === "NotFoundError" && <ErrorBox error={result.message} title="Not found" />}
      {result?.__typename === "MembershipExplanation" && (
        <div className="card explanation" data-testid="explanation">
          <p>
            <strong>{result.person.email ?? result.person.id ?? result.person.cioId}</strong> is{" "}
            <strong>{result.isMember ? "a member" : "not a member"}</strong>
            {result.holds != null && <> — the condition {result.holds ? "holds" : "does not hold"} now</>}.
          </p>
          {result.explanation ? <ExplanationTree node={result.explanation as ExplanationNode} segments={segments} /> : <p className="muted">A manual segment has no condition: people are added and removed by hand.</p>}
        </div>
      )}
    </section>
  );
}

// The evaluator names referenced segments by id; show their names.
function withSegmentNames(summary: string, segments: { id: string; name: string }[]): string {
  return summary.replace(/seg_[0-9a-f]+/g, (id) => {
    const name = segments.find((s) => s.id === id)?.name;
    return name ? `“${name}”` : id;
  });
}

function ExplanationTree({ node, segments }: { node: ExplanationNode; segments: { id: string; name: string }[] }) {
  return (
    <ul className="explain-tree">
      <li className={node.holds ? "holds" : "fails"}>
        <span className="mark" aria-label={node.holds ? "holds" : "does not hold"}>{node.holds ? "✓" : "✗"}</span>{" "}
        {withSegmentNames(node.summary, segments)}
        {node.nextChangeAt && <span className="muted small"> (may change on <When at={new Date(node.nextChangeAt * 1000).toISOString()} />)</span>}
        {node.children?.map((child, i) => <ExplanationTree key={i} node={child} segments={segments} />)}
      </li>
    </ul>
  );
}
