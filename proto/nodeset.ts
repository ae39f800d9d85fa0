// Node sets, ClusterShell's notation for many names at once: `web[01-40,42],db1` is web01 to
// web40, web42 and db1. Shared by the CLI (selectors, folded output) and the manager (selectors),
// so both read a set the same way. Node names cannot contain `[` or `,` (hostlink's NODE_NAME), so
// a selector entry holding either is a node set, never a name.
//
// Expansion is bounded: a typo like `web[1-1000000]` must fail with a message, not fill memory.

/** The most names one node set (or one selector's sets together) may expand to. */
export const NODESET_LIMIT = 100_000;

/** Digits a bound may have: beyond this the numbers stop being exact in a double. */
const MAX_DIGITS = 15;

export class NodeSetError extends Error {
  constructor(message: string) { super(message); this.name = 'NodeSetError'; }
}

/** True when `text` is node-set notation rather than one name or glob. */
export function isNodeSet(text: string): boolean {
  return text.includes('[') || text.includes(',');
}

/** One bracket item: `lo`..`hi`, each printed with at least `width` digits (0: no padding). */
interface Range { lo: number; hi: number; width: number }
type Segment = string | Range[];

const bad = (set: string, why: string) => new NodeSetError(`invalid node set "${set}": ${why}`);

/**
 * Splits on the commas outside brackets; throws on unbalanced brackets, and on empty patterns
 * unless `skipEmpty` (a query's `names=a,,b`, lenient as it always was).
 */
export function splitNodeSet(text: string, skipEmpty = false): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '[') {
      if (depth > 0) throw bad(text, 'brackets cannot nest');
      depth++;
    } else if (ch === ']') {
      if (depth === 0) throw bad(text, '"]" without "["');
      depth--;
    } else if (ch === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
      continue;
    }
    current += ch;
  }
  if (depth > 0) throw bad(text, '"[" is never closed');
  parts.push(current.trim());
  if (skipEmpty) return parts.filter((p) => p !== '');
  if (parts.some((p) => p === '')) throw bad(text, 'empty pattern (two commas in a row, or one at an end)');
  return parts;
}

function bound(set: string, digits: string): number {
  if (!/^\d+$/.test(digits)) throw bad(set, `"${digits}" is not a number (write ranges as [1-10] or [01-10])`);
  if (digits.length > MAX_DIGITS) throw bad(set, `"${digits}" has more than ${MAX_DIGITS} digits`);
  return Number(digits);
}

/** `01-10` → {1, 10, width 2}; a bound with a leading zero fixes the width, like ClusterShell. */
function parseRange(set: string, item: string): Range {
  if (item === '') throw bad(set, 'empty item in brackets');
  const dash = item.indexOf('-');
  const loText = dash < 0 ? item : item.slice(0, dash);
  const hiText = dash < 0 ? item : item.slice(dash + 1);
  const lo = bound(set, loText);
  const hi = bound(set, hiText);
  if (hi < lo) throw bad(set, `range ${item} goes down`);
  const padded = loText.length > 1 && loText.startsWith('0');
  if (padded && hiText.length !== loText.length) throw bad(set, `range ${item} mixes widths (write [${loText}-${hiText.padStart(loText.length, '0')}])`);
  return { lo, hi, width: padded ? loText.length : 0 };
}

/** One pattern (no top-level comma) as literals and bracket groups. */
function parsePattern(set: string, pattern: string): Segment[] {
  const segments: Segment[] = [];
  for (const piece of pattern.split(/(\[[^\]]*\])/)) {
    if (piece === '') continue;
    if (!piece.startsWith('[')) { segments.push(piece); continue; }
    const body = piece.slice(1, -1);
    if (body.trim() === '') throw bad(set, 'empty brackets');
    segments.push(body.split(',').map((item) => parseRange(set, item.trim())));
  }
  return segments;
}

const rangeSize = (r: Range) => r.hi - r.lo + 1;
const groupSize = (g: Range[]) => g.reduce((n, r) => n + rangeSize(r), 0);
const patternSize = (segs: Segment[]) => segs.reduce((n, s) => n * (typeof s === 'string' ? 1 : groupSize(s)), 1);
const formatNumber = (n: number, width: number) => String(n).padStart(width, '0');

/**
 * The names a node set stands for, in the order written, each once: `r[1-2]n[01-02]` is
 * r1n01, r1n02, r2n01, r2n02. Throws NodeSetError when malformed or when it holds more than `limit` names.
 */
export function expandNodeSet(text: string, limit = NODESET_LIMIT): string[] {
  const patterns = splitNodeSet(text).map((p) => parsePattern(text, p));
  // Counted before anything is built: the product of the groups' sizes may be astronomical.
  const total = patterns.reduce((n, segs) => n + patternSize(segs), 0);
  if (total > limit) throw bad(text, `expands to ${total > Number.MAX_SAFE_INTEGER ? 'too many' : total} names, more than the limit of ${limit}`);
  const names = new Set<string>();
  for (const segs of patterns) {
    let partial = [''];
    for (const seg of segs) {
      if (typeof seg === 'string') { partial = partial.map((p) => p + seg); continue; }
      const next: string[] = [];
      for (const p of partial) {
        for (const r of seg) for (let n = r.lo; n <= r.hi; n++) next.push(p + formatNumber(n, r.width));
      }
      partial = next;
    }
    for (const name of partial) names.add(name);
  }
  return [...names];
}

/** Names sharing the text around their last number and the way it is written (its padding). */
interface FoldClass { prefix: string; suffix: string; width: number; numbers: number[] }

const LAST_NUMBER = /^(.*?)(\d+)(\D*)$/;

/** `[1-3,5,07-08]` from sorted, distinct numbers. */
function foldNumbers(numbers: number[], width: number): string {
  const parts: string[] = [];
  for (let i = 0; i < numbers.length;) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j] + 1) j++;
    parts.push(i === j ? formatNumber(numbers[i], width) : `${formatNumber(numbers[i], width)}-${formatNumber(numbers[j], width)}`);
    i = j + 1;
  }
  return parts.join(',');
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The shortest usual node set for `names` (the inverse of expandNodeSet, up to order): names are
 * grouped on their last number by (text before, text after, padding), each group folded into
 * ranges. `web10` joins a padded group `web[01-09]` (it needs no zero to be two digits wide), so
 * expanding and folding `web[01-10]` gives it back. Sorted by prefix, suffix, padding, number.
 */
export function foldNodeSet(names: Iterable<string>): string {
  const plain: string[] = [];
  const classes = new Map<string, FoldClass>();
  const unpadded: { prefix: string; suffix: string; digits: string }[] = [];
  const classOf = (prefix: string, suffix: string, width: number) => {
    const key = `${prefix}\u0000${suffix}\u0000${width}`;
    let c = classes.get(key);
    if (!c) classes.set(key, c = { prefix, suffix, width, numbers: [] });
    return c;
  };
  for (const name of new Set(names)) {
    const m = LAST_NUMBER.exec(name);
    if (!m || m[2].length > MAX_DIGITS) { plain.push(name); continue; }
    const [, prefix, digits, suffix] = m;
    if (digits.length > 1 && digits.startsWith('0')) classOf(prefix, suffix, digits.length).numbers.push(Number(digits));
    else unpadded.push({ prefix, suffix, digits });
  }
  // After every padded class exists: a number as wide as a padded class of its prefix belongs to it.
  for (const { prefix, suffix, digits } of unpadded) {
    const key = `${prefix}\u0000${suffix}\u0000${digits.length}`;
    (classes.get(key) ?? classOf(prefix, suffix, 0)).numbers.push(Number(digits));
  }
  const patterns: { sort: [string, string, number, number]; text: string }[] = plain.map((n) => ({ sort: [n, '', 0, 0], text: n }));
  for (const c of classes.values()) {
    c.numbers.sort((a, b) => a - b);
    const text = c.numbers.length === 1
      ? `${c.prefix}${formatNumber(c.numbers[0], c.width)}${c.suffix}`
      : `${c.prefix}[${foldNumbers(c.numbers, c.width)}]${c.suffix}`;
    patterns.push({ sort: [c.prefix, c.suffix, c.width, c.numbers[0]], text });
  }
  patterns.sort((a, b) => compare(a.sort[0], b.sort[0]) || compare(a.sort[1], b.sort[1]) || a.sort[2] - b.sort[2] || a.sort[3] - b.sort[3]);
  return patterns.map((p) => p.text).join(',');
}
