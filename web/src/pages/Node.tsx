// One node: its facts and labels, its metrics as charts over 1 h / 24 h / 7 d (?range= in the
// URL), and the tasks that ran on it lately.
import Box from '@mui/material/Box';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import CircularProgress from '@mui/material/CircularProgress';
import Grid from '@mui/material/Grid';
import ToggleButton from '@mui/material/ToggleButton';
import ToggleButtonGroup from '@mui/material/ToggleButtonGroup';
import Typography from '@mui/material/Typography';
import { lazy, Suspense, type ReactNode } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import type { NodeDetail } from '../../../proto/rest/nodes';
import type { TaskSummary } from '../../../proto/rest/tasks';
import { taskTitle } from '../../../proto/task-title';
import { metricsApi } from '../api/metrics';
import { nodesApi } from '../api/nodes';
import { tasksApi } from '../api/tasks';
import { useAuth } from '../auth';
import { ErrorAlert } from '../components/ErrorAlert';
import { FieldsTable } from '../components/FieldsTable';
import { Labels } from '../components/Labels';
import { PageHeader } from '../components/PageHeader';
import { PagedTable, type Column } from '../components/PagedTable';
import { StatusChip } from '../components/StatusChip';
import { formatAgo, formatBytes, formatPercent, formatTime } from '../lib/format';
import { useLoad } from '../lib/use-load';

const MetricCharts = lazy(() => import('../components/MetricCharts'));
const RANGES = { '1h': 1, '24h': 24, '7d': 168 } as const;
type Range = keyof typeof RANGES;

const TASK_COLUMNS: Column<TaskSummary>[] = [
  { label: 'Task', render: (t) => <Link to={`/tasks/${encodeURIComponent(t.id)}`}>{taskTitle(t) || t.id}</Link> },
  { label: 'Status', render: (t) => <StatusChip status={t.status} /> },
  { label: 'By', render: (t) => t.createdBy, wide: true },
  { label: 'Created', render: (t) => formatAgo(t.createdAt) },
];

function Facts({ node }: { node: NodeDetail }) {
  const f = node.facts;
  const m = node.metrics;
  const rows: [string, ReactNode][] = [
    ['Status', <StatusChip key="s" status={node.status} />],
    ['Address', node.address || '—'],
    ['Last seen', formatAgo(node.lastSeenAt)],
    ['OS', f ? `${f.os} (${f.platform}), kernel ${f.kernel}, ${f.arch}` : node.os || '—'],
    ['CPU', f ? `${f.cpus} × ${f.cpuModel}` : '—'],
    ['Memory', f ? formatBytes(f.memoryBytes) : '—'],
    ['IPs', f ? f.ips.join(', ') : '—'],
    ['Agent', `${node.agentVersion || '—'} (${node.agentStatus || '?'})`],
    ['hostd', node.hostdVersion || '—'],
    ['Groups', node.groups.join(', ') || '—'],
    ['Enrolled', formatTime(node.enrolledAt)],
    ['Certificate expires', formatTime(node.certificateExpiresAt)],
    ['CPU now', m ? formatPercent(m.cpuPercent) : '—'],
    ['Memory now', m ? `${formatBytes(m.memUsedBytes)} of ${formatBytes(m.memTotalBytes)}` : '—'],
  ];
  return <FieldsTable label="Facts" rows={rows} />;
}

export default function Node() {
  const { name = '' } = useParams();
  const { can } = useAuth();
  const [params, setParams] = useSearchParams();
  const range: Range = (params.get('range') as Range) in RANGES ? (params.get('range') as Range) : '1h';
  const node = useLoad((signal) => nodesApi.get(name, signal), [name]);
  const history = useLoad((signal) => metricsApi.history(name, range, signal), [name, range]);

  return (
    <>
      <PageHeader title={name}>{node.data && <StatusChip status={node.data.status} />}</PageHeader>
      <ErrorAlert error={node.error} what={`node ${name}`} />
      {node.data && (
        <Grid container spacing={2}>
          <Grid size={{ xs: 12, md: 7 }}>
            <Card variant="outlined"><CardContent><Typography variant="subtitle2" component="h2" gutterBottom>Facts</Typography><Facts node={node.data} /></CardContent></Card>
          </Grid>
          <Grid size={{ xs: 12, md: 5 }}>
            <Card variant="outlined"><CardContent>
              <Typography variant="subtitle2" component="h2" gutterBottom>Labels</Typography>
              {Object.keys(node.data.labels).length ? <Labels labels={node.data.labels} max={50} /> : <Typography variant="body2">None.</Typography>}
              {Object.keys(node.data.hostLabels).length > 0 && (
                <>
                  <Typography variant="subtitle2" component="h2" sx={{ mt: 2 }} gutterBottom>Set by the host (hostd.yaml)</Typography>
                  <Labels labels={node.data.hostLabels} max={50} />
                </>
              )}
            </CardContent></Card>
          </Grid>
        </Grid>
      )}
      <Box sx={{ display: 'flex', alignItems: 'center', gap: 2, mt: 3, mb: 1, flexWrap: 'wrap' }}>
        <Typography variant="h6" component="h2" sx={{ flexGrow: 1 }}>Metrics</Typography>
        <ToggleButtonGroup size="small" exclusive value={range} aria-label="Time span"
          onChange={(_e, v: Range | null) => { if (v) setParams((p) => { p.set('range', v); return p; }, { replace: true }); }}>
          {Object.keys(RANGES).map((r) => <ToggleButton key={r} value={r} aria-label={`Last ${r}`}>{r}</ToggleButton>)}
        </ToggleButtonGroup>
      </Box>
      <ErrorAlert error={history.error} what="metrics" />
      {history.loading && !history.data && <CircularProgress size={24} aria-label="Loading metrics" />}
      {history.data && (
        <Suspense fallback={<CircularProgress size={24} aria-label="Loading charts" />}>
          <MetricCharts history={history.data} spanHours={RANGES[range]} spanLabel={range} />
        </Suspense>
      )}
      {can('tasks:read') && (
        <>
          <Typography variant="h6" component="h2" sx={{ mt: 3, mb: 1 }}>Recent tasks</Typography>
          <PagedTable label="Recent tasks on this node" columns={TASK_COLUMNS} rowKey={(t) => t.id} resetKey={name} pageSizes={[10, 25, 50]}
            fetchPage={(limit, cursor, signal) => tasksApi.list({ node: name }, limit, cursor, signal)} empty="No task ran here lately." />
        </>
      )}
    </>
  );
}
