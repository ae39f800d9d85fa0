import FormControlLabel from '@mui/material/FormControlLabel';
import Switch from '@mui/material/Switch';
import { useSearchParams } from 'react-router';
import type { EventView } from '../../../proto/rest/events';
import { eventsApi } from '../api/events';
import { PageHeader } from '../components/PageHeader';
import { PagedTable, type Column } from '../components/PagedTable';
import { StatusChip } from '../components/StatusChip';
import { formatAgo, formatTime } from '../lib/format';

const COLUMNS: Column<EventView>[] = [
  { label: 'Severity', render: (e) => <StatusChip status={e.severity} /> },
  { label: 'Kind', render: (e) => e.kind },
  { label: 'Subject', render: (e) => e.subject },
  { label: 'Message', render: (e) => e.message, wrap: true },
  { label: 'Raised', render: (e) => formatAgo(e.raisedAt) },
  { label: 'Cleared', render: (e) => (e.clearedAt ? formatTime(e.clearedAt) : 'active'), wide: true },
];

export default function Events() {
  const [params, setParams] = useSearchParams();
  const activeOnly = params.get('active') === 'true';
  return (
    <>
      <PageHeader title="Events">
        <FormControlLabel label="Active only" control={
          <Switch checked={activeOnly} onChange={(e) => setParams(e.target.checked ? { active: 'true' } : {})} />
        } />
      </PageHeader>
      <PagedTable label="Events" columns={COLUMNS} rowKey={(e) => e.id} resetKey={String(activeOnly)}
        fetchPage={(limit, cursor, signal) => eventsApi.list(activeOnly ? true : undefined, limit, cursor, signal)} empty="No events." />
    </>
  );
}
