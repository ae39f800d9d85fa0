// Tasks, newest first, a page at a time; status and node filters in the URL.
import FormControl from '@mui/material/FormControl';
import InputLabel from '@mui/material/InputLabel';
import MenuItem from '@mui/material/MenuItem';
import Select from '@mui/material/Select';
import Stack from '@mui/material/Stack';
import TextField from '@mui/material/TextField';
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import type { TaskStatus, TaskSummary } from '../../../proto/rest/tasks';
import { taskTitle } from '../../../proto/task-title';
import { tasksApi } from '../api/tasks';
import { PageHeader } from '../components/PageHeader';
import { PagedTable, type Column } from '../components/PagedTable';
import { StatusChip } from '../components/StatusChip';
import { formatAgo } from '../lib/format';

const STATUSES: TaskStatus[] = ['running', 'succeeded', 'failed', 'cancelled'];

const COLUMNS: Column<TaskSummary>[] = [
  { label: 'Task', render: (t) => <Link to={`/tasks/${encodeURIComponent(t.id)}`}>{taskTitle(t) || t.id}</Link> },
  { label: 'Status', render: (t) => <StatusChip status={t.status} /> },
  { label: 'Nodes', render: (t) => t.counts.total, align: 'right' },
  { label: 'OK', render: (t) => t.counts.succeeded, align: 'right', wide: true },
  { label: 'Failed', render: (t) => t.counts.failed, align: 'right', wide: true },
  { label: 'Pending', render: (t) => t.counts.pending, align: 'right', wide: true },
  { label: 'By', render: (t) => t.createdBy, wide: true },
  { label: 'Created', render: (t) => formatAgo(t.createdAt) },
  { label: 'ID', render: (t) => t.id, wide: true },
];

export default function Tasks() {
  const [params, setParams] = useSearchParams();
  const status = (params.get('status') ?? '') as TaskStatus | '';
  const node = params.get('node') ?? '';
  const [nodeText, setNodeText] = useState(node);
  const set = (key: string, value: string) => setParams((p) => { if (value) p.set(key, value); else p.delete(key); return p; });

  return (
    <>
      <PageHeader title="Tasks" />
      <Stack direction={{ xs: 'column', sm: 'row' }} spacing={2} sx={{ mb: 2 }}>
        <FormControl size="small" sx={{ minWidth: 160 }}>
          <InputLabel id="task-status-label">Status</InputLabel>
          <Select labelId="task-status-label" label="Status" value={status} onChange={(e) => set('status', e.target.value)}>
            <MenuItem value="">Any</MenuItem>
            {STATUSES.map((s) => <MenuItem key={s} value={s}>{s}</MenuItem>)}
          </Select>
        </FormControl>
        <TextField size="small" label="Ran on node" value={nodeText} onChange={(e) => setNodeText(e.target.value)}
          onBlur={() => set('node', nodeText.trim())} onKeyDown={(e) => { if (e.key === 'Enter') set('node', nodeText.trim()); }} />
      </Stack>
      <PagedTable label="Tasks" columns={COLUMNS} rowKey={(t) => t.id} resetKey={`${status}|${node}`}
        fetchPage={(limit, cursor, signal) => tasksApi.list({ status: status || undefined, node: node || undefined }, limit, cursor, signal)}
        empty="No tasks." />
    </>
  );
}
