// Node labels, with Kubernetes' rules, shared by the manager (which checks every change) and
// opsctl (which parses `key=value` and `key-` the way kubectl label does, and says what is wrong
// before anything is sent). Types and plain functions only: opsctl loads this at run time.

/** A name segment: at most 63 characters, alphanumeric at both ends, `-`, `_`, `.` inside. */
const NAME = /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/;
/** A prefix: a DNS subdomain, lower case, at most 253 characters. */
const PREFIX = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** Why `key` is not a label key, or undefined when it is one (`[prefix/]name`). */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !PREFIX.test(prefix))) return `label key "${key}": the prefix must be a lower-case DNS subdomain of at most 253 characters`;
  if (!NAME.test(name)) return `label key "${key}": the name must be 1–63 characters, letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
  return undefined;
}

/** Why `value` is not a label value, or undefined (empty, or like a key's name). */
export function labelValueProblem(key: string, value: string): string | undefined {
  if (value === '' || NAME.test(value)) return undefined;
  return `label ${key}: the value "${value}" must be at most 63 characters, letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
}

export interface LabelChange {
  set: Record<string, string>;
  remove: string[];
}

/** The problems of a change (every key and value checked), empty when it is fine. */
export function labelChangeProblems(change: LabelChange): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(change.set)) problems.push(...[labelKeyProblem(key), labelValueProblem(key, value)].filter((p): p is string => !!p));
  for (const key of change.remove) {
    const p = labelKeyProblem(key);
    if (p) problems.push(p);
    if (Object.hasOwn(change.set, key)) problems.push(`label ${key} is both set and removed`);
  }
  return problems;
}

/** Whether an argument of `opsctl nodes label` is a change (`key=value`, `key-`) rather than a node name. */
export const isLabelArg = (arg: string): boolean => arg.includes('=') || arg.endsWith('-');

/** `env=prod`, `tier-` → the change they make. */
export function parseLabelArgs(args: readonly string[]): LabelChange {
  const change: LabelChange = { set: {}, remove: [] };
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq >= 0) change.set[arg.slice(0, eq)] = arg.slice(eq + 1);
    else change.remove.push(arg.slice(0, -1));
  }
  return change;
}

/**
 * The labels selectors and dynamic groups match: the host's own (hostd.yaml) overlaid by the
 * operator's, so an operator can always override what a host claims.
 */
export function effectiveLabels(node: { labels?: Record<string, string> | null; hostLabels?: Record<string, string> | null }): Record<string, string> {
  return { ...(node.hostLabels ?? {}), ...(node.labels ?? {}) };
}

/** The labels among `labels` that follow the rules, and why each other one does not. */
export function splitValidLabels(labels: Record<string, string>): { valid: Record<string, string>; problems: string[] } {
  const valid: Record<string, string> = {};
  const problems: string[] = [];
  for (const [key, value] of Object.entries(labels)) {
    const problem = labelKeyProblem(key) ?? labelValueProblem(key, value);
    if (problem) problems.push(problem);
    else valid[key] = value;
  }
  return { valid, problems };
}
