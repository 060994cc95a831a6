// Builds a condition by clicking: one editor per node of the condition tree,
// with the server's problems shown beside the node their pointer names.
import { useState } from "react";
import { Checkbox, NumberField, SelectField, TextField } from "./fields";
import {
  COUNT_LABELS, COUNT_OPS, KIND_LABELS, METRICS, OPERATORS, OPERATOR_LABELS, UNITS,
  blank, changeKind, kindOf,
  type Condition, type ConditionKind, type Count, type Duration, type Operator, type Problem, type Property, type Unit,
  type Window,
} from "../condition";

export type SegmentChoice = { id: string; name: string };

type NodeProps = {
  condition: Condition;
  onChange: (next: Condition) => void;
  onRemove?: () => void;
  pointer: string;
  problems: Map<string, Problem[]>;
  segments: SegmentChoice[];
};

export function ConditionBuilder(props: Omit<NodeProps, "pointer">) {
  return (
    <div className="builder">
      <ConditionNode {...props} pointer="/condition" />
    </div>
  );
}

function Problems({ problems }: { problems?: Problem[] }) {
  if (!problems?.length) return null;
  return (
    <ul className="problems" role="alert">
      {problems.map((p) => (
        <li key={p.path + p.code + p.message}>
          {p.message} <span className="muted">({p.path})</span>
        </li>
      ))}
    </ul>
  );
}

function ConditionNode({ condition, onChange, onRemove, pointer, problems, segments }: NodeProps) {
  const kind = kindOf(condition);
  const ownProblems = problems.get(pointer);
  return (
    <fieldset className={`node node-${kind}${ownProblems ? " has-problems" : ""}`} data-pointer={pointer}>
      <legend className="sr-only">Condition {pointer}</legend>
      <div className="node-head">
        <select
          aria-label="Condition type"
          value={kind}
          onChange={(e) => onChange(changeKind(condition, e.target.value as ConditionKind))}
        >
          {(Object.keys(KIND_LABELS) as ConditionKind[]).map((k) => (
            <option key={k} value={k}>{KIND_LABELS[k]}</option>
          ))}
        </select>
        {onRemove && (
          <button type="button" className="link danger" onClick={onRemove} aria-label={`Remove condition ${pointer}`}>
            Remove
          </button>
        )}
      </div>
      <NodeBody condition={condition} onChange={onChange} pointer={pointer} problems={problems} segments={segments} />
      <Problems problems={ownProblems} />
    </fieldset>
  );
}

function NodeBody({ condition, onChange, pointer, problems, segments }: NodeProps) {
  if ("all" in condition || "any" in condition) {
    const key = "all" in condition ? "all" : "any";
    const children = "all" in condition ? condition.all : (condition as { any: Condition[] }).any;
    const set = (next: Condition[]) => onChange((key === "all" ? { all: next } : { any: next }) as Condition);
    return (
      <div className="group">
        {children.map((child, i) => (
          <ConditionNode
            key={i}
            condition={child}
            pointer={`${pointer}/${key}/${i}`}
            problems={problems}
            segments={segments}
            onChange={(next) => set(children.map((c, j) => (j === i ? next : c)))}
            onRemove={children.length > 1 ? () => set(children.filter((_, j) => j !== i)) : undefined}
          />
        ))}
        <button type="button" className="secondary small" onClick={() => set([...children, blank("attribute")])}>
          + Add condition
        </button>
      </div>
    );
  }
  if ("not" in condition) {
    return (
      <div className="group">
        <ConditionNode
          condition={condition.not}
          pointer={`${pointer}/not`}
          problems={problems}
          segments={segments}
          onChange={(next) => onChange({ not: next })}
        />
      </div>
    );
  }
  if ("attribute" in condition) {
    return <PropertyEditor property={condition.attribute} onChange={(attribute) => onChange({ attribute })} pathLabel="Attribute path" />;
  }
  if ("event" in condition) {
    const event = condition.event;
    const set = (patch: Partial<typeof event>) => onChange({ event: prune({ ...event, ...patch }) });
    return (
      <div className="fields">
        <TextField label="Event name" value={event.name ?? ""} onChange={(name) => set({ name: name || undefined })} placeholder="purchase (empty: any event)" />
        <CountEditor count={event.count} onChange={(count) => set({ count })} />
        <WindowEditor label="When" window={event.window} onChange={(window) => set({ window })} />
        <FiltersEditor filters={event.filters} onChange={(filters) => set({ filters })} />
      </div>
    );
  }
  if ("pageView" in condition) {
    const view = condition.pageView;
    const set = (patch: Partial<typeof view>) => onChange({ pageView: prune({ ...view, ...patch }) });
    return (
      <div className="fields">
        <PropertyEditor
          property={{ path: "url", ...(view.url ?? { op: "startsWith", value: "" }) }}
          onChange={({ op, value }) => set({ url: { op, value } })}
          pathLabel={null}
          valueLabel="URL"
        />
        <CountEditor count={view.count} onChange={(count) => set({ count })} />
        <Checkbox label="All on the same URL" checked={view.sameUrl ?? false} onChange={(sameUrl) => set({ sameUrl: sameUrl || undefined })} />
        <WindowEditor label="When" window={view.window} onChange={(window) => set({ window })} />
        <FiltersEditor filters={view.filters} onChange={(filters) => set({ filters })} />
      </div>
    );
  }
  if ("device" in condition) {
    const device = condition.device;
    const set = (patch: Partial<typeof device>) => onChange({ device: prune({ ...device, ...patch }) });
    return (
      <div className="fields">
        <TextField label="Platform" value={device.platform ?? ""} onChange={(platform) => set({ platform: platform || undefined })} placeholder="ios, android (empty: any)" />
        <WindowEditor label="Last used" window={device.lastUsed} onChange={(lastUsed) => set({ lastUsed })} />
        <FiltersEditor filters={device.filters} onChange={(filters) => set({ filters })} />
      </div>
    );
  }
  if ("message" in condition) {
    const message = condition.message;
    const set = (patch: Partial<typeof message>) => onChange({ message: prune({ ...message, ...patch }) });
    return (
      <div className="fields">
        <SelectField label="Metric" value={message.metric} options={METRICS.map((m) => [m, m])} onChange={(metric) => set({ metric: metric as typeof message.metric })} />
        <TextField label="Message id" value={message.messageId ?? ""} onChange={(v) => set({ messageId: v || undefined })} placeholder="any" />
        <TextField label="Campaign id" value={message.campaignId ?? ""} onChange={(v) => set({ campaignId: v || undefined })} placeholder="any" />
        <TextField label="Channel" value={message.channel ?? ""} onChange={(v) => set({ channel: v || undefined })} placeholder="email, push, sms (empty: any)" />
        <CountEditor count={message.count} onChange={(count) => set({ count })} />
        <WindowEditor label="When" window={message.window} onChange={(window) => set({ window })} />
      </div>
    );
  }
  const reference = condition.segment;
  return (
    <div className="fields">
      <SelectField
        label="Member of"
        value={reference.member === false ? "false" : "true"}
        options={[["true", "is in segment"], ["false", "is not in segment"]]}
        onChange={(v) => onChange({ segment: { ...reference, member: v === "true" } })}
      />
      <SelectField
        label="Segment"
        value={reference.id}
        options={[["", "Choose a segment…"], ...segments.map((s): [string, string] => [s.id, s.name])]}
        onChange={(id) => onChange({ segment: { ...reference, id } })}
      />
    </div>
  );
}

// Optional fields are left out rather than sent empty.
function prune<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function CountEditor({ count, onChange }: { count?: Count; onChange: (c: Count | undefined) => void }) {
  const current = count ?? { op: "atLeast" as const, value: 1 };
  const set = (next: Count) => onChange(next.op === "atLeast" && next.value === 1 ? undefined : next);
  return (
    <span className="inline-fields">
      <SelectField label="How often" value={current.op} options={COUNT_OPS.map((op) => [op, COUNT_LABELS[op]])} onChange={(op) => set({ ...current, op: op as Count["op"] })} />
      <NumberField label="Times" value={current.value} onChange={(value) => set({ ...current, value: Math.max(0, Math.round(value ?? 0)) })} />
    </span>
  );
}

function DurationEditor({ label, duration, onChange }: { label: string; duration: Duration; onChange: (d: Duration) => void }) {
  const unit = (UNITS.find((u) => duration[u] !== undefined) ?? "days") as Unit;
  return (
    <span className="inline-fields">
      <NumberField label={label} value={duration[unit]} onChange={(amount) => onChange({ [unit]: amount ?? 0 })} />
      <SelectField label="Unit" value={unit} options={UNITS.map((u) => [u, u])} onChange={(u) => onChange({ [u]: duration[unit] ?? 1 })} />
    </span>
  );
}

const toLocalInput = (seconds?: number) =>
  seconds === undefined ? "" : new Date(seconds * 1000 - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
const fromLocalInput = (text: string) => (text ? new Date(text).getTime() / 1000 : undefined);

function WindowEditor({ label, window, onChange }: { label: string; window?: Window; onChange: (w: Window | undefined) => void }) {
  const mode = window === undefined ? "ever" : "within" in window ? "within" : "between";
  return (
    <span className="inline-fields">
      <SelectField
        label={label}
        value={mode}
        options={[["ever", "any time"], ["within", "within the last"], ["between", "between dates"]]}
        onChange={(m) => onChange(m === "ever" ? undefined : m === "within" ? { within: { days: 7 } } : {})}
      />
      {window && "within" in window && (
        <DurationEditor label="Amount" duration={window.within} onChange={(within) => onChange({ within })} />
      )}
      {window && !("within" in window) && (
        <>
          <TextField label="From" type="datetime-local" value={toLocalInput(window.from)} onChange={(t) => onChange(prune({ ...window, from: fromLocalInput(t) }))} />
          <TextField label="To" type="datetime-local" value={toLocalInput(window.to)} onChange={(t) => onChange(prune({ ...window, to: fromLocalInput(t) }))} />
        </>
      )}
    </span>
  );
}

function FiltersEditor({ filters, onChange }: { filters?: Property[]; onChange: (f: Property[] | undefined) => void }) {
  const list = filters ?? [];
  const set = (next: Property[]) => onChange(next.length ? next : undefined);
  return (
    <div className="filters">
      {list.map((filter, i) => (
        <div className="filter" key={i}>
          <PropertyEditor property={filter} pathLabel="Property" onChange={(next) => set(list.map((f, j) => (j === i ? next : f)))} />
          <button type="button" className="link danger" onClick={() => set(list.filter((_, j) => j !== i))}>
            Remove filter
          </button>
        </div>
      ))}
      <button type="button" className="secondary small" onClick={() => set([...list, { path: "", op: "eq", value: "" }])}>
        + Add property filter
      </button>
    </div>
  );
}

type ValueType = "text" | "number" | "boolean";
const RANGE_OPS: Operator[] = ["gt", "gte", "lt", "lte", "between"];
const TEXT_OPS: Operator[] = ["contains", "notContains", "startsWith", "endsWith", "matches"];

function typed(text: string, type: ValueType): unknown {
  if (type === "number") return text.trim() !== "" && !Number.isNaN(Number(text)) ? Number(text) : text;
  if (type === "boolean") return text === "true";
  return text;
}

function typeOf(value: unknown): ValueType {
  const sample = Array.isArray(value) ? value[0] : value;
  return typeof sample === "number" ? "number" : typeof sample === "boolean" ? "boolean" : "text";
}

// A property test: path, operator, and a value whose editor follows the operator.
function PropertyEditor(props: { property: Property; onChange: (p: Property) => void; pathLabel: string | null; valueLabel?: string }) {
  const { property, onChange } = props;
  const [type, setType] = useState<ValueType>(() => typeOf(property.value));
  const [texts, setTexts] = useState<string[]>(() => {
    const value = property.value;
    if (Array.isArray(value)) return property.op === "between" ? value.map(String) : [value.join(", ")];
    return [value === undefined || value === null || typeof value === "object" ? "" : String(value)];
  });
  const valueFor = (op: Operator, nextTexts: string[], nextType: ValueType): unknown => {
    if (op === "between") return [typed(nextTexts[0] ?? "", nextType), typed(nextTexts[1] ?? "", nextType)];
    if (op === "in" || op === "notIn") return (nextTexts[0] ?? "").split(",").map((t) => t.trim()).filter(Boolean).map((t) => typed(t, nextType));
    return typed(nextTexts[0] ?? "", TEXT_OPS.includes(op) ? "text" : nextType);
  };
  const setOp = (op: Operator) => {
    let nextType = type;
    if (RANGE_OPS.includes(op) && type === "text" && texts.every((t) => t === "" || !Number.isNaN(Number(t)))) nextType = "number";
    setType(nextType);
    if (op === "exists" || op === "notExists") onChange({ path: property.path, op });
    else if (op === "withinLast" || op === "moreThanAgo") onChange({ path: property.path, op, value: { days: 7 } });
    else if (op === "before" || op === "after") onChange({ path: property.path, op, value: Math.floor(Date.now() / 1000) });
    else onChange({ path: property.path, op, value: valueFor(op, texts, nextType) });
  };
  const setText = (i: number, text: string) => {
    const next = texts.slice();
    next[i] = text;
    setTexts(next);
    onChange({ ...property, value: valueFor(property.op, next, type) });
  };
  const op = property.op;
  const valueLabel = props.valueLabel ?? "Value";
  return (
    <span className="property">
      {props.pathLabel && (
        <TextField label={props.pathLabel} value={property.path} onChange={(path) => onChange({ ...property, path })} placeholder="plan, address.city" />
      )}
      <SelectField label="Operator" value={op} options={OPERATORS.map((o) => [o, OPERATOR_LABELS[o]])} onChange={(o) => setOp(o as Operator)} />
      {(op === "withinLast" || op === "moreThanAgo") && (
        <DurationEditor label="Amount" duration={(property.value as Duration) ?? { days: 7 }} onChange={(value) => onChange({ ...property, value })} />
      )}
      {(op === "before" || op === "after") && (
        <TextField label="Date" type="datetime-local" value={toLocalInput(property.value as number)} onChange={(t) => onChange({ ...property, value: fromLocalInput(t) })} />
      )}
      {op === "between" && (
        <>
          <TextField label="From value" value={texts[0] ?? ""} onChange={(t) => setText(0, t)} />
          <TextField label="To value" value={texts[1] ?? ""} onChange={(t) => setText(1, t)} />
        </>
      )}
      {["eq", "ne", "gt", "gte", "lt", "lte", "in", "notIn", ...TEXT_OPS].includes(op) && (
        <TextField
          label={op === "in" || op === "notIn" ? `${valueLabel}s (comma-separated)` : valueLabel}
          value={texts[0] ?? ""}
          onChange={(t) => setText(0, t)}
        />
      )}
      {!TEXT_OPS.includes(op) && !["exists", "notExists", "withinLast", "moreThanAgo", "before", "after"].includes(op) && (
        <SelectField
          label="Value type"
          value={type}
          options={[["text", "text"], ["number", "number"], ["boolean", "true/false"]]}
          onChange={(t) => {
            setType(t as ValueType);
            onChange({ ...property, value: valueFor(op, texts, t as ValueType) });
          }}
        />
      )}
    </span>
  );
}
