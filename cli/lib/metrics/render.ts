// How a node's metrics history looks in a terminal: per metric a heading with min/avg/max over the
// span and a chart of the averages, within 80 columns.
import type { MetricSeries, MetricsHistory } from '../../../proto/rest/metrics.js';
import { humanBytes } from '../format.js';
import type { RenderContext } from '../output.js';
import { chartLines } from './chart.js';

const WIDTH = 80;
const HEIGHT = 6;
/** Room left of the chart for axis labels like "1023.9 KiB/s │". */
const AXIS = 14;

const TITLES: Record<string, string> = {
  cpu: 'CPU', mem: 'Memory used', load1: 'Load (1 min)', disk: 'Busiest disk used', netRx: 'Network received', netTx: 'Network sent',
};

export function formatValue(value: number, unit: string): string {
  if (unit === 'B/s') return `${humanBytes(Math.round(value))}/s`;
  if (unit === '%') return `${value.toFixed(1)} %`;
  return value.toFixed(2);
}

function summary(series: MetricSeries): { min: number; avg: number; max: number } {
  const min = Math.min(...series.points.map((p) => p.min));
  const max = Math.max(...series.points.map((p) => p.max));
  const avg = series.points.reduce((a, p) => a + p.avg, 0) / series.points.length;
  return { min, avg, max };
}

function hhmm(iso: string): string {
  return iso.slice(0, 16).replace('T', ' ');
}

export function renderHistory(history: MetricsHistory, ctx: RenderContext): string {
  const blocks = history.metrics.map((series) => {
    const title = TITLES[series.metric] ?? series.metric;
    if (series.points.length === 0) return `${title}: no data`;
    const fmt = (v: number) => formatValue(v, series.unit);
    const s = summary(series);
    const lines = chartLines(series.points.map((p) => p.avg), { width: WIDTH - AXIS, height: HEIGHT, unicode: ctx.tty, label: fmt });
    const first = series.points[0].at;
    const last = series.points[series.points.length - 1].at;
    const axisPad = lines[0].indexOf(ctx.tty ? '│' : '|') + 1;
    const from = hhmm(first);
    const to = hhmm(last);
    const span = Math.min(WIDTH - AXIS, series.points.length);
    const xAxis = ' '.repeat(axisPad) + from + ' '.repeat(Math.max(1, span - from.length - to.length)) + to;
    return [`${title}  min ${fmt(s.min)}  avg ${fmt(s.avg)}  max ${fmt(s.max)}`, ...lines, xAxis].join('\n');
  });
  const source = history.source === 'raw' ? 'raw samples' : `${history.source} rollups`;
  return [`${history.node}: since ${hhmm(history.since)} UTC, one column per ${history.stepSeconds}s or more (${source})`, ...blocks].join('\n\n');
}
