// A block chart of one series in a fixed box, no dependency: each column is the mean of the
// points that fall in it, drawn bottom-up in eighths of a cell (▁▂▃▄▅▆▇█) on a terminal and in
// whole '#' cells elsewhere, so piped output stays ASCII.
const EIGHTHS = ['', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

export interface ChartOptions {
  width: number;
  height: number;
  unicode: boolean;
  /** Formats the axis figures. */
  label(value: number): string;
}

/** Values squeezed (or stretched) into `width` columns by averaging. */
export function columns(values: number[], width: number): number[] {
  if (values.length <= width) return values;
  return Array.from({ length: width }, (_, i) => {
    const from = Math.floor((i * values.length) / width);
    const to = Math.max(from + 1, Math.floor(((i + 1) * values.length) / width));
    const slice = values.slice(from, to);
    return slice.reduce((a, b) => a + b, 0) / slice.length;
  });
}

/** Chart rows, top first, each prefixed with a right-aligned axis label (top and bottom rows only). */
export function chartLines(values: number[], opts: ChartOptions): string[] {
  const cols = columns(values, opts.width);
  // Axis from 0: every metric here (percentages, load, byte rates) is non-negative.
  const top = Math.max(...cols, 0) || 1;
  const labels = [opts.label(top), opts.label(0)];
  const pad = Math.max(...labels.map((l) => l.length));
  const eighths = cols.map((v) => Math.round((v / top) * opts.height * 8));
  const lines: string[] = [];
  for (let row = opts.height - 1; row >= 0; row--) {
    const cells = eighths.map((e) => {
      const inRow = Math.min(8, Math.max(0, e - row * 8));
      if (opts.unicode) return inRow === 0 ? ' ' : EIGHTHS[inRow];
      return inRow >= 4 ? '#' : ' ';
    }).join('');
    const label = row === opts.height - 1 ? labels[0] : row === 0 ? labels[1] : '';
    lines.push(`${label.padStart(pad)} ${opts.unicode ? '│' : '|'}${cells.trimEnd()}`);
  }
  return lines;
}

/**
 * One line of eighths blocks, the last `width` values (or all of them squeezed, with `squeeze`),
 * scaled to `max` (the largest value when absent). Zero still shows as ▁ so the line is visible.
 */
export function sparkline(values: number[], width: number, opts: { max?: number; squeeze?: boolean; unicode?: boolean } = {}): string {
  if (width <= 0 || values.length === 0) return '';
  const cols = opts.squeeze ? columns(values, width) : values.slice(-width);
  const top = opts.max ?? (Math.max(...cols, 0) || 1);
  return cols.map((v) => {
    const level = Math.min(8, Math.max(1, Math.round((Math.max(0, v) / top) * 8)));
    return opts.unicode === false ? (level >= 4 ? '#' : '_') : EIGHTHS[level];
  }).join('');
}
