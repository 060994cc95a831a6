import { useQuery } from "urql";
import { graphql } from "../gql";
import { Empty, ErrorBox, Json, Loading, When } from "../components/ui";

const PersonQuery = graphql(`
  query PersonPage($cioId: ID!) {
    person(cioId: $cioId) {
      cioId id email attributes createdAt updatedAt suppressed
      devices { token platform lastUsed attributes }
      events(first: 20, type: EVENT) { totalCount edges { node { id name data timestamp } } }
      pageViews: events(first: 20, type: PAGE) { totalCount edges { node { id name timestamp } } }
      deliveries(first: 20) {
        totalCount
        edges { node { deliveryId messageId campaignId broadcastId channel createdAt metrics { sent delivered opened clicked converted bounced failed spammed unsubscribed } } }
      }
      segments { enteredAt segment { id name type } }
      membershipChanges(first: 50) { totalCount edges { node { segmentId kind at } } }
    }
    segments { id name }
  }
`);

export function PersonPage({ cioId }: { cioId: string }) {
  const [{ data, error, fetching }] = useQuery({ query: PersonQuery, variables: { cioId }, requestPolicy: "cache-and-network" });
  if (error && !data) return <ErrorBox error={error} title="This person could not be loaded" />;
  if (fetching && !data) return <Loading what="the person" />;
  const person = data?.person;
  if (!person) {
    return (
      <Empty title="No such person">
        <a href="#/people">Search people</a>
      </Empty>
    );
  }
  const segmentName = (id: string) => data?.segments.find((s) => s.id === id)?.name ?? `${id} (deleted)`;
  return (
    <article aria-labelledby="person-title" className="person">
      <div className="page-head">
        <h1 id="person-title">{person.email ?? person.id ?? person.cioId}</h1>
        {person.suppressed && <span className="badge failed">Suppressed</span>}
      </div>
      <div className="two-columns">
        <section className="card" aria-labelledby="identifiers-title">
          <h2 id="identifiers-title">Identifiers</h2>
          <dl className="facts">
            <dt>Email</dt><dd>{person.email ?? "—"}</dd>
            <dt>Profile id</dt><dd>{person.id ?? "—"}</dd>
            <dt>cioId</dt><dd className="mono">{person.cioId}</dd>
            <dt>Created</dt><dd><When at={person.createdAt} /></dd>
            <dt>Updated</dt><dd><When at={person.updatedAt} /></dd>
          </dl>
        </section>
        <section className="card" aria-labelledby="attributes-title">
          <h2 id="attributes-title">Attributes</h2>
          {person.attributes && Object.keys(person.attributes as object).length ? <Json value={person.attributes} /> : <p className="muted">No attributes.</p>}
        </section>
      </div>
      <section className="card" aria-labelledby="person-segments-title">
        <h2 id="person-segments-title">Segments ({person.segments.length})</h2>
        {person.segments.length === 0 ? (
          <p className="muted">Not in any segment.</p>
        ) : (
          <table data-testid="person-segments">
            <thead><tr><th scope="col">Segment</th><th scope="col">Entered</th></tr></thead>
            <tbody>
              {person.segments.map(({ segment, enteredAt }) => (
                <tr key={segment.id}>
                  <td><a href={`#/segments/${segment.id}`}>{segment.name}</a></td>
                  <td><When at={enteredAt} /></td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section className="card" aria-labelledby="person-history-title">
        <h2 id="person-history-title">Entry and exit history ({person.membershipChanges.totalCount})</h2>
        {person.membershipChanges.edges.length === 0 ? (
          <p className="muted">No entries or exits yet.</p>
        ) : (
          <table data-testid="person-history">
            <thead><tr><th scope="col">When</th><th scope="col">Change</th><th scope="col">Segment</th></tr></thead>
            <tbody>
              {person.membershipChanges.edges.map(({ node }, i) => (
                <tr key={i}>
                  <td><When at={node.at} /></td>
                  <td><span className={`badge ${node.kind.toLowerCase()}`}>{node.kind === "ENTERED" ? "Entered" : "Exited"}</span></td>
                  <td><a href={`#/segments/${node.segmentId}`}>{segmentName(node.segmentId)}</a></td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <div className="two-columns">
        <section className="card" aria-labelledby="events-title">
          <h2 id="events-title">Recent events ({person.events.totalCount})</h2>
          {person.events.edges.length === 0 ? <p className="muted">No events.</p> : (
            <table>
              <thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">Data</th></tr></thead>
              <tbody>
                {person.events.edges.map(({ node }) => (
                  <tr key={node.id}>
                    <td><When at={node.timestamp} /></td>
                    <td>{node.name}</td>
                    <td className="mono small">{JSON.stringify(node.data)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <section className="card" aria-labelledby="pages-title">
          <h2 id="pages-title">Recent page views ({person.pageViews.totalCount})</h2>
          {person.pageViews.edges.length === 0 ? <p className="muted">No page views.</p> : (
            <table>
              <thead><tr><th scope="col">When</th><th scope="col">URL</th></tr></thead>
              <tbody>
                {person.pageViews.edges.map(({ node }) => (
                  <tr key={node.id}><td><When at={node.timestamp} /></td><td>{node.name}</td></tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </div>
      <div className="two-columns">
        <section className="card" aria-labelledby="devices-title">
          <h2 id="devices-title">Devices ({person.devices.length})</h2>
          {person.devices.length === 0 ? <p className="muted">No devices.</p> : (
            <table>
              <thead><tr><th scope="col">Platform</th><th scope="col">Token</th><th scope="col">Last used</th></tr></thead>
              <tbody>
                {person.devices.map((device) => (
                  <tr key={device.token}>
                    <td>{device.platform ?? "—"}</td>
                    <td className="mono small">{device.token}</td>
                    <td><When at={device.lastUsed} /></td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <section className="card" aria-labelledby="deliveries-title">
          <h2 id="deliveries-title">Deliveries ({person.deliveries.totalCount})</h2>
          {person.deliveries.edges.length === 0 ? <p className="muted">No messages sent.</p> : (
            <table>
              <thead><tr><th scope="col">Sent</th><th scope="col">Message</th><th scope="col">Channel</th><th scope="col">What happened</th></tr></thead>
              <tbody>
                {person.deliveries.edges.map(({ node }) => (
                  <tr key={node.deliveryId}>
                    <td><When at={node.metrics.sent ?? node.createdAt} /></td>
                    <td>{node.messageId ?? "—"}<div className="muted small">{node.campaignId ?? node.broadcastId}</div></td>
                    <td>{node.channel ?? "—"}</td>
                    <td className="small">
                      {Object.entries(node.metrics)
                        .filter(([name, at]) => name !== "__typename" && at)
                        .map(([name]) => name)
                        .join(", ")}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </div>
    </article>
  );
}
