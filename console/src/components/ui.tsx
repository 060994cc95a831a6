import type { CombinedError } from "urql";

export function Loading({ what }: { what: string }) {
  return (
    <div className="state loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> Loading {what}…
    </div>
  );
}

export function ErrorBox({ error, title }: { error: CombinedError | string; title?: string }) {
  const message = typeof error === "string" ? error : readableError(error);
  return (
    <div className="state error" role="alert">
      <strong>{title ?? "Something went wrong"}</strong>
      <p>{message}</p>
    </div>
  );
}

export function readableError(error: CombinedError): string {
  if (error.networkError) return "The service cannot be reached. Is it running?";
  return error.graphQLErrors.map((e) => e.message).join("; ") || error.message;
}

export function Empty({ title, children }: { title: string; children?: React.ReactNode }) {
  return (
    <div className="state empty">
      <strong>{title}</strong>
      {children && <div>{children}</div>}
    </div>
  );
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function When({ at }: { at?: string | null }) {
  if (!at) return <span className="muted">—</span>;
  const date = new Date(at);
  return <time dateTime={at} title={date.toISOString()}>{dateTime.format(date)}</time>;
}

export function Json({ value }: { value: unknown }) {
  return <pre className="json">{JSON.stringify(value, null, 2)}</pre>;
}

// Relay paging forwards, with a stack of cursors for going back.
export type Paging = { after: string | null; stack: (string | null)[] };
export const firstPage: Paging = { after: null, stack: [] };

export function Pager(props: {
  paging: Paging;
  setPaging: (p: Paging) => void;
  endCursor?: string | null;
  hasNextPage?: boolean;
  totalCount?: number;
  shown: number;
  pageSize: number;
  noun: string;
}) {
  const { paging, setPaging } = props;
  const start = paging.stack.length * props.pageSize;
  return (
    <nav className="pager" aria-label={`${props.noun} pages`}>
      <span>
        {props.shown === 0 ? "None" : `${start + 1}–${start + props.shown}`}
        {props.totalCount !== undefined && ` of ${props.totalCount.toLocaleString()}`} {props.noun}
      </span>
      <button
        type="button"
        className="secondary small"
        disabled={paging.stack.length === 0}
        onClick={() => setPaging({ after: paging.stack[paging.stack.length - 1], stack: paging.stack.slice(0, -1) })}
      >
        Previous
      </button>
      <button
        type="button"
        className="secondary small"
        disabled={!props.hasNextPage}
        onClick={() => setPaging({ after: props.endCursor ?? null, stack: [...paging.stack, paging.after] })}
      >
        Next
      </button>
    </nav>
  );
}
