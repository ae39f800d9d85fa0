// One task: its header and counts, each node's status, and the chosen node's output (?node=)
// streaming live over GET /tasks/:id/events, the stream `opsctl tasks show --follow` reads. The
// stream reconnects by itself with Last-Event-ID and the page says so meanwhile.
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Stack from '@mui/material/Stack';
import Alert from '@mui/material/Alert';
import Typography from '@mui/material/Typography';
import { useEffect, useRef, useState } from 'react';
import { useParams, useSearchParams } from 'react-router';
import type { TaskStatusSummary } from '../../../proto/rest/tasks';
import { taskTitle } from '../../../proto/task-title';
import { tasksApi, wholeLog } from '../api/tasks';
import { useAuth } from '../auth';
import { ErrorAlert } from '../components/ErrorAlert';
import { CancelIcon, DownloadIcon } from '../components/icons';
import { OutputView, SHOWN_TAIL_CHARS } from '../components/OutputView';
import { PageHeader } from '../components/PageHeader';
import type { Column } from '../components/PagedTable';
import { RowsTable } from '../components/RowsTable';
import { StatusChip } from '../components/StatusChip';
import { StreamBanner } from '../components/StreamBanner';
import { plainText } from '../lib/ansi';
import { formatDuration, formatTime } from '../lib/format';
import { TaskStreamModel, type RunState } from '../lib/task-stream';
import { useLoad } from '../lib/use-load';
import { useStreamState } from '../lib/use-stream-state';

const RUNS_PER_PAGE = 50;

function Header({ task }: { task: TaskStatusSummary }) {
  const c = task.counts;
  return (
    <Card variant="outlined" sx={{ mb: 2 }}>
      <CardContent>
        <Stack direction={{ xs: 'column', sm: 'row' }} spacing={{ xs: 0.5, sm: 3 }} useFlexGap sx={{ flexWrap: 'wrap' }}>
          <span>Status: <StatusChip status={task.status} /></span>
          <span>Kind: {task.kind}</span>
          <span>By: {task.createdBy}</span>
          <span>Created: {formatTime(task.createdAt)}</span>
          <span>Finished: {formatTime(task.finishedAt)}</span>
          <span data-testid="task-counts">Nodes: {c.total}, succeeded {c.succeeded}, failed {c.failed}, pending {c.pending}{c.skipped ? `, skipped ${c.skipped}` : ''}{c.queued ? `, queued ${c.queued}` : ''}</span>
        </Stack>
        {task.stopReason && <Typography variant="body2" sx={{ mt: 1 }}>Stopped: {task.stopReason}</Typography>}
        {task.kind === 'script' && (
          <Box component="pre" sx={{ mt: 1.5, mb: 0, p: 1, bgcolor: 'action.hover', borderRadius: 1, whiteSpace: 'pre-wrap', wordBreak: 'break-all', fontSize: 13, maxHeight: 160, overflow: 'auto' }}
            aria-label="Script" tabIndex={0}>
            {task.script}
          </Box>
        )}
      </CardContent>
    </Card>
  );
}

export default function Task() {
  const { id = '' } = useParams();
  const { can } = useAuth();
  const [params, setParams] = useSearchParams();
  const summary = useLoad((signal) => tasksApi.summary(id, signal), [id]);
  const stream = useStreamState();
  // A new model for each stream: the stream replays the task from its start.
  const [model, setModel] = useState(() => new TaskStreamModel());
  const [, setVersion] = useState(0);
  const [actionError, setActionError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const reloadSummary = useRef(summary.reload);
  reloadSummary.current = summary.reload;

  useEffect(() => {
    const fresh = new TaskStreamModel();
    setModel(fresh);
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Output arrives in many small events: paint at most ten times a second.
    const paint = () => { timer ??= setTimeout(() => { timer = undefined; setVersion((v) => v + 1); }, 100); };
    const follow = tasksApi.follow(id, (e) => {
      fresh.apply(e);
      if (e.type === 'done') reloadSummary.current();
      paint();
    }, stream.onState);
    return () => { follow.stop(); clearTimeout(timer); };
  }, [id, stream.onState]);

  const runs = [...model.runs.values()].sort((a, b) => a.node.localeCompare(b.node));
  const selected = params.get('node') ?? runs[0]?.node;
  const selectedRun = selected ? model.runs.get(selected) : undefined;
  const task = summary.data;
  const runColumns: Column<RunState>[] = [
    {
      label: 'Node', render: (r) => (
        <Button size="small" color="inherit" sx={{ textTransform: 'none', p: 0, minWidth: 0, textDecoration: 'underline' }} aria-pressed={r.node === selected}>{r.node}</Button>
      ),
    },
    { label: 'Status', render: (r) => <StatusChip status={r.status} /> },
    { label: 'Exit code', render: (r) => r.exitCode ?? '—' },
    { label: 'Duration', render: (r) => formatDuration(r.durationMs) },
    { label: 'Error', render: (r) => (r.error ? plainText(r.error) : ''), wrap: true },
  ];
  const running = task ? task.status === 'running' && !model.done : false;

  const cancel = async () => {
    setBusy(true);
    setActionError(undefined);
    try { await tasksApi.cancel(id); summary.reload(); } catch (err) { setActionError(err as Error); } finally { setBusy(false); }
  };
  const download = async () => {
    setActionError(undefined);
    try {
      const text = await wholeLog(id);
      const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `task-${id}.log`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      setActionError(err as Error);
    }
  };

  return (
    <>
      <PageHeader title={task ? taskTitle(task, 80) || `Task ${id}` : `Task ${id}`}>
        <Button variant="outlined" startIcon={<DownloadIcon />} onClick={() => void download()}>Download log</Button>
        {can('tasks:cancel') && running && (
          <Button variant="contained" color="error" startIcon={<CancelIcon />} disabled={busy} onClick={() => void cancel()}>Cancel task</Button>
        )}
      </PageHeader>
      <Typography variant="body2" color="text.secondary" sx={{ mt: -1.5, mb: 1 }}>Task {id}</Typography>
      <ErrorAlert error={summary.error} what={`task ${id}`} />
      {actionError && <Alert severity="error" sx={{ mb: 2 }}>{actionError.message}</Alert>}
      {task && <Header task={task} />}
      {!model.done && <StreamBanner state={stream.state} detail={stream.detail} reconnected={stream.reconnected} />}
      <Typography variant="h6" component="h2" sx={{ mt: 1, mb: 1 }}>Nodes</Typography>
      <RowsTable label="Runs by node" columns={runColumns} rows={runs} rowKey={(r) => r.node} empty="No runs yet." perPage={RUNS_PER_PAGE}
        selectedKey={selected} onRowClick={(r) => setParams((p) => { p.set('node', r.node); return p; }, { replace: true })} />
      {selectedRun && (
        <>
          <Typography variant="h6" component="h2" sx={{ mb: 1 }}>Output of {selectedRun.node}</Typography>
          <OutputView label={`Output of ${selectedRun.node}`} text={plainText(model.tail(selectedRun.node, SHOWN_TAIL_CHARS))} hiddenChars={Math.max(0, selectedRun.chars - SHOWN_TAIL_CHARS)} />
        </>
      )}
    </>
  );
}
