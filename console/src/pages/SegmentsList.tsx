import { useCallback, useEffect } from "react";
import { useQuery } from "urql";
import { graphql } from "../gql";
import { ErrorBox, Empty, Loading, When } from "../components/ui";
import { href } from "../router";

export const SegmentsListQuery = graphql(`
  query SegmentsList {
    segments { id name description type state memberCount updatedAt progress { done total } failure }
  }
`);

// Counts are polled, not subscribed to: see docs/decisions.md (console, live counts).
export const POLL_MS = 2000;

export function usePolling(refetch: () => void, everyMs: number) {
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") refetch();
    }, everyMs);
    return () => clearInterval(timer);
  }, [refetch, everyMs]);
}

export function StateBadge({ state, progress }: { state: string; progress?: { done: number; total: number } }) {
  if (state === "BUILDING") {
    const share = progress && progress.total > 0 ? Math.round((100 * progress.done) / progress.total) : 0;
    return (
      <span className="badge building">
        Building
        <progress max={100} value={share} aria-label="Build progress" /> {share}%
      </span>
    );
  }
  return <span className={`badge ${state.toLowerCase()}`}>{state === "READY" ? "Ready" : "Failed"}</span>;
}

export const TYPE_LABELS: Record<string, string> = { DATA_DRIVEN: "Data-driven", MANUAL: "Manual" };

export function SegmentsList() {
  const [{ data, error, fetching }, refetch] = useQuery({ query: SegmentsListQuery, requestPolicy: "cache-and-network" });
  usePolling(useCallback(() => refetch({ requestPolicy: "network-only" }), [refetch]), POLL_MS);
  return (
    <section aria-labelledby="segments-title">
      <div className="page-head">
        <h1 id="segments-title">Segments</h1>
        <a className="button" href="#/segments/new">New segment</a>
      </div>
      {error && !data && <ErrorBox error={error} title="The segments could not be loaded" />}
      {fetching && !data && <Loading what="segments" />}
      {data && data.segments.length === 0 && (
        <Empty title="No segments yet">
          <p>A segment is a group of people: data-driven ones follow a condition, manual ones you fill by hand or CSV.</p>
          <a className="button" href="#/segments/new">Create the first segment</a>
        </Empty>
      )}
      {data && data.segments.length > 0 && (
        <table className="segments-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Type</th>
              <th scope="col">State</th>
              <th scope="col" className="num">Members</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {data.segments.map((segment) => (
              <tr key={segment.id} data-segment-id={segment.id}>
                <td>
                  <a href={`#/segments/${segment.id}`} className="segment-name">{segment.name}</a>
                  {segment.description && <div className="muted small">{segment.description}</div>}
                </td>
                <td>{TYPE_LABELS[segment.type]}</td>
                <td>
                  <StateBadge state={segment.state} progress={segment.progress} />
                  {segment.failure && <div className="form-error small">{segment.failure}</div>}
                </td>
                <td className="num">
                  <a
                    className="count"
                    href={href("/people", { segmentId: segment.id })}
                    aria-label={`${segment.memberCount} members of ${segment.name}: show them`}
                  >
                    {segment.memberCount.toLocaleString()}
                  </a>
                </td>
                <td><When at={segment.updatedAt} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
