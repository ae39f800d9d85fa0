// Rendering of list and show results, the one place that decides what scripts and people see:
// on a terminal, aligned tables with a header and relative times; otherwise tab-separated rows
// without a header, with RFC 3339 times and raw numbers, so `cut -f` and `awk -F'\t'` just work.
import { relativeTime } from './format.js';

export type OutputFormat = 'table' | 'json' | 'yaml';
export const OUTPUT_FORMATS: OutputFormat[] = ['table', 'json', 'yaml'];

/** A time cell: relative on a terminal, RFC 3339 otherwise. */
export interface TimeCell { time: string | null }
/** A cell with a different look for people and for scripts (e.g. "7.7 GiB" vs 8254390272). */
export interface DualCell { human: string; plain: string | number }
export type Cell = string | number | boolean | null | undefined | TimeCell | DualCell;

export const time = (iso: string | null | undefined): TimeCell => ({ time: iso ?? null });
export const dual = (human: string, plain: string | number): DualCell => ({ human, plain });

export interface RenderContext {
  tty: boolean;
  now?: Date;
}

export interface Column<T> {
  header: string;
  get(row: T): Cell;
}

/** `long`: a time shown on its own line gets the exact time as well as the relative one. */
export function cellText(cell: Cell, ctx: RenderContext, long = false): string {
  if (cell === null || cell === undefined) return ctx.tty ? '-' : '';
  if (typeof cell === 'object') {
    if ('time' in cell) {
      if (cell.time === null) return ctx.tty ? 'never' : '';
      if (!ctx.tty) return cell.time;
      return long ? `${cell.time} (${relativeTime(cell.time, ctx.now)})` : relativeTime(cell.time, ctx.now);
    }
    return ctx.tty ? cell.human : String(cell.plain);
  }
  // A tab or newline inside a value would break the row structure scripts rely on.
  const text = String(cell).replace(/[\t\r\n]+/g, ' ');
  return text === '' && ctx.tty ? '-' : text;
}

export function renderTable<T>(rows: T[], columns: Column<T>[], ctx: RenderContext): string {
  return new TableStream(columns, ctx).rows(rows);
}

/**
 * A table printed as its rows arrive (a list read page by page): the same text as renderTable for
 * one batch; on a terminal the header comes with the first batch and columns keep the widths seen
 * so far (widening when a later row needs it).
 */
export class TableStream<T> {
  private widths?: number[];
  constructor(private readonly columns: Column<T>[], private readonly ctx: RenderContext) {}

  rows(rows: T[]): string {
    const cells = rows.map((row) => this.columns.map((c) => cellText(c.get(row), this.ctx)));
    if (!this.ctx.tty) return cells.map((r) => r.join('\t') + '\n').join('');
    const header = this.widths ? [] : [this.columns.map((c) => c.header)];
    const all = [...header, ...cells];
    this.widths = this.columns.map((_, i) => Math.max(this.widths?.[i] ?? 0, ...all.map((r) => r[i].length)));
    const widths = this.widths;
    return all.map((r) => r.map((v, i) => (i === r.length - 1 ? v : v.padEnd(widths[i]))).join('  ').trimEnd() + '\n').join('');
  }
}

export interface Field {
  /** Shown to people on a terminal. */
  label: string;
  /** Stable name in tab-separated output. */
  key: string;
  value: Cell;
}

/** `Label:  value` lines on a terminal, `key<TAB>value` lines otherwise. */
export function renderFields(fields: Field[], ctx: RenderContext): string {
  if (!ctx.tty) return fields.map((f) => `${f.key}\t${cellText(f.value, ctx)}\n`).join('');
  const width = Math.max(...fields.map((f) => f.label.length)) + 2;
  return fields.map((f) => `${(f.label + ':').padEnd(width)}${cellText(f.value, ctx, true)}`.trimEnd() + '\n').join('');
}

export async function renderData(data: unknown, format: 'json' | 'yaml'): Promise<string> {
  if (format === 'json') return JSON.stringify(data, null, 2) + '\n';
  const { stringify } = await import('yaml');
  return stringify(data);
}
