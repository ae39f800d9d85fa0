// One rollout (GET /rollouts/:id, as `opsctl release status ID`): its waves with their progress,
// every host with its state, and pause / resume / roll back (POST /rollouts/:id/pause|resume|
// rollback, as `opsctl release pause|resume|rollback`) for those with releases:write, each offered
// only from the states the manager takes it from. Asked again every 2 s until it ends.
import Alert from '@mui/material/Alert';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogContentText from '@mui/material/DialogContentText';
import DialogTitle from '@mui/material/DialogTitle';
import LinearProgress from '@mui/material/LinearProgress';
import Typography from '@mui/material/Typography';
import { useEffect, useState } from 'react';
import { Link, useParams } from 'react-router';
import type { RolloutDetail, RolloutHostView, WaveView } from '../../../proto/rest/releases';
import { canRollout, rolloutEnded, rolloutTotals, waveName, type RolloutAction } from '../../../proto/rollouts';
import { releasesApi } from '../api/releases';
import { useAuth } from '../auth';
import { ErrorAlert } from '../components/ErrorAlert';
import { FieldsTable } from '../components/FieldsTable';
import { PageHeader } from '../components/PageHeader';
import type { Column } from '../components/PagedTable';
import { RowsTable } from '../components/RowsTable';
import { StatusChip } from '../components/StatusChip';
import { WaveProgress } from '../components/WaveProgress';
import { formatAgo, formatTime } from '../lib/format';
import { useLoad } from '../lib/use-load';
import { useRefreshWhile } from './Rollouts';

const ACTIONS: { action: RolloutAction; label: string; color: 'primary' | 'warning' | 'error' }[] = [
  { action: 'pause', label: 'Pause', color: 'warning' },
  { action: 'resume', label: 'Resume', color: 'primary' },
  { action: 'rollback', label: 'Roll back', color: 'error' },
];

function waveColumns(r: RolloutDetail): Column<WaveView>[] {
  const current = (w: WaveView) => w.wave === r.currentWave && r.state === 'running';
  return [
    { label: 'Wave', render: (w) => `${waveName(w.wave, r.canary)}${current(w) ? ' (now)' : ''}` },
    { label: 'Progress', render: (w) => <WaveProgress wave={w} label={`Progress of ${waveName(w.wave, r.canary)}`} /> },
    { label: 'Hosts', render: (w) => w.hosts, align: 'right' },
    { label: 'Done', render: (w) => w.committed, align: 'right' },
    { label: 'Updating', render: (w) => w.inProgress, align: 'right' },
    { label: 'Pending', render: (w) => w.pending, align: 'right', wide: true },
    { label: 'Failed', render: (w) => w.failed, align: 'right' },
    { label: 'Reverted', render: (w) => w.reverted, align: 'right', wide: true },
  ];
}

const HOST_COLUMNS: Column<RolloutHostView>[] = [
  { label: 'Node', render: (h) => <Link to={`/nodes/${encodeURIComponent(h.node)}`}>{h.node}</Link> },
  { label: 'Wave', render: (h) => h.wave, align: 'right' },
  { label: 'State', render: (h) => <StatusChip status={h.state} /> },
  { label: 'From', render: (h) => h.fromVersion || '—', wide: true },
  { label: 'Message', render: (h) => h.message || '—', wrap: true },
  { label: 'Updated', render: (h) => formatAgo(h.updatedAt), wide: true },
];

function Summary({ r }: { r: RolloutDetail }) {
  const t = rolloutTotals(r);
  return (
    <Card variant="outlined" sx={{ mb: 2 }}>
      <CardContent>
        <WaveProgress wave={t} label="Progress of the rollout" />
        <FieldsTable label="Rollout" rows={[
          ['State', <StatusChip key="s" status={r.state} />],
          ['Version', <Link key="v" to={`/releases/${encodeURIComponent(r.version)}`}>{r.version}</Link>],
          ['Hosts', `${t.hosts}: ${t.committed} done, ${t.inProgress} updating, ${t.pending} pending, ${t.failed} failed, ${t.reverted} reverted`],
          ['Canary, batch', `${r.canary} host${r.canary === 1 ? '' : 's'} first, then ${r.batch} per wave`],
          ['Failure budget', `${r.failureBudget} host${r.failureBudget === 1 ? '' : 's'} (max-fail ${r.maxFail})`],
          ['Health wait', `${r.healthSeconds} s`],
          ['Started', `${formatTime(r.createdAt)} by ${r.createdBy}`],
          ['Finished', formatTime(r.finishedAt)],
          ...(r.stopReason ? [['Stopped', r.stopReason] as [string, string]] : []),
        ]} />
      </CardContent>
    </Card>
  );
}

export default function Rollout() {
  const { id = '' } = useParams();
  const { can } = useAuth();
  const rollout = useLoad((signal) => releasesApi.rollout(id, signal), [id]);
  const [shown, setShown] = useState<RolloutDetail>();
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<Error>();
  const [confirmRollback, setConfirmRollback] = useState(false);
  // The last answer stays on the page while the next is asked for (or fails).
  useEffect(() => { if (rollout.data) setShown(rollout.data); }, [rollout.data]);
  const r = shown ?? rollout.data;
  useRefreshWhile(!!r && !rolloutEnded(r.state), rollout.reload);

  const act = async (action: RolloutAction) => {
    setBusy(true);
    setActionError(undefined);
    try { setShown(await releasesApi.act(id, action)); rollout.reload(); } catch (err) { setActionError(err as Error); } finally { setBusy(false); }
  };

  return (
    <>
      <PageHeader title={r ? `Rollout of ${r.version}` : 'Rollout'}>
        {r && can('releases:write') && ACTIONS.filter((a) => canRollout(a.action, r.state)).map((a) => (
          <Button key={a.action} variant={a.action === 'rollback' ? 'outlined' : 'contained'} color={a.color} disabled={busy}
            onClick={() => (a.action === 'rollback' ? setConfirmRollback(true) : void act(a.action))}>{a.label}</Button>
        ))}
      </PageHeader>
      <Typography variant="body2" color="text.secondary" sx={{ mt: -1.5, mb: 1 }}>Rollout {id}</Typography>
      {!r && rollout.loading && <LinearProgress aria-label="Loading the rollout" />}
      <ErrorAlert error={rollout.error} what={`rollout ${id}`} />
      {actionError && <Alert severity="error" sx={{ mb: 2 }}>{actionError.message}</Alert>}
      {r && (
        <>
          <Summary r={r} />
          <Typography variant="h6" component="h2" sx={{ mb: 1 }}>Waves</Typography>
          <RowsTable label="Waves" columns={waveColumns(r)} rows={r.waves} rowKey={(w) => String(w.wave)} />
          <Typography variant="h6" component="h2" sx={{ mb: 1 }}>Hosts</Typography>
          <RowsTable label="Hosts" columns={HOST_COLUMNS} rows={r.hosts} rowKey={(h) => h.node} />
        </>
      )}
      <Dialog open={confirmRollback} onClose={() => setConfirmRollback(false)} aria-labelledby="rollback-title">
        <DialogTitle id="rollback-title">Roll back this rollout?</DialogTitle>
        <DialogContent>
          <DialogContentText>Every host it touched goes back to the version it ran before. Hosts not sent yet stay as they are.</DialogContentText>
        </DialogContent>
        <DialogActions>
          <Button onClick={() => setConfirmRollback(false)}>Keep it</Button>
          <Button color="error" variant="contained" onClick={() => { setConfirmRollback(false); void act('rollback'); }}>Roll back</Button>
        </DialogActions>
      </Dialog>
    </>
  );
}
