import type { LabelRequirement, ObjectSelector } from "../../config/mod.ts";

/**
 * Whether an object's labels satisfy every requirement, with the semantics of Kubernetes'
 * `labels.Selector.Matches`: `not_in` also holds when the key is absent; `gt`/`lt` need the
 * value to be an integer.
 */
export function matchesLabels(
  requirements: readonly LabelRequirement[],
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  for (const req of requirements) {
    const value = labels !== undefined && Object.hasOwn(labels, req.key)
      ? labels[req.key]
      : undefined;
    if (!holds(req, value)) return false;
  }
  return true;
}

function holds(req: LabelRequirement, value: string | undefined): boolean {
  switch (req.op) {
    case "exists":
      return value !== undefined;
    case "not_exists":
      return value === undefined;
    case "in":
      return value !== undefined && req.values.includes(value);
    case "not_in":
      return value === undefined || !req.values.includes(value);
    case "gt":
    case "lt": {
      if (value === undefined || !/^[-+]?[0-9]+$/.test(value)) return false;
      const n = Number(value);
      return req.op === "gt" ? n > req.value : n < req.value;
    }
  }
}

/** Whether an object passes a whole selector: its labels and its annotations. */
export function matchesSelector(
  selector: ObjectSelector,
  labels: Readonly<Record<string, string>> | undefined,
  annotations: Readonly<Record<string, string>> | undefined,
): boolean {
  if (!matchesLabels(selector.labels, labels)) return false;
  for (const { key, value } of selector.annotations) {
    if (annotations === undefined || !Object.hasOwn(annotations, key)) return false;
    if (annotations[key] !== value) return false;
  }
  return true;
}
