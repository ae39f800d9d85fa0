// The node table's columns for a terminal width: fixed figures, a NAME that takes what it needs
// (truncated when it must) and a CPU sparkline that gets the rest, shrinking and then dropping
// before the figures do, so every line fits the width.
import { humanBytes } from '../format.js';
import { sparkline } from '../metrics/chart.js';
import type { Row, SortKey } from './model.js';

interface Fixed { header: string; width: number; sort?: SortKey; cell(r: Row): string }

const num = (v: number | null, digits: number) => (v === null ? '–' : v.toFixed(digits));
const rate = (v: number | null) => (v === null ? '–' : humanBytes(Math.round(v)));

const FIXED: Fixed[] = [
  { header: 'STATUS', width: 8, sort: 'status', cell: (r) => r.status },
  { header: 'CPU%', width: 5, sort: 'cpu', cell: (r) => num(r.cpu, 1) },
  { header: 'MEM%', width: 5, sort: 'mem', cell: (r) => num(r.mem, 1) },
  { header: 'LOAD', width: 5, sort: 'load', cell: (r) => num(r.load, 2) },
  { header: 'DISK%', width: 5, sort: 'disk', cell: (r) => num(r.disk, 1) },
  { header: 'RX/s', width: 8, cell: (r) => rate(r.rx) },
  { header: 'TX/s', width: 8, cell: (r) => rate(r.tx) },
];

const MIN_NAME = 6;
const MAX_NAME = 24;
const MIN_SPARK = 5;
const GOOD_SPARK = 12;
const MAX_SPARK = 60;

export interface Layout { name: number; fixed: Fixed[]; spark: number }

/** Widths for `width` columns and the longest name shown. */
export function layout(width: number, longestName: number): Layout {
  let fixed = FIXED;
  const fixedWidth = (f: Fixed[]) => f.reduce((a, c) => a + c.width + 1, 0);
  // Far too narrow: drop figures from the right (network first) rather than wrap.
  while (fixed.length > 1 && MIN_NAME + fixedWidth(fixed) > width) fixed = fixed.slice(0, -1);
  const room = width - fixedWidth(fixed);
  const wanted = Math.min(MAX_NAME, Math.max(MIN_NAME, longestName, 'NAME'.length));
  // Long names give way to a readable sparkline; short ones leave it the rest of the line.
  const name = Math.min(wanted, Math.max(MIN_NAME, room - 1 - GOOD_SPARK));
  const spark = room - name - 1;
  if (spark < MIN_SPARK) return { name: Math.max(MIN_NAME, Math.min(wanted, room)), fixed, spark: 0 };
  return { name, fixed, spark: Math.min(spark, MAX_SPARK) };
}

function fit(text: string, width: number, right = false): string {
  if (text.length > width) return width <= 1 ? text.slice(0, width) : text.slice(0, width - 1) + '…';
  return right ? text.padStart(width) : text.padEnd(width);
}

export function headerLine(l: Layout, sort: { key: SortKey; reverse: boolean }): string {
  const arrow = sort.reverse ? '▲' : '▼';
  const name = fit(`NAME${sort.key === 'name' ? arrow : ''}`, l.name);
  const cells = l.fixed.map((f) => fit(f.header + (f.sort === sort.key ? arrow : ''), f.width, f.header !== 'STATUS'));
  const spark = l.spark > 0 ? ' ' + fit('CPU', l.spark) : '';
  return `${name} ${cells.join(' ')}${spark}`.trimEnd();
}

export function rowLine(l: Layout, r: Row, unicode = true): string {
  const cells = l.fixed.map((f) => fit(f.cell(r), f.width, f.header !== 'STATUS'));
  const spark = l.spark > 0 ? ' ' + sparkline(r.cpuHistory, l.spark, { max: 100, unicode }) : '';
  return `${fit(r.name, l.name)} ${cells.join(' ')}${spark}`.trimEnd();
}
