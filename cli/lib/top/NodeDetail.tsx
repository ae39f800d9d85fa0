// One node up close: what it is, each metric now with a sparkline of the last 15 minutes, and the
// tasks that ran on it lately.
import { Box, Text } from 'ink';
import type { MetricSeries } from '../../../proto/rest/metrics.js';
import { relativeTime } from '../format.js';
import { sparkline } from '../metrics/chart.js';
import { formatValue } from '../metrics/render.js';
import { taskTitle } from '../tasks/render.js';
import { DETAIL_SINCE, DETAIL_TASKS, type DetailSource } from './detail-source.js';
import { toRow, type NodeState } from './model.js';
import { useDetail } from './use-detail.js';

const METRICS: { metric: string; title: string; unit: string; now: (r: ReturnType<typeof toRow>) => number | null }[] = [
  { metric: 'cpu', title: 'CPU', unit: '%', now: (r) => r.cpu },
  { metric: 'mem', title: 'Memory', unit: '%', now: (r) => r.mem },
  { metric: 'load1', title: 'Load 1m', unit: '', now: (r) => r.load },
  { metric: 'disk', title: 'Disk', unit: '%', now: (r) => r.disk },
  { metric: 'netRx', title: 'Net rx', unit: 'B/s', now: (r) => r.rx },
  { metric: 'netTx', title: 'Net tx', unit: 'B/s', now: (r) => r.tx },
];

const TITLE = 8;
const VALUE = 12;

interface Props {
  name: string;
  state: NodeState | undefined;
  source: DetailSource;
  width: number;
  height: number;
  unicode: boolean;
  refreshMs?: number;
}

function clip(text: string, width: number): string {
  return text.length > width ? text.slice(0, Math.max(0, width - 1)) + '…' : text;
}

export function NodeDetail({ name, state, source, width, height, unicode, refreshMs }: Props) {
  const data = useDetail(source, name, refreshMs);
  if (!state) {
    return <Box height={height}><Text>{name} is gone: the manager removed it or it no longer matches. Esc to go back.</Text></Box>;
  }
  const n = state.node;
  const row = toRow(state);
  const labels = Object.entries(row.labels).map(([k, v]) => `${k}=${v}`).join(',');
  const series = new Map<string, MetricSeries>((data.history?.metrics ?? []).map((s) => [s.metric, s]));
  const sparkWidth = Math.max(0, width - TITLE - VALUE - 2);
  const tasks = data.tasks ?? [];
  const taskRows = Math.max(0, Math.min(DETAIL_TASKS, height - METRICS.length - 5));
  return (
    <Box flexDirection="column" height={height}>
      <Text bold wrap="truncate-end">{clip(`${n.name}  ${n.status}  ${n.os}  ${n.address}`, width)}</Text>
      <Text wrap="truncate-end">{clip(`labels ${labels || '-'}  groups ${n.groups.join(',') || '-'}  agent ${n.agentStatus}`, width)}</Text>
      {METRICS.map((m) => {
        const now = m.now(row);
        const points = series.get(m.metric)?.points ?? [];
        const spark = sparkline(points.map((p) => p.avg), sparkWidth, { squeeze: true, unicode, max: m.unit === '%' ? 100 : undefined });
        const value = now === null ? '–' : formatValue(now, m.unit);
        return <Text key={m.metric} wrap="truncate-end">{`${m.title.padEnd(TITLE)}${value.padStart(VALUE)}  ${spark}`.trimEnd()}</Text>;
      })}
      <Text wrap="truncate-end">{clip(data.history ? `last ${DETAIL_SINCE}, ${data.history.stepSeconds}s a column or more` : data.error ? `history: ${data.error}` : 'loading history…', width)}</Text>
      <Text bold>Recent tasks</Text>
      {data.tasks === undefined && <Text>{data.error ? clip(`tasks: ${data.error}`, width) : 'loading…'}</Text>}
      {data.tasks !== undefined && tasks.length === 0 && <Text>none</Text>}
      {tasks.slice(0, taskRows).map((t) => (
        <Text key={t.id} wrap="truncate-end">{clip(`${t.id.slice(0, 8)}  ${t.status.padEnd(9)}  ${relativeTime(t.createdAt).padStart(8)}  ${taskTitle(t, width)}`, width)}</Text>
      ))}
    </Box>
  );
}
