// The newest rollouts (GET /rollouts, as `opsctl release status` lists them): each one's state and
// progress over all its waves. Refreshed every few seconds while one is still going.
import LinearProgress from '@mui/material/LinearProgress';
import { useEffect } from 'react';
import { Link } from 'react-router';
import type { RolloutView } from '../../../proto/rest/releases';
import { rolloutEnded, rolloutTotals } from '../../../proto/rollouts';
import { releasesApi } from '../api/releases';
import { ErrorAlert } from '../components/ErrorAlert';
import { PageHeader } from '../components/PageHeader';
import type { Column } from '../components/PagedTable';
import { RowsTable } from '../components/RowsTable';
import { StatusChip } from '../components/StatusChip';
import { WaveProgress } from '../components/WaveProgress';
import { formatAgo } from '../lib/format';
import { useLoad } from '../lib/use-load';

/** How often a page showing a rollout still going asks again (the CLI's --watch asks every second). */
export const ROLLOUT_POLL_MS = 2000;

const COLUMNS: Column<RolloutView>[] = [
  { label: 'Rollout', render: (r) => <Link to={`/rollouts/${encodeURIComponent(r.id)}`}>{r.version} · {r.id.slice(0, 8)}</Link> },
  { label: 'State', render: (r) => <StatusChip status={r.state} /> },
  { label: 'Progress', render: (r) => <WaveProgress wave={rolloutTotals(r)} label={`Progress of rollout ${r.id.slice(0, 8)}`} /> },
  { label: 'Failed', render: (r) => rolloutTotals(r).failed, align: 'right' },
  { label: 'Waves', render: (r) => r.waves.length, align: 'right', wide: true },
  { label: 'By', render: (r) => r.createdBy, wide: true },
  { label: 'Started', render: (r) => formatAgo(r.createdAt) },
];

export function RolloutsTable({ rollouts, empty }: { rollouts: RolloutView[]; empty: string }) {
  return <RowsTable label="Rollouts" columns={COLUMNS} rows={rollouts} rowKey={(r) => r.id} empty={empty} />;
}

/** Asks again every ROLLOUT_POLL_MS while `going`. */
export function useRefreshWhile(going: boolean, reload: () => void) {
  useEffect(() => {
    if (!going) return;
    const timer = setInterval(reload, ROLLOUT_POLL_MS);
    return () => clearInterval(timer);
  }, [going, reload]);
}

export default function Rollouts() {
  const rollouts = useLoad((signal) => releasesApi.rollouts(signal), []);
  useRefreshWhile(!!rollouts.data?.some((r) => !rolloutEnded(r.state)), rollouts.reload);
  return (
    <>
      <PageHeader title="Rollouts" />
      <ErrorAlert error={rollouts.error} what="rollouts" />
      {!rollouts.data && rollouts.loading && <LinearProgress aria-label="Loading rollouts" />}
      {rollouts.data && <RolloutsTable rollouts={rollouts.data} empty="No rollouts: start one with opsctl release rollout VERSION SELECTOR." />}
    </>
  );
}
