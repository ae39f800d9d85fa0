// Nodes, a page at a time from the manager, filtered with the selector `opsctl` takes
// (`web-* -l env=prod -g dbs`); the filter is in the URL (?q=), so a filtered view can be shared.
import Button from '@mui/material/Button';
import Stack from '@mui/material/Stack';
import TextField from '@mui/material/TextField';
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import type { LiveEvent } from '../../../proto/rest/live';
import type { Metrics, NodeSummary } from '../../../proto/rest/nodes';
import { parseSelectorText, type SelectorQuery } from '../../../proto/selector';
import { nodesApi } from '../api/nodes';
import { Labels } from '../components/Labels';
import { PageHeader } from '../components/PageHeader';
import { PagedTable, type Column } from '../components/PagedTable';
import { StatusChip } from '../components/StatusChip';
import { formatAgo, formatPercent } from '../lib/format';

/** The fullest mount, as the CLI's `top` shows it. */
function diskPercent(m: Metrics): number | null {
  let worst: number | null = null;
  for (const d of m.disks) if (d.sizeBytes > 0) worst = Math.max(worst ?? 0, (d.usedBytes / d.sizeBytes) * 100);
  return worst;
}

function metricColumns(metrics: Map<string, Metrics | null>): Column<NodeSummary>[] {
  const of = (n: NodeSummary) => metrics.get(n.name) ?? null;
  return [
    { label: 'CPU', align: 'right', render: (n) => { const m = of(n); return m ? formatPercent(m.cpuPercent) : '—'; } },
    { label: 'Memory', align: 'right', render: (n) => { const m = of(n); return m && m.memTotalBytes ? formatPercent((m.memUsedBytes / m.memTotalBytes) * 100) : '—'; } },
    { label: 'Disk', align: 'right', wide: true, render: (n) => { const m = of(n); return m ? formatPercent(diskPercent(m)) : '—'; } },
  ];
}

const COLUMNS: Column<NodeSummary>[] = [
  { label: 'Name', render: (n) => <Link to={`/nodes/${encodeURIComponent(n.name)}`}>{n.name}</Link> },
  { label: 'Status', render: (n) => <StatusChip status={n.status} /> },
  { label: 'Labels', render: (n) => <Labels labels={n.labels} /> },
  { label: 'Groups', render: (n) => n.groups.join(', ') || '—', wide: true },
  { label: 'OS', render: (n) => n.os || '—', wide: true },
  { label: 'Agent', render: (n) => `${n.agentVersion || '—'} (${n.agentStatus || '?'})`, wide: true },
  { label: 'hostd', render: (n) => n.hostdVersion || '—', wide: true },
  { label: 'Address', render: (n) => n.address || '—', wide: true },
  { label: 'Last seen', render: (n) => formatAgo(n.lastSeenAt) },
];

/** Names of the page's nodes as the live stream's selector; too many for a URL: none. */
const MAX_NAMES_QUERY = 4000;

/** The latest sample of each node on the page, live (GET /nodes/live for just those names). */
function usePageMetrics(names: string[]) {
  const [metrics, setMetrics] = useState(new Map<string, Metrics | null>());
  const key = names.join(',');
  useEffect(() => {
    if (key === '' || key.length > MAX_NAMES_QUERY) return;
    const latest = new Map<string, Metrics | null>();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => { timer ??= setTimeout(() => { timer = undefined; setMetrics(new Map(latest)); }, 500); };
    const live = nodesApi.followLive((e: LiveEvent) => {
      if (e.type === 'snapshot') { for (const n of e.data.nodes) latest.set(n.name, n.metrics); setMetrics(new Map(latest)); return; }
      if (e.type === 'sample') latest.set(e.data.node, e.data.metrics);
      else if (e.type === 'node') latest.set(e.data.name, e.data.metrics);
      else return;
      flush();
    }, () => undefined, { names: key });
    return () => { live.stop(); clearTimeout(timer); };
  }, [key]);
  return metrics;
}

export default function Nodes() {
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const [text, setText] = useState(q);
  const parsed = useMemo((): { query?: SelectorQuery; error?: string } => {
    try {
      return { query: parseSelectorText(q) };
    } catch (err) {
      return { error: (err as Error).message };
    }
  }, [q]);

  const [names, setNames] = useState<string[]>([]);
  const metrics = usePageMetrics(names);
  const columns = useMemo(() => [...COLUMNS.slice(0, 2), ...metricColumns(metrics), ...COLUMNS.slice(2)], [metrics]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setParams(text.trim() ? { q: text.trim() } : {});
  };

  return (
    <>
      <PageHeader title="Nodes" />
      <Stack component="form" direction="row" spacing={1} onSubmit={submit} sx={{ mb: 2 }} role="search">
        <TextField
          label="Selector" placeholder="web-* db1 -l env=prod,role!=db -g frontend" size="small" fullWidth
          value={text} onChange={(e) => setText(e.target.value)} error={!!parsed.error}
          helperText={parsed.error ?? 'As after opsctl nodes ls: names and globs, -l labels, -g groups. Empty: every node.'}
          slotProps={{ htmlInput: { 'aria-label': 'Node selector', spellCheck: false } }}
        />
        <Button type="submit" variant="contained" sx={{ alignSelf: 'flex-start', mt: '2px' }}>Filter</Button>
      </Stack>
      {parsed.query && (
        <PagedTable
          label="Nodes" columns={columns} rowKey={(n) => n.id} resetKey={q} onRows={(rows) => setNames(rows.map((n) => n.name))}
          fetchPage={(limit, cursor, signal) => nodesApi.list(parsed.query!, limit, cursor, signal)}
          empty={q ? 'No node matches this selector.' : 'No nodes yet: enroll one with opsctl nodes token create.'}
        />
      )}
    </>
  );
}
