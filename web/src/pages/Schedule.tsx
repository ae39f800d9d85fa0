// One schedule (GET /schedules/:name, as `opsctl schedules show`): what it runs where and how, its
// next fire, and its latest fires with the task each started (or why none).
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import LinearProgress from '@mui/material/LinearProgress';
import Typography from '@mui/material/Typography';
import { Link, useParams } from 'react-router';
import type { ScheduleFireView } from '../../../proto/rest/schedules';
import { describeSelector } from '../../../proto/selector';
import { schedulesApi } from '../api/schedules';
import { ErrorAlert } from '../components/ErrorAlert';
import { FieldsTable } from '../components/FieldsTable';
import { FireResult } from '../components/FireResult';
import { Labels } from '../components/Labels';
import { PageHeader } from '../components/PageHeader';
import type { Column } from '../components/PagedTable';
import { RowsTable } from '../components/RowsTable';
import { StatusChip } from '../components/StatusChip';
import { formatAgo, formatTime } from '../lib/format';
import { useLoad } from '../lib/use-load';
import { scheduleTemplate } from './Schedules';

const FIRE_COLUMNS: Column<ScheduleFireView>[] = [
  { label: 'Due', render: (f) => formatTime(f.dueAt) },
  { label: 'Fired', render: (f) => formatAgo(f.firedAt) },
  { label: 'Result', render: (f) => <FireResult fire={f} when={false} /> },
  { label: 'Task', render: (f) => f.taskId ?? '—', wide: true },
];

const seconds = (n: number | null) => (n === null ? '—' : `${n} s`);

export default function Schedule() {
  const { name = '' } = useParams();
  const schedule = useLoad((signal) => schedulesApi.get(name, signal), [name]);
  const s = schedule.data;
  const rollout = s?.rollout;

  return (
    <>
      <PageHeader title={`Schedule ${name}`}>{s && <StatusChip status={s.paused ? 'paused' : 'active'} />}</PageHeader>
      {!s && schedule.loading && <LinearProgress aria-label="Loading the schedule" />}
      <ErrorAlert error={schedule.error} what={`schedule ${name}`} />
      {s && (
        <>
          <Card variant="outlined" sx={{ mb: 2 }}>
            <CardContent>
              <FieldsTable label="Schedule" rows={[
                ['Next fire', s.nextFireAt ? `${formatTime(s.nextFireAt)} (${formatAgo(s.nextFireAt)})` : `none: paused${s.pausedReason ? ` (${s.pausedReason})` : ''}`],
                ['Last result', <FireResult key="l" fire={s.lastFire} />],
                ['Cron', `${s.cron} (${s.tz})`],
                ['Template', <Link key="t" to={`/templates/${encodeURIComponent(s.template)}${s.templateVersion ? `?version=${s.templateVersion}` : ''}`}>{scheduleTemplate(s)}</Link>],
                ['Parameters', Object.keys(s.params).length ? <Labels key="p" labels={s.params} max={50} /> : 'none'],
                ['Nodes', describeSelector(s.selector).slice(1, -1) || '—'],
                ['Rollout', rollout ? `canary ${rollout.canary ?? '—'}, batch ${rollout.batch ?? '—'}, max-fail ${rollout.maxFail ?? '—'}, pause ${seconds(rollout.batchPauseSeconds ?? null)}` : 'all at once'],
                ['Offline nodes', s.queue ? `queued (expire after ${seconds(s.queueExpiresSeconds)})` : 'skipped'],
                ['Timeout', seconds(s.timeoutSeconds)],
                ['Missed fires', s.catchUp ? 'fired once, late' : 'skipped'],
                ['Runs as', s.createdBy],
                ['Created', formatTime(s.createdAt)],
              ]} />
            </CardContent>
          </Card>
          <Typography variant="h6" component="h2" sx={{ mb: 1 }}>Latest fires</Typography>
          <RowsTable label="Latest fires" columns={FIRE_COLUMNS} rows={s.recentFires} rowKey={(f) => f.dueAt} empty="Not fired yet." />
        </>
      )}
    </>
  );
}
