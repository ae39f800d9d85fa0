import { Link } from 'react-router';
import type { ScheduleView } from '../../../proto/rest/schedules';
import { describeSelector } from '../../../proto/selector';
import { schedulesApi } from '../api/schedules';
import { FireResult } from '../components/FireResult';
import { PageHeader } from '../components/PageHeader';
import { PagedTable, pagesOf, type Column } from '../components/PagedTable';
import { StatusChip } from '../components/StatusChip';
import { formatAgo } from '../lib/format';

export const scheduleTemplate = (s: ScheduleView) => `${s.template}${s.templateVersion ? ` v${s.templateVersion}` : ''}`;

const COLUMNS: Column<ScheduleView>[] = [
  { label: 'Name', render: (s) => <Link to={`/schedules/${encodeURIComponent(s.name)}`}>{s.name}</Link> },
  { label: 'Cron', render: (s) => `${s.cron} (${s.tz})` },
  { label: 'Template', render: (s) => scheduleTemplate(s) },
  { label: 'Nodes', render: (s) => describeSelector(s.selector).slice(1, -1), wide: true },
  { label: 'State', render: (s) => <StatusChip status={s.paused ? 'paused' : 'active'} /> },
  { label: 'Next fire', render: (s) => (s.nextFireAt ? formatAgo(s.nextFireAt) : '—') },
  { label: 'Last result', render: (s) => <FireResult fire={s.lastFire} /> },
];

export default function Schedules() {
  return (
    <>
      <PageHeader title="Schedules" />
      <PagedTable label="Schedules" columns={COLUMNS} rowKey={(s) => s.name} fetchPage={pagesOf(schedulesApi.list)}
        empty="No schedules: add one with opsctl schedules create." />
    </>
  );
}
