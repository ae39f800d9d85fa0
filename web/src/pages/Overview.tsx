// The fleet at a glance: nodes by status and fleet CPU/memory from the live stream `opsctl top`
// reads (so they move as samples arrive), active events and running tasks.
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Grid from '@mui/material/Grid';
import LinearProgress from '@mui/material/LinearProgress';
import List from '@mui/material/List';
import ListItem from '@mui/material/ListItem';
import ListItemText from '@mui/material/ListItemText';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { Link } from 'react-router';
import type { LiveEvent, LiveNode } from '../../../proto/rest/live';
import { rolloutEnded, rolloutTotals } from '../../../proto/rollouts';
import { eventsApi } from '../api/events';
import { releasesApi } from '../api/releases';
import { nodesApi } from '../api/nodes';
import { taskTitle } from '../../../proto/task-title';
import { tasksApi } from '../api/tasks';
import { useAuth } from '../auth';
import { ErrorAlert } from '../components/ErrorAlert';
import { PageHeader } from '../components/PageHeader';
import { StatusChip } from '../components/StatusChip';
import { StreamBanner } from '../components/StreamBanner';
import { formatAgo, formatBytes, formatPercent } from '../lib/format';
import { useLoad } from '../lib/use-load';
import { useStreamState } from '../lib/use-stream-state';

interface Fleet { total: number; byStatus: Record<string, number>; cpuAvg: number | null; memUsed: number; memTotal: number }

function summarise(nodes: Map<string, LiveNode>): Fleet {
  const byStatus: Record<string, number> = { online: 0, degraded: 0, offline: 0 };
  let cpu = 0, cpuN = 0, memUsed = 0, memTotal = 0;
  for (const n of nodes.values()) {
    byStatus[n.status] = (byStatus[n.status] ?? 0) + 1;
    if (n.metrics && n.status !== 'offline') {
      cpu += n.metrics.cpuPercent; cpuN++;
      memUsed += n.metrics.memUsedBytes; memTotal += n.metrics.memTotalBytes;
    }
  }
  return { total: nodes.size, byStatus, cpuAvg: cpuN ? cpu / cpuN : null, memUsed, memTotal };
}

function useFleet() {
  const stream = useStreamState();
  const [fleet, setFleet] = useState<Fleet>();
  const nodes = useRef(new Map<string, LiveNode>());
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Samples of a large fleet arrive by the thousand: count at most four times a second.
    const flush = () => { timer ??= setTimeout(() => { timer = undefined; setFleet(summarise(nodes.current)); }, 250); };
    const onEvent = (e: LiveEvent) => {
      const m = nodes.current;
      if (e.type === 'snapshot') { m.clear(); for (const n of e.data.nodes) m.set(n.name, n); setFleet(summarise(m)); return; }
      if (e.type === 'node') m.set(e.data.name, e.data);
      else if (e.type === 'removed') m.delete(e.data.node);
      else if (e.type === 'status') { const n = m.get(e.data.node); if (n) m.set(n.name, { ...n, status: e.data.status }); }
      else if (e.type === 'sample') { const n = m.get(e.data.node); if (n) m.set(n.name, { ...n, metrics: e.data.metrics }); }
      flush();
    };
    const live = nodesApi.followLive(onEvent, stream.onState);
    return () => { live.stop(); clearTimeout(timer); };
  }, [stream.onState]);
  return { fleet, stream };
}

function Tile({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Card variant="outlined" sx={{ height: '100%' }}>
      <CardContent>
        <Typography variant="subtitle2" component="h2" color="text.secondary" gutterBottom>{title}</Typography>
        {children}
      </CardContent>
    </Card>
  );
}

function Meter({ label, value, text }: { label: string; value: number | null; text: string }) {
  return (
    <>
      <Typography variant="h4" component="p">{text}</Typography>
      <LinearProgress variant="determinate" value={Math.max(0, Math.min(100, value ?? 0))} aria-label={label} sx={{ mt: 1, height: 8, borderRadius: 4 }} />
    </>
  );
}

export default function Overview() {
  const { can } = useAuth();
  const mayNodes = can('nodes:read');
  return (
    <>
      <PageHeader title="Overview" />
      {mayNodes && <FleetTiles />}
      <Grid container spacing={2} sx={{ mt: 0 }}>
        {can('events:read') && <Grid size={{ xs: 12, md: 6 }}><ActiveEvents /></Grid>}
        {can('tasks:read') && <Grid size={{ xs: 12, md: 6 }}><RunningTasks /></Grid>}
        {can('releases:read') && <Grid size={{ xs: 12, md: 6 }}><ActiveRollouts /></Grid>}
      </Grid>
    </>
  );
}

function FleetTiles() {
  const { fleet, stream } = useFleet();
  const memPct = fleet && fleet.memTotal > 0 ? (fleet.memUsed / fleet.memTotal) * 100 : null;
  return (
    <>
      <StreamBanner state={stream.state} detail={stream.detail} reconnected={stream.reconnected} />
      <Grid container spacing={2} sx={{ mt: 0 }}>
        <Grid size={{ xs: 12, md: 4 }}>
          <Tile title="Nodes by status">
            <Typography variant="h4" component="p" data-testid="nodes-total">{fleet ? fleet.total : '…'}</Typography>
            <Stack direction="row" spacing={1} sx={{ mt: 1, flexWrap: 'wrap' }} data-testid="nodes-by-status">
              {fleet && Object.entries(fleet.byStatus).map(([s, n]) => <span key={s}><StatusChip status={s} /> {n}</span>)}
            </Stack>
            <Typography variant="body2" sx={{ mt: 1 }}><Link to="/nodes">All nodes</Link></Typography>
          </Tile>
        </Grid>
        <Grid size={{ xs: 12, sm: 6, md: 4 }}>
          <Tile title="Fleet CPU (average of online nodes)">
            <Meter label="Fleet CPU" value={fleet?.cpuAvg ?? null} text={formatPercent(fleet?.cpuAvg)} />
          </Tile>
        </Grid>
        <Grid size={{ xs: 12, sm: 6, md: 4 }}>
          <Tile title="Fleet memory">
            <Meter label="Fleet memory" value={memPct} text={formatPercent(memPct)} />
            <Typography variant="body2" color="text.secondary" sx={{ mt: 1 }}>{fleet ? `${formatBytes(fleet.memUsed)} of ${formatBytes(fleet.memTotal)}` : ''}</Typography>
          </Tile>
        </Grid>
      </Grid>
    </>
  );
}

/** A tile listing the first rows of a list route, with a link to its page. */
function ListTile<T>({ title, what, load, render, more }: {
  title: string; what: string; load(signal: AbortSignal): Promise<{ data: T[] }>;
  render(row: T): { key: string; primary: ReactNode; secondary: string }; more: { to: string; label: string };
}) {
  const rows = useLoad(load, []);
  return (
    <Tile title={title}>
      <ErrorAlert error={rows.error} what={what} />
      {rows.data && rows.data.data.length === 0 && <Typography>None.</Typography>}
      <List dense>
        {rows.data?.data.map(render).map((r) => (
          <ListItem key={r.key} disableGutters><ListItemText primary={r.primary} secondary={r.secondary} /></ListItem>
        ))}
      </List>
      <Typography variant="body2"><Link to={more.to}>{more.label}</Link></Typography>
    </Tile>
  );
}

function ActiveEvents() {
  return (
    <ListTile title="Active events and alerts" what="events" more={{ to: '/events', label: 'All events' }}
      load={(signal) => eventsApi.list(true, 10, undefined, signal)}
      render={(e) => ({ key: e.id, primary: <><StatusChip status={e.severity} /> {e.subject}: {e.message}</>, secondary: `${e.kind}, raised ${formatAgo(e.raisedAt)}` })} />
  );
}

function RunningTasks() {
  return (
    <ListTile title="Running tasks" what="tasks" more={{ to: '/tasks', label: 'All tasks' }}
      load={(signal) => tasksApi.list({ status: 'running' }, 10, undefined, signal)}
      render={(t) => ({ key: t.id, primary: <Link to={`/tasks/${encodeURIComponent(t.id)}`}>{taskTitle(t, 80)}</Link>, secondary: `by ${t.createdBy}, ${formatAgo(t.createdAt)}` })} />
  );
}

function ActiveRollouts() {
  return (
    <ListTile title="Rollouts under way" what="rollouts" more={{ to: '/rollouts', label: 'All rollouts' }}
      load={async (signal) => ({ data: (await releasesApi.rollouts(signal)).filter((r) => !rolloutEnded(r.state)) })}
      render={(r) => {
        const t = rolloutTotals(r);
        return {
          key: r.id, primary: <><StatusChip status={r.state} /> <Link to={`/rollouts/${encodeURIComponent(r.id)}`}>{r.version}</Link></>,
          secondary: `${t.committed + t.reverted}/${t.hosts} hosts done, ${t.failed} failed; by ${r.createdBy}, ${formatAgo(r.createdAt)}`,
        };
      }} />
  );
}
