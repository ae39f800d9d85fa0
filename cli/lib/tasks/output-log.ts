// `opsctl tasks logs`: a task's whole stored output, read page by page from GET /tasks/:id/output,
// then (--follow) the rest live from its event stream, resumed right after the last piece printed,
// so nothing is lost or printed twice between the two. Lines go through the printer `tasks run`
// uses: prefixed by node when there are several, standard error to standard error.
import type { TaskDetail, TaskOutputPage, TaskStreamEvent } from '../../../proto/rest/tasks.js';
import type { ApiClient } from '../api-client.js';
import { colourEnabled } from '../format.js';
import { followTask, type FollowEnd } from './follow.js';
import { TaskPrinter } from './printer.js';

/** setTimeout's longest wait: following has no deadline of its own, Ctrl-C ends it. */
const NO_DEADLINE_MS = 2 ** 31 - 1;

export interface OutputLogOptions {
  node?: string;
  follow?: boolean;
  json?: boolean;
  note(text: string): void;
}

interface Piece { seq?: number; node: string; stream: 'stdout' | 'stderr'; data: string }

/** 'stored': printed what is stored and did not follow (not asked, or the task had ended). */
export async function printTaskOutput(api: ApiClient, task: TaskDetail, opts: OutputLogOptions): Promise<FollowEnd | 'stored'> {
  const printer = new TaskPrinter({
    json: false, stdout: process.stdout, stderr: process.stderr,
    colourStdout: colourEnabled(process.stdout), colourStderr: colourEnabled(process.stderr),
    prefix: opts.node === undefined && task.runs.length > 1,
  });
  const print = (p: Piece) => {
    if (opts.json) process.stdout.write(JSON.stringify({ seq: p.seq, node: p.node, stream: p.stream, data: p.data }) + '\n');
    // The node names the piece's run: the printer keeps each node's unfinished line apart.
    else printer.handle({ type: 'output', runId: p.node, node: p.node, stream: p.stream, data: p.data });
  };

  const path = `/tasks/${encodeURIComponent(task.id)}`;
  let last: number | undefined;
  for (let after: number | undefined; ;) {
    const query = new URLSearchParams();
    if (opts.node !== undefined) query.set('node', opts.node);
    if (after !== undefined) query.set('after', String(after));
    const page = await api.get<TaskOutputPage>(`${path}/output${query.size ? `?${query}` : ''}`);
    for (const chunk of page.chunks) print(chunk);
    if (page.chunks.length > 0) last = page.chunks[page.chunks.length - 1].seq;
    if (page.next === null) break;
    after = page.next;
  }
  if (!opts.follow || task.status !== 'running') {
    printer.finish();
    return 'stored';
  }
  const onEvent = (ev: TaskStreamEvent) => {
    if (ev.type === 'output' && (opts.node === undefined || ev.node === opts.node)) print(ev);
  };
  const end = await followTask(api, task.id, { deadlineMs: NO_DEADLINE_MS, onEvent, after: last ?? 0, note: opts.note });
  printer.finish();
  return end;
}
