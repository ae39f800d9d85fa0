// `opsctl tasks show` of a task on many nodes: instead of one block per node (10,000 of them), the
// header, how many runs are in each status, the nodes that did not succeed first (a bounded number,
// with their output), and one line for the rest. `--all` prints every node, a page at a time.
// Reads GET /tasks/:id/summary and pages of GET /tasks/:id/runs, never the whole task at once.
import type { RunStatus, TaskRun, TaskStatusSummary } from '../../../proto/rest/tasks.js';
import { FAILED_RUN_STATUSES, RUN_STATUSES } from '../../../proto/task-status.js';
import type { ApiClient } from '../api-client.js';
import { ApiError } from '../errors.js';
import { TableStream, type RenderContext } from '../output.js';
import { renderRunLines, renderRunOutputs, renderTaskHeader, runColumns } from './render.js';

/** Tasks with more runs than this are summarised; smaller ones print every node as they always did. */
export const SUMMARY_THRESHOLD = 50;
/** How many nodes that did not succeed the summary shows (with their output). */
export const MAX_FAILED_SHOWN = 20;

/** The task's summary, or undefined from a manager too old to have GET /tasks/:id/summary. */
export async function fetchTaskSummary(api: ApiClient, id: string): Promise<TaskStatusSummary | undefined> {
  try {
    return await api.get<TaskStatusSummary>(`/tasks/${encodeURIComponent(id)}/summary`);
  } catch (err) {
    // 404 also for a task that does not exist: the caller's GET /tasks/:id then says so.
    if (err instanceof ApiError && err.httpStatus === 404) return undefined;
    throw err;
  }
}

export const isLargeTask = (task: TaskStatusSummary): boolean => task.counts.total > SUMMARY_THRESHOLD;

/** Prints a large task as its pages arrive: the summary (every node with `all`). */
export async function printLargeTask(api: ApiClient, task: TaskStatusSummary, ctx: RenderContext, write: (text: string) => void, all: boolean): Promise<void> {
  write(renderTaskHeader(task, ctx) + renderStatusCounts(task.byStatus, ctx));
  const runsPath = `/tasks/${encodeURIComponent(task.id)}/runs`;
  if (all) {
    for await (const runs of api.pages<TaskRun>(runsPath)) write(renderRuns(task, runs, ctx));
    return;
  }
  const failed = FAILED_RUN_STATUSES.reduce((n, s) => n + (task.byStatus[s] ?? 0), 0);
  let shown = 0;
  if (failed > 0) {
    if (ctx.tty) write(`\nNodes that did not succeed (${failed}):\n`);
    const pages = api.pages<TaskRun>(runsPath, { status: FAILED_RUN_STATUSES.join(',') }, { limit: MAX_FAILED_SHOWN, pageSize: MAX_FAILED_SHOWN });
    for await (const runs of pages) {
      shown += runs.length;
      write(renderRuns(task, runs, ctx));
    }
  }
  write(restText(task, failed - shown, ctx));
}

/** How many runs are in each status, in the order a run goes through them. */
function renderStatusCounts(byStatus: Partial<Record<RunStatus, number>>, ctx: RenderContext): string {
  const rows = RUN_STATUSES.filter((s) => (byStatus[s] ?? 0) > 0).map((s) => ({ status: s, nodes: byStatus[s]! }));
  if (!ctx.tty) return rows.map((r) => `by_status\t${r.status}\t${r.nodes}\n`).join('');
  const table = new TableStream<{ status: RunStatus; nodes: number }>([
    { header: 'STATUS', get: (r) => r.status },
    { header: 'NODES', get: (r) => r.nodes },
  ], ctx);
  return '\n' + table.rows(rows);
}

/** A page of runs: a table and their output on a terminal, `run` lines otherwise. */
function renderRuns(task: TaskStatusSummary, runs: TaskRun[], ctx: RenderContext): string {
  if (runs.length === 0) return '';
  const columns = runColumns(task, runs);
  if (!ctx.tty) return renderRunLines(runs, columns, ctx);
  return new TableStream(columns, ctx).rows(runs) + renderRunOutputs(runs);
}

/** What the summary left out: failed nodes past the bound, and the nodes that succeeded. */
function restText(task: TaskStatusSummary, moreFailed: number, ctx: RenderContext): string {
  if (!ctx.tty) return moreFailed > 0 ? `more_not_succeeded\t${moreFailed}\n` : '';
  let out = '';
  if (moreFailed > 0) out += `\n… ${moreFailed} more that did not succeed: see --all, or opsctl tasks logs ${task.id}\n`;
  const ok = task.counts.succeeded;
  if (ok > 0) out += `\n${ok} node${ok === 1 ? '' : 's'} succeeded (not listed; --all lists every node).\n`;
  return out;
}
