// The condition language in its JSON form (CONTRACT §4): what `Segment.condition`
// returns, what the JSON view shows, and what validation paths point into.
// GraphQL takes the same shape with enum values in UPPER_SNAKE_CASE.
import type { ConditionInput } from "./gql/graphql";

export type Duration = { days?: number; hours?: number; minutes?: number; seconds?: number };
export type Window = { within: Duration } | { from?: number; to?: number };
export type Count = { op: CountOp; value: number };
export type Property = { path: string; op: Operator; value?: unknown };
export type EventCondition = { name?: string; filters?: Property[]; count?: Count; window?: Window };
export type PageViewCondition = {
  url?: { op: Operator; value?: unknown };
  filters?: Property[];
  count?: Count;
  window?: Window;
  sameUrl?: boolean;
};
export type DeviceCondition = { platform?: string; filters?: Property[]; lastUsed?: Window };
export type MessageCondition = {
  metric: Metric;
  messageId?: string;
  campaignId?: string;
  channel?: string;
  count?: Count;
  window?: Window;
};
export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | { attribute: Property }
  | { event: EventCondition }
  | { pageView: PageViewCondition }
  | { device: DeviceCondition }
  | { message: MessageCondition }
  | { segment: { id: string; member?: boolean } };

export type ConditionKind = "all" | "any" | "not" | "attribute" | "event" | "pageView" | "device" | "message" | "segment";

export const KIND_LABELS: Record<ConditionKind, string> = {
  all: "All of",
  any: "Any of",
  not: "Not",
  attribute: "Attribute",
  event: "Event",
  pageView: "Page view",
  device: "Device",
  message: "Message",
  segment: "Segment",
};

export const OPERATORS = [
  "eq", "ne", "gt", "gte", "lt", "lte", "between", "in", "notIn", "exists", "notExists",
  "contains", "notContains", "startsWith", "endsWith", "matches", "before", "after", "withinLast", "moreThanAgo",
] as const;
export type Operator = (typeof OPERATORS)[number];

export const OPERATOR_LABELS: Record<Operator, string> = {
  eq: "equals", ne: "does not equal", gt: "is greater than", gte: "is at least", lt: "is less than",
  lte: "is at most", between: "is between", in: "is one of", notIn: "is none of", exists: "exists",
  notExists: "does not exist", contains: "contains", notContains: "does not contain", startsWith: "starts with",
  endsWith: "ends with", matches: "matches (regex)", before: "is before", after: "is after",
  withinLast: "is within the last", moreThanAgo: "is more than … ago",
};

export const COUNT_OPS = ["atLeast", "atMost", "exactly"] as const;
export type CountOp = (typeof COUNT_OPS)[number];
export const COUNT_LABELS: Record<CountOp, string> = { atLeast: "at least", atMost: "at most", exactly: "exactly" };

export const METRICS = [
  "sent", "delivered", "opened", "clicked", "converted", "bounced", "failed", "spammed", "unsubscribed",
] as const;
export type Metric = (typeof METRICS)[number];

export const UNITS = ["days", "hours", "minutes", "seconds"] as const;
export type Unit = (typeof UNITS)[number];

export function kindOf(condition: Condition): ConditionKind {
  return Object.keys(condition)[0] as ConditionKind;
}

export function blank(kind: ConditionKind): Condition {
  switch (kind) {
    case "all": return { all: [blank("attribute")] };
    case "any": return { any: [blank("attribute")] };
    case "not": return { not: blank("attribute") };
    case "attribute": return { attribute: { path: "", op: "eq", value: "" } };
    case "event": return { event: { name: "" } };
    case "pageView": return { pageView: { url: { op: "startsWith", value: "/" } } };
    case "device": return { device: { platform: "ios" } };
    case "message": return { message: { metric: "opened" } };
    case "segment": return { segment: { id: "", member: true } };
  }
}

// Switching a node's kind keeps what carries over: a group's children, or the node itself under a new group.
export function changeKind(condition: Condition, kind: ConditionKind): Condition {
  const current = kindOf(condition);
  if (current === kind) return condition;
  const children = "all" in condition ? condition.all : "any" in condition ? condition.any : null;
  if (kind === "all" || kind === "any") {
    const kept = children ?? ("not" in condition ? [condition.not] : [condition]);
    return kind === "all" ? { all: kept } : { any: kept };
  }
  if (kind === "not") return { not: children?.[0] ?? condition };
  return blank(kind);
}

const upperSnake = (name: string) => name.replace(/([A-Z])/g, "_$1").toUpperCase();

function convertValues(value: unknown, key?: string): unknown {
  if (Array.isArray(value)) return value.map((item) => convertValues(item));
  if (value === null || typeof value !== "object") {
    // Operators, count operators and metrics are GraphQL enum values.
    return (key === "op" || key === "metric") && typeof value === "string" ? upperSnake(value) : value;
  }
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([name, inner]) =>
      // A property's `value` is JSON as written: never rename inside it.
      name === "value" ? [name, inner] : [name, convertValues(inner, name)],
    ),
  );
}

export function toConditionInput(condition: Condition): ConditionInput {
  return convertValues(condition) as ConditionInput;
}

// A server problem's JSON pointer (/condition/all/0/attribute/op) belongs to
// the deepest condition node whose own pointer begins it.
export function nodePointers(condition: Condition, pointer = "/condition"): string[] {
  const kind = kindOf(condition);
  const inner = (condition as Record<string, unknown>)[kind];
  if (kind === "all" || kind === "any") {
    return [pointer, ...(inner as Condition[]).flatMap((child, i) => nodePointers(child, `${pointer}/${kind}/${i}`))];
  }
  if (kind === "not") return [pointer, ...nodePointers(inner as Condition, `${pointer}/not`)];
  return [pointer];
}

export type Problem = { path: string; code: string; message: string };

export function problemsByNode(condition: Condition | null, problems: Problem[]): Map<string, Problem[]> {
  const pointers = condition ? nodePointers(condition) : [];
  const byNode = new Map<string, Problem[]>();
  for (const problem of problems) {
    const owner = pointers
      .filter((p) => problem.path === p || problem.path.startsWith(`${p}/`))
      .sort((a, b) => b.length - a.length)[0];
    const key = owner ?? "";
    byNode.set(key, [...(byNode.get(key) ?? []), problem]);
  }
  return byNode;
}
