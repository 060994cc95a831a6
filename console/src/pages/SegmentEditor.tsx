import { useEffect, useMemo, useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { graphql } from "../gql";
import { ConditionBuilder } from "../components/ConditionBuilder";
import { SelectField, TextField } from "../components/fields";
import { ErrorBox, Loading } from "../components/ui";
import { blank, problemsByNode, toConditionInput, type Condition, type Problem } from "../condition";
import { navigate } from "../router";

const EditorSegmentQuery = graphql(`
  query EditorSegment($id: ID!) {
    segment(id: $id) { id name description type condition }
    segments { id name }
  }
`);

const SegmentChoicesQuery = graphql(`
  query SegmentChoices { segments { id name } }
`);

const PreviewQuery = graphql(`
  query Preview($condition: ConditionInput!, $segmentId: ID) {
    previewSegment(condition: $condition, segmentId: $segmentId) {
      count wouldEnter wouldLeave
      sample { cioId id email }
    }
  }
`);

const CreateSegmentMutation = graphql(`
  mutation CreateSegment($input: CreateSegmentInput!) {
    createSegment(input: $input) {
      __typename
      ... on Segment { id }
      ... on ValidationError { message problems { path code message } }
      ... on Error { message }
    }
  }
`);

const UpdateSegmentMutation = graphql(`
  mutation UpdateSegment($id: ID!, $input: UpdateSegmentInput!) {
    updateSegment(id: $id, input: $input) {
      __typename
      ... on Segment { id }
      ... on ValidationError { message problems { path code message } }
      ... on Error { message }
    }
  }
`);

export function SegmentEditor({ segmentId }: { segmentId?: string }) {
  const [existing] = useQuery({ query: EditorSegmentQuery, variables: { id: segmentId ?? "" }, pause: !segmentId, requestPolicy: "network-only" });
  const [choices] = useQuery({ query: SegmentChoicesQuery, pause: !!segmentId });
  if (segmentId) {
    if (existing.error) return <ErrorBox error={existing.error} title="The segment could not be loaded" />;
    if (!existing.data) return <Loading what="the segment" />;
    if (!existing.data.segment) return <ErrorBox error="This segment does not exist (it may have been deleted)." title="Not found" />;
    const segment = existing.data.segment;
    return (
      <EditorForm
        segmentId={segment.id}
        initial={{
          name: segment.name,
          description: segment.description ?? "",
          type: segment.type,
          condition: (segment.condition as Condition | null) ?? null,
        }}
        segments={existing.data.segments.filter((s) => s.id !== segment.id)}
      />
    );
  }
  return (
    <EditorForm
      initial={{ name: "", description: "", type: "DATA_DRIVEN", condition: blank("all") }}
      segments={choices.data?.segments ?? []}
    />
  );
}

type Draft = { name: string; description: string; type: "DATA_DRIVEN" | "MANUAL"; condition: Condition | null };

function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

function problemsOf(error: unknown): Problem[] {
  const graphQLErrors = (error as { graphQLErrors?: { extensions?: { problems?: Problem[] } }[] })?.graphQLErrors ?? [];
  return graphQLErrors.flatMap((e) => e.extensions?.problems ?? []);
}

function EditorForm({ segmentId, initial, segments }: { segmentId?: string; initial: Draft; segments: { id: string; name: string }[] }) {
  const [draft, setDraft] = useState<Draft>(initial);
  // Bumped when the JSON view replaces the tree, so the editors re-read their values.
  const [revision, setRevision] = useState(0);
  const [saveProblems, setSaveProblems] = useState<Problem[]>([]);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [, createSegment] = useMutation(CreateSegmentMutation);
  const [, updateSegment] = useMutation(UpdateSegmentMutation);
  const [saving, setSaving] = useState(false);

  const dataDriven = draft.type === "DATA_DRIVEN";
  const settledCondition = useDebounced(draft.condition, 350);
  const conditionInput = useMemo(() => (settledCondition ? toConditionInput(settledCondition) : null), [settledCondition]);
  const [preview] = useQuery({
    query: PreviewQuery,
    variables: { condition: conditionInput!, segmentId },
    pause: !dataDriven || !conditionInput,
    requestPolicy: "network-only",
  });
  const previewProblems = preview.error ? problemsOf(preview.error) : [];
  // Problems from the last save attempt until the condition changes, then the preview's.
  const problems = problemsByNode(draft.condition, saveProblems.length ? saveProblems : previewProblems);
  const conditionChanged = JSON.stringify(draft.condition) !== JSON.stringify(initial.condition);

  const update = (patch: Partial<Draft>) => {
    setDraft({ ...draft, ...patch });
    if ("condition" in patch) setSaveProblems([]);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaving(true);
    setSaveError(null);
    setSaveProblems([]);
    const condition = dataDriven && draft.condition ? toConditionInput(draft.condition) : null;
    const result = segmentId
      ? await updateSegment({
          id: segmentId,
          input: { name: draft.name, description: draft.description || null, ...(conditionChanged && condition ? { condition } : {}) },
        }).then((r) => ({ error: r.error, data: r.data?.updateSegment }))
      : await createSegment({
          input: { name: draft.name, description: draft.description || null, type: draft.type, condition },
        }).then((r) => ({ error: r.error, data: r.data?.createSegment }));
    setSaving(false);
    if (result.error || !result.data) {
      setSaveError(result.error?.message ?? "The segment could not be saved.");
      return;
    }
    if (result.data.__typename === "Segment") {
      navigate(`/segments/${result.data.id}`);
      return;
    }
    setSaveError(result.data.message);
    if (result.data.__typename === "ValidationError") setSaveProblems(result.data.problems);
  };

  const unplaced = [...(problems.get("") ?? [])];
  return (
    <form className="editor" onSubmit={submit} aria-labelledby="editor-title">
      <div className="page-head">
        <h1 id="editor-title">{segmentId ? `Edit ${initial.name}` : "New segment"}</h1>
        <div className="actions">
          <a className="button secondary" href={segmentId ? `#/segments/${segmentId}` : "#/segments"}>Cancel</a>
          <button type="submit" disabled={saving || !draft.name.trim()}>{saving ? "Saving…" : "Save segment"}</button>
        </div>
      </div>
      {saveError && (
        <div className="state error" role="alert">
          <strong>Not saved</strong>
          <p>{saveError}</p>
        </div>
      )}
      <div className="editor-grid">
        <div className="editor-main">
          <div className="card fields">
            <TextField label="Name" value={draft.name} onChange={(name) => update({ name })} placeholder="High value customers" />
            <TextField label="Description (optional)" value={draft.description} onChange={(description) => update({ description })} />
            {segmentId ? (
              <span className="field"><span className="label">Segment type</span> <span>{dataDriven ? "Data-driven" : "Manual"}</span></span>
            ) : (
              <SelectField
                label="Segment type"
                value={draft.type}
                options={[["DATA_DRIVEN", "Data-driven: people who match a condition"], ["MANUAL", "Manual: people you add by id, email or CSV"]]}
                onChange={(type) => update({ type: type as Draft["type"] })}
              />
            )}
          </div>
          {dataDriven && draft.condition && (
            <div className="card">
              <h2>Condition</h2>
              <ConditionBuilder
                key={revision}
                condition={draft.condition}
                onChange={(condition) => update({ condition })}
                problems={problems}
                segments={segments}
              />
              {unplaced.length > 0 && (
                <ul className="problems" role="alert">
                  {unplaced.map((p) => <li key={p.path + p.message}>{p.path}: {p.message}</li>)}
                </ul>
              )}
              <JsonView
                condition={draft.condition}
                onApply={(condition) => {
                  update({ condition });
                  setRevision(revision + 1);
                }}
              />
            </div>
          )}
        </div>
        {dataDriven && (
          <aside className="card preview" aria-labelledby="preview-title" aria-live="polite">
            <h2 id="preview-title">Who matches now</h2>
            {preview.fetching && <p className="muted" role="status">Counting…</p>}
            {preview.error && (
              <p className="form-error">
                {previewProblems.length
                  ? `Fix ${previewProblems.length} problem${previewProblems.length > 1 ? "s" : ""} in the condition to see the count.`
                  : preview.error.message}
              </p>
            )}
            {preview.data && !preview.error && (
              <>
                <p className="big-count">
                  <span data-testid="preview-count">{preview.data.previewSegment.count.toLocaleString()}</span>
                  <span className="muted"> people</span>
                </p>
                {preview.data.previewSegment.wouldEnter != null && (
                  <p data-testid="preview-diff">
                    If saved: <strong>{preview.data.previewSegment.wouldEnter.toLocaleString()}</strong> would enter,{" "}
                    <strong>{preview.data.previewSegment.wouldLeave?.toLocaleString()}</strong> would leave.
                  </p>
                )}
                {preview.data.previewSegment.sample.length > 0 && (
                  <>
                    <h3>Sample</h3>
                    <ul className="sample">
                      {preview.data.previewSegment.sample.map((person) => (
                        <li key={person.cioId}>
                          <a href={`#/people/${person.cioId}`}>{person.email ?? person.id ?? person.cioId}</a>
                        </li>
                      ))}
                    </ul>
                  </>
                )}
              </>
            )}
          </aside>
        )}
      </div>
    </form>
  );
}

function JsonView({ condition, onApply }: { condition: Condition; onApply: (c: Condition) => void }) {
  const [open, setOpen] = useState(false);
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const show = () => {
    setText(JSON.stringify(condition, null, 2));
    setError(null);
    setOpen(true);
  };
  const apply = () => {
    try {
      const parsed = JSON.parse(text);
      if (!parsed || typeof parsed !== "object" || Array.isArray(parsed) || Object.keys(parsed).length !== 1) {
        setError("A condition is an object with exactly one key, e.g. {\"all\": [...]}.");
        return;
      }
      onApply(parsed as Condition);
      setOpen(false);
    } catch (e) {
      setError(`Not valid JSON: ${(e as Error).message}`);
    }
  };
  if (!open) {
    return <button type="button" className="secondary small" onClick={show}>Show as JSON</button>;
  }
  return (
    <div className="json-view">
      <label htmlFor="condition-json">Condition as JSON</label>
      <textarea id="condition-json" rows={14} value={text} onChange={(e) => setText(e.target.value)} spellCheck={false} />
      {error && <p className="form-error" role="alert">{error}</p>}
      <div className="actions">
        <button type="button" className="small" onClick={apply}>Apply JSON</button>
        <button type="button" className="secondary small" onClick={() => setOpen(false)}>Hide JSON</button>
      </div>
    </div>
  );
}
