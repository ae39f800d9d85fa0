// The node selector every command that acts on nodes takes (DESIGN.md §4 Targeting):
// names and globs, label requirements (`env=prod,role!=db,zone in (a,b),!canary,gpu`),
// groups, or all. Kinds combine with AND; names and groups each match any of their entries.
// A name entry may be a node set (`web[01-40,42],db1`, proto/nodeset.ts): it stands for its names.
import { expandNodeSet, isNodeSet, NODESET_LIMIT, NodeSetError, splitNodeSet } from './nodeset.js';

export interface Selector {
  all?: boolean;
  names?: string[];
  labels?: string;
  groups?: string[];
}

export type LabelOp = '=' | '!=' | 'in' | 'notin' | 'exists' | '!exists';
export interface LabelRequirement { key: string; op: LabelOp; values: string[] }

export interface SelectableNode { name: string; labels: Record<string, string>; groups: string[] }

export class SelectorError extends Error {
  constructor(message: string) { super(message); this.name = 'SelectorError'; }
}

const KEY = /^[A-Za-z0-9]([A-Za-z0-9._/-]*[A-Za-z0-9])?$/;
const VALUE = /^[A-Za-z0-9._*-]*$/;

/** Splits on commas that are not inside parentheses. */
function splitTop(input: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of input) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (depth < 0) throw new SelectorError(`unbalanced ")" in label selector "${input}"`);
    if (ch === ',' && depth === 0) { parts.push(current); current = ''; continue; }
    current += ch;
  }
  if (depth !== 0) throw new SelectorError(`unbalanced "(" in label selector "${input}"`);
  parts.push(current);
  return parts.map((p) => p.trim());
}

function checkKey(key: string, whole: string): string {
  if (!KEY.test(key)) throw new SelectorError(`invalid label key "${key}" in "${whole}"`);
  return key;
}

function checkValue(value: string, whole: string): string {
  if (!VALUE.test(value)) throw new SelectorError(`invalid label value "${value}" in "${whole}"`);
  return value;
}

export function parseLabelSelector(input: string): LabelRequirement[] {
  if (input.trim() === '') throw new SelectorError('empty label selector');
  return splitTop(input).map((term) => {
    if (term === '') throw new SelectorError(`empty term in label selector "${input}"`);
    const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(term);
    if (set) {
      const values = set[3].split(',').map((v) => checkValue(v.trim(), term)).filter((v) => v !== '');
      if (values.length === 0) throw new SelectorError(`"${term}" lists no values`);
      return { key: checkKey(set[1], term), op: set[2] as LabelOp, values };
    }
    const cmp = /^([^=!\s]+)\s*(!=|==|=)\s*(.*)$/.exec(term);
    if (cmp) {
      return { key: checkKey(cmp[1], term), op: cmp[2] === '!=' ? '!=' : '=', values: [checkValue(cmp[3].trim(), term)] };
    }
    if (term.startsWith('!')) return { key: checkKey(term.slice(1).trim(), term), op: '!exists', values: [] };
    return { key: checkKey(term, term), op: 'exists', values: [] };
  });
}

export function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

function labelMatches(req: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, req.key);
  const value = labels[req.key];
  switch (req.op) {
    case '=': return has && value === req.values[0];
    case '!=': return !has || value !== req.values[0];
    case 'in': return has && req.values.includes(value);
    case 'notin': return !has || !req.values.includes(value);
    case 'exists': return has;
    case '!exists': return !has;
  }
}

/**
 * The names and globs the selector's name entries stand for: node sets expanded (together at most
 * NODESET_LIMIT names), each checked. Throws SelectorError with the node-set parser's message.
 */
function expandNames(entries: readonly string[]): string[] {
  const names: string[] = [];
  for (const entry of entries) {
    if (!isNodeSet(entry)) { names.push(entry); continue; }
    try {
      names.push(...expandNodeSet(entry));
    } catch (err) {
      if (err instanceof NodeSetError) throw new SelectorError(err.message);
      throw err;
    }
    if (names.length > NODESET_LIMIT) throw new SelectorError(`the node sets expand to more than the limit of ${NODESET_LIMIT} names together`);
  }
  for (const name of names) {
    if (!/^[A-Za-z0-9*?][A-Za-z0-9._*?-]*$/.test(name)) throw new SelectorError(`invalid node name or glob "${name}"`);
  }
  return names;
}

/** The selector checked: its label requirements and its expanded names. Throws SelectorError. */
function checkSelector(selector: Selector): { labels: LabelRequirement[]; names: string[] } {
  const hasNames = (selector.names?.length ?? 0) > 0;
  const hasGroups = (selector.groups?.length ?? 0) > 0;
  const hasLabels = selector.labels !== undefined && selector.labels !== '';
  if (!selector.all && !hasNames && !hasGroups && !hasLabels) {
    throw new SelectorError('no target: give node names, -l labels, -g groups or --all');
  }
  if (selector.all && hasNames) throw new SelectorError('--all cannot be combined with node names');
  const names = expandNames(selector.names ?? []);
  return { labels: hasLabels ? parseLabelSelector(selector.labels!) : [], names };
}

/** The node names and globs the selector names, node sets expanded. Throws SelectorError. */
export function selectorNames(selector: Selector): string[] {
  return expandNames(selector.names ?? []);
}

/** Throws SelectorError when the selector is empty or malformed; returns the parsed labels. */
export function validateSelector(selector: Selector): LabelRequirement[] {
  return checkSelector(selector).labels;
}

/** Returns a predicate for the selector; throws SelectorError when it is invalid. */
export function compileSelector(selector: Selector): (node: SelectableNode) => boolean {
  const { labels, names } = checkSelector(selector);
  // A node set may name 100,000 nodes: exact names are looked up, only globs are tried one by one.
  const exact = new Set(names.filter((n) => !/[*?]/.test(n)));
  const globs = names.filter((n) => /[*?]/.test(n)).map(globToRegExp);
  const groups = selector.groups ?? [];
  return (node) =>
    (names.length === 0 || exact.has(node.name) || globs.some((re) => re.test(node.name))) &&
    (groups.length === 0 || groups.some((g) => node.groups.includes(g))) &&
    labels.every((req) => labelMatches(req, node.labels));
}

/** The selector as the command line that gave it, for messages: `(web-* -l env=prod -g db)`. */
export function describeSelector(s: Selector): string {
  const parts: string[] = [];
  if (s.all) parts.push('--all');
  if (s.names?.length) parts.push(s.names.join(' '));
  if (s.labels) parts.push(`-l ${s.labels}`);
  if (s.groups?.length) parts.push(s.groups.map((g) => `-g ${g}`).join(' '));
  return `(${parts.join(' ')})`;
}

/**
 * A selector as URL query parameters, for GET routes that filter nodes (`/nodes`, the live stream):
 * `names` and `groups` comma-separated (names may be node sets: `web[1-3,5],db1`), `labels` as written
 * after -l. No parameter means every node.
 */
export interface SelectorQuery { names?: string; labels?: string; groups?: string }

function splitList(value: string | undefined): string[] {
  return (value ?? '').split(',').map((v) => v.trim()).filter((v) => v !== '');
}

/** `names` split on the commas outside brackets, so `web[1-3,5],db1` stays one node set and one name. */
function splitNames(value: string | undefined): string[] {
  if (value === undefined || value.trim() === '') return [];
  try {
    return splitNodeSet(value, true);
  } catch (err) {
    if (err instanceof NodeSetError) throw new SelectorError(err.message);
    throw err;
  }
}

/** The selector a query gives; `{ all: true }` when it gives none. Throws SelectorError when malformed. */
export function selectorFromQuery(query: SelectorQuery): Selector {
  const selector: Selector = {};
  const names = splitNames(query.names);
  const groups = splitList(query.groups);
  if (names.length > 0) selector.names = names;
  if (groups.length > 0) selector.groups = groups;
  if (query.labels !== undefined && query.labels.trim() !== '') selector.labels = query.labels.trim();
  if (!selector.names && !selector.groups && !selector.labels) selector.all = true;
  validateSelector(selector);
  return selector;
}

/** The query parameters for a selector (none for --all), the inverse of selectorFromQuery. */
export function selectorToQuery(selector: Selector): SelectorQuery {
  const query: SelectorQuery = {};
  if (selector.names?.length) query.names = selector.names.join(',');
  if (selector.labels) query.labels = selector.labels;
  if (selector.groups?.length) query.groups = selector.groups.join(',');
  return query;
}

/**
 * A selector typed as on the command line — `web-* db1 -l env=prod,zone in (a,b) -g dbs`, or
 * `--all` — as query parameters (the web UI's filter box; the inverse of describeSelector). Names
 * are separated by spaces or commas; `-l`/`--label` and `-g`/`--group` may repeat (labels join with
 * `,`: AND). An empty text is every node. Throws SelectorError for a flag without a value or an
 * unknown flag; the rest is checked where the query is read (selectorFromQuery).
 */
export function parseSelectorText(text: string): SelectorQuery {
  const names: string[] = [];
  const labels: string[] = [];
  const groups: string[] = [];
  // Flags start a word; a label value may hold spaces (`zone in (a, b)`), so it runs to the next flag.
  const parts = text.trim().split(/(?:^|\s+)(-l|--label|-g|--group|--all|-[A-Za-z-]+)(?=\s|=|$)=?/);
  names.push(...splitNameWords(parts[0] ?? ''));
  for (let i = 1; i < parts.length; i += 2) {
    const flag = parts[i]!;
    const value = (parts[i + 1] ?? '').trim();
    if (flag === '--all') {
      if (value !== '') names.push(...splitNameWords(value));
      continue;
    }
    if (flag !== '-l' && flag !== '--label' && flag !== '-g' && flag !== '--group') throw new SelectorError(`unknown option ${flag} (use names, -l labels, -g group)`);
    if (value === '') throw new SelectorError(`${flag} needs a value`);
    if (flag === '-l' || flag === '--label') labels.push(value);
    else groups.push(...value.split(/[\s,]+/).filter((g) => g !== ''));
  }
  const query: SelectorQuery = {};
  if (names.length > 0) query.names = names.join(',');
  if (labels.length > 0) query.labels = labels.join(',');
  if (groups.length > 0) query.groups = groups.join(',');
  return query;
}

/** Names split on spaces and on the commas outside node-set brackets. */
function splitNameWords(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== '').flatMap((w) => splitNames(w));
}
