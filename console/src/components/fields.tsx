// Labelled form controls: every input has a visible <label>, so forms are
// usable by keyboard and screen reader, and tests find fields by their labels.
import { useId, useState } from "react";

export function TextField(props: { label: string; value: string; onChange: (v: string) => void; placeholder?: string; type?: string }) {
  const id = useId();
  return (
    <span className="field">
      <label htmlFor={id}>{props.label}</label>
      <input id={id} type={props.type ?? "text"} value={props.value} placeholder={props.placeholder} onChange={(e) => props.onChange(e.target.value)} />
    </span>
  );
}

export function SelectField(props: { label: string; value: string; options: [string, string][]; onChange: (v: string) => void }) {
  const id = useId();
  return (
    <span className="field">
      <label htmlFor={id}>{props.label}</label>
      <select id={id} value={props.value} onChange={(e) => props.onChange(e.target.value)}>
        {props.options.map(([value, label]) => (
          <option key={value} value={value}>{label}</option>
        ))}
      </select>
    </span>
  );
}

export function Checkbox(props: { label: string; checked: boolean; onChange: (v: boolean) => void }) {
  const id = useId();
  return (
    <span className="field checkbox">
      <input id={id} type="checkbox" checked={props.checked} onChange={(e) => props.onChange(e.target.checked)} />
      <label htmlFor={id}>{props.label}</label>
    </span>
  );
}

export function NumberField(props: { label: string; value: number | undefined; onChange: (v: number | undefined) => void }) {
  const id = useId();
  const [text, setText] = useState(props.value === undefined ? "" : String(props.value));
  return (
    <span className="field">
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        type="number"
        className="narrow"
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          props.onChange(e.target.value === "" ? undefined : Number(e.target.value));
        }}
      />
    </span>
  );
}

