// Nodes, a page at a time from the manager, filtered with the selector `opsctl` takes
// (`web-* -l env=prod -g dbs`); the filter is in the URL (?q=), so a filtered view can be shared.
import Button from '@mui/material/Button';
import Stack from '@mui/material/Stack';
import TextField from '@mui/material/TextField';
import { useMemo, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import type { NodeSummary } from '../../../proto/rest/nodes';
import { parseSelectorText, type SelectorQuery } from '../../../proto/selector';
import { nodesApi } from '../api/nodes';
import { Labels } from '../components/Labels';
import { PageHeader } from '../components/PageHeader';
import { PagedTable, type Column } from '../components/PagedTable';
import { StatusChip } from '../components/StatusChip';
import { formatAgo } from '../lib/format';

const COLUMNS: Column<NodeSummary>[] = [
  { label: 'Name', render: (n) => <Link to={`/nodes/${encodeURIComponent(n.name)}`}>{n.name}</Link> },
  { label: 'Status', render: (n) => <StatusChip status={n.status} /> },
  { label: 'Labels', render: (n) => <Labels labels={n.labels} /> },
  { label: 'Groups', render: (n) => n.groups.join(', ') || '—', wide: true },
  { label: 'OS', render: (n) => n.os || '—', wide: true },
  { label: 'Agent', render: (n) => `${n.agentVersion || '—'} (${n.agentStatus || '?'})`, wide: true },
  { label: 'hostd', render: (n) => n.hostdVersion || '—', wide: true },
  { label: 'Address', render: (n) => n.address || '—', wide: true },
  { label: 'Last seen', render: (n) => formatAgo(n.lastSeenAt) },
];

export default function Nodes() {
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const [text, setText] = useState(q);
  const parsed = useMemo((): { query?: SelectorQuery; error?: string } => {
    try {
      return { query: parseSelectorText(q) };
    } catch (err) {
      return { error: (err as Error).message };
    }
  }, [q]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setParams(text.trim() ? { q: text.trim() } : {});
  };

  return (
    <>
      <PageHeader title="Nodes" />
      <Stack component="form" direction="row" spacing={1} onSubmit={submit} sx={{ mb: 2 }} role="search">
        <TextField
          label="Selector" placeholder="web-* db1 -l env=prod,role!=db -g frontend" size="small" fullWidth
          value={text} onChange={(e) => setText(e.target.value)} error={!!parsed.error}
          helperText={parsed.error ?? 'As after opsctl nodes ls: names and globs, -l labels, -g groups. Empty: every node.'}
          slotProps={{ htmlInput: { 'aria-label': 'Node selector', spellCheck: false } }}
        />
        <Button type="submit" variant="contained" sx={{ alignSelf: 'flex-start', mt: '2px' }}>Filter</Button>
      </Stack>
      {parsed.query && (
        <PagedTable
          label="Nodes" columns={COLUMNS} rowKey={(n) => n.id} resetKey={q}
          fetchPage={(limit, cursor, signal) => nodesApi.list(parsed.query!, limit, cursor, signal)}
          empty={q ? 'No node matches this selector.' : 'No nodes yet: enroll one with opsctl nodes token create.'}
        />
      )}
    </>
  );
}
