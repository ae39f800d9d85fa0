import Stack from '@mui/material/Stack';
import TextField from '@mui/material/TextField';
import { useState } from 'react';
import { useSearchParams } from 'react-router';
import type { AuditEntryView } from '../../../proto/rest/audit';
import { auditApi } from '../api/audit';
import { PageHeader } from '../components/PageHeader';
import { PagedTable, type Column } from '../components/PagedTable';
import { StatusChip } from '../components/StatusChip';
import { formatTime } from '../lib/format';

const COLUMNS: Column<AuditEntryView>[] = [
  { label: '#', render: (a) => a.id, align: 'right' },
  { label: 'Time', render: (a) => formatTime(a.at) },
  { label: 'Actor', render: (a) => `${a.actor} (${a.actorKind})` },
  { label: 'Action', render: (a) => a.action },
  { label: 'Target', render: (a) => a.target || '—' },
  { label: 'Result', render: (a) => <StatusChip status={a.result} />, wide: false },
  { label: 'Code', render: (a) => a.code || '', wide: true },
  { label: 'Source', render: (a) => a.source, wide: true },
];

export default function Audit() {
  const [params, setParams] = useSearchParams();
  const actor = params.get('actor') ?? '';
  const action = params.get('action') ?? '';
  const [text, setText] = useState({ actor, action });
  const apply = () => setParams(Object.fromEntries(Object.entries(text).map(([k, v]) => [k, v.trim()]).filter(([, v]) => v !== '')));
  const field = (key: 'actor' | 'action', label: string, help: string) => (
    <TextField size="small" label={label} helperText={help} value={text[key]} onChange={(e) => setText({ ...text, [key]: e.target.value })}
      onBlur={apply} onKeyDown={(e) => { if (e.key === 'Enter') apply(); }} />
  );
  return (
    <>
      <PageHeader title="Audit log" />
      <Stack direction={{ xs: 'column', sm: 'row' }} spacing={2} sx={{ mb: 2 }}>
        {field('actor', 'Actor', 'User, token or client name')}
        {field('action', 'Action', 'e.g. tasks.create, or users. for all of them')}
      </Stack>
      <PagedTable label="Audit log" columns={COLUMNS} rowKey={(a) => String(a.id)} resetKey={`${actor}|${action}`}
        fetchPage={(limit, cursor, signal) => auditApi.list({ actor: actor || undefined, action: action || undefined }, limit, cursor, signal)} empty="No audit rows." />
    </>
  );
}
