import type { ScheduleView } from '../../../proto/rest/schedules';
import { describeSelector } from '../../../proto/selector';
import { schedulesApi } from '../api/schedules';
import { PageHeader } from '../components/PageHeader';
import { PagedTable, pagesOf, type Column } from '../components/PagedTable';
import { StatusChip } from '../components/StatusChip';
import { Link } from 'react-router';
import { formatAgo } from '../lib/format';

const COLUMNS: Column<ScheduleView>[] = [
  { label: 'Name', render: (s) => s.name },
  { label: 'Cron', render: (s) => `${s.cron} (${s.tz})` },
  { label: 'Template', render: (s) => `${s.template}${s.templateVersion ? ` v${s.templateVersion}` : ''}` },
  { label: 'Nodes', render: (s) => describeSelector(s.selector).slice(1, -1), wide: true },
  { label: 'State', render: (s) => (s.paused ? <StatusChip status="paused" /> : <StatusChip status="active" />) },
  { label: 'Next fire', render: (s) => (s.nextFireAt ? formatAgo(s.nextFireAt) : '—') },
  {
    label: 'Last result', render: (s) => {
      const f = s.lastFire;
      if (!f) return 'never fired';
      const text = `${f.status ?? f.error ?? 'no task'}, ${formatAgo(f.firedAt)}`;
      return f.taskId ? <Link to={`/tasks/${encodeURIComponent(f.taskId)}`}>{text}</Link> : text;
    },
  },
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
