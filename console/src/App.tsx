import { useMemo, useState, type FormEvent } from "react";
import { Provider } from "urql";
import { checkApiKey, makeClient } from "./client";
import { ApiKeyContext } from "./apiKey";
import { href, useRoute } from "./router";
import { storeApiKey, storedApiKey } from "./session";
import { PeopleSearch } from "./pages/PeopleSearch";
import { PersonPage } from "./pages/PersonPage";
import { SegmentEditor } from "./pages/SegmentEditor";
import { SegmentPage } from "./pages/SegmentPage";
import { SegmentsList } from "./pages/SegmentsList";
import { Empty } from "./components/ui";

type Session = { apiKey: string; workspace: { id: string; name: string } };
const WORKSPACE_KEY = "segments.workspace";

function restoredSession(): Session | null {
  const apiKey = storedApiKey();
  const workspace = sessionStorage.getItem(WORKSPACE_KEY);
  return apiKey && workspace ? { apiKey, workspace: JSON.parse(workspace) } : null;
}

export function App() {
  const [session, setSession] = useState<Session | null>(restoredSession);
  const [notice, setNotice] = useState<string | null>(null);
  const signOut = (why: string | null) => {
    storeApiKey(null);
    sessionStorage.removeItem(WORKSPACE_KEY);
    setNotice(why);
    setSession(null);
  };
  const client = useMemo(
    () => session && makeClient(session.apiKey, () => signOut("The key is no longer accepted. Sign in again.")),
    [session?.apiKey],
  );
  if (!session || !client) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(signedIn) => {
          storeApiKey(signedIn.apiKey);
          sessionStorage.setItem(WORKSPACE_KEY, JSON.stringify(signedIn.workspace));
          setNotice(null);
          setSession(signedIn);
        }}
      />
    );
  }
  return (
    <ApiKeyContext.Provider value={session.apiKey}>
      <Provider value={client}>
        <Shell workspace={session.workspace} onSignOut={() => signOut(null)} />
      </Provider>
    </ApiKeyContext.Provider>
  );
}

function SignIn({ notice, onSignedIn }: { notice: string | null; onSignedIn: (s: Session) => void }) {
  const [apiKey, setApiKey] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const key = apiKey.trim();
    const answer = await checkApiKey(key);
    setBusy(false);
    if ("error" in answer) setError(answer.error);
    else onSignedIn({ apiKey: key, workspace: answer.workspace });
  };
  return (
    <main className="sign-in">
      <form onSubmit={submit} className="card" aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Segments</h1>
        <p className="muted">Sign in with the app API key of a workspace.</p>
        {notice && <p className="notice" role="status">{notice}</p>}
        <label htmlFor="api-key">App API key</label>
        <input
          id="api-key"
          type="password"
          autoComplete="off"
          value={apiKey}
          onChange={(e) => setApiKey(e.target.value)}
          placeholder="app_…"
          required
          aria-describedby="api-key-help"
        />
        <p id="api-key-help" className="help">
          <code>segments workspace create NAME</code> prints it as <code>appApiKey</code>. It is kept in this browser tab only.
        </p>
        {error && <p className="form-error" role="alert">{error}</p>}
        <button type="submit" disabled={busy || !apiKey.trim()}>{busy ? "Checking…" : "Sign in"}</button>
      </form>
    </main>
  );
}

function Shell({ workspace, onSignOut }: { workspace: Session["workspace"]; onSignOut: () => void }) {
  const route = useRoute();
  const section = route.page === "people" || route.page === "person" ? "people" : "segments";
  return (
    <div className="shell">
      <header className="topbar">
        <a className="brand" href="#/segments">Segments</a>
        <nav aria-label="Main">
          <a href="#/segments" aria-current={section === "segments" ? "page" : undefined}>Segments</a>
          <a href={href("/people")} aria-current={section === "people" ? "page" : undefined}>People</a>
          <a href="/graphql" target="_blank" rel="noreferrer">GraphiQL</a>
        </nav>
        <span className="workspace" title={workspace.id}>
          Workspace: <strong data-testid="workspace-name">{workspace.name}</strong>
        </span>
        <button type="button" className="secondary small" onClick={onSignOut}>Sign out</button>
      </header>
      <main className="content">
        {route.page === "segments" && <SegmentsList />}
        {route.page === "newSegment" && <SegmentEditor />}
        {route.page === "editSegment" && <SegmentEditor segmentId={route.id} />}
        {route.page === "segment" && <SegmentPage id={route.id} />}
        {route.page === "people" && <PeopleSearch params={route.params} />}
        {route.page === "person" && <PersonPage cioId={route.cioId} />}
        {route.page === "notFound" && (
          <Empty title="Nothing here">
            <a href="#/segments">Back to the segments</a>
          </Empty>
        )}
      </main>
    </div>
  );
}
