// How tasks look in a terminal and in tab-separated output.
import type { RolloutOptions, TaskDetail, TaskRun, TaskSummary } from '../../../proto/rest/tasks.js';
import { taskTitle } from '../../../proto/task-title.js';
import { humanDuration } from '../format.js';
import { cellText, dual, renderFields, renderTable, time, type Column, type RenderContext } from '../output.js';
import { foldStoredRuns, renderBlocks } from './fold.js';

export { scriptTitle, taskTitle } from '../../../proto/task-title.js';

const duration = (ms: number | null) => (ms === null ? null : dual(humanDuration(ms), ms));

export const TASK_COLUMNS: Column<TaskSummary>[] = [
  { header: 'ID', get: (t) => t.id },
  { header: 'STATUS', get: (t) => t.status },
  { header: 'NODES', get: (t) => t.counts.total },
  { header: 'OK', get: (t) => t.counts.succeeded },
  { header: 'FAILED', get: (t) => t.counts.failed },
  { header: 'SKIPPED', get: (t) => t.counts.skipped },
  { header: 'PENDING', get: (t) => t.counts.pending },
  { header: 'QUEUED', get: (t) => t.counts.queued },
  { header: 'BY', get: (t) => t.createdBy },
  { header: 'CREATED', get: (t) => time(t.createdAt) },
  { header: 'COMMAND', get: (t) => taskTitle(t) },
];


export const RUN_COLUMNS: Column<TaskRun>[] = [
  { header: 'NODE', get: (r) => r.node },
  { header: 'STATUS', get: (r) => r.status },
  { header: 'EXIT', get: (r) => r.exitCode },
  { header: 'DURATION', get: (r) => duration(r.durationMs) },
  { header: 'STARTED', get: (r) => time(r.startedAt) },
  { header: 'ERROR', get: (r) => r.error },
  { header: 'RESULT', get: (r) => (r.result ? JSON.stringify(r.result) : null) },
];

const WAVE_COLUMN: Column<TaskRun> = { header: 'WAVE', get: (r) => r.wave };

/** The run columns of a task: with WAVE after STATUS when it ran in waves. */
export function runColumns(task: Pick<TaskDetail, 'rollout'>, runs: TaskRun[]): Column<TaskRun>[] {
  if (task.rollout === null && runs.every((r) => r.wave === 0)) return RUN_COLUMNS;
  return [...RUN_COLUMNS.slice(0, 2), WAVE_COLUMN, ...RUN_COLUMNS.slice(2)];
}

/** Where each run of a task stands (tasks cancel): node, status, exit code and error. */
export function renderRunStatuses(task: TaskDetail, ctx: RenderContext): string {
  const wanted = ['NODE', 'STATUS', 'EXIT', 'ERROR'];
  return renderTable(task.runs, RUN_COLUMNS.filter((c) => wanted.includes(c.header)), ctx);
}

/** "canary 1, batch 10%, max-fail 2%, pause 30 s". */
export function rolloutText(rollout: RolloutOptions): string {
  const parts: string[] = [];
  if (rollout.canary !== undefined) parts.push(`canary ${rollout.canary}`);
  if (rollout.batch !== undefined) parts.push(`batch ${rollout.batch}`);
  parts.push(`max-fail ${rollout.maxFail ?? '0'}`);
  if (rollout.batchPauseSeconds) parts.push(`pause ${rollout.batchPauseSeconds} s`);
  return parts.join(', ');
}

/** "25 total, 3 succeeded, 1 failed, 0 pending", with skipped and queued when there are some. */
function countsText(c: TaskSummary['counts']): string {
  const skipped = c.skipped ? `, ${c.skipped} skipped` : '';
  const queued = c.queued ? ` (${c.queued} queued)` : '';
  return `${c.total} total, ${c.succeeded} succeeded, ${c.failed} failed${skipped}, ${c.pending} pending${queued}`;
}

function indent(text: string): string {
  return text.replace(/\n$/, '').split('\n').map((l) => `    ${l}`).join('\n') + '\n';
}

/** The fields above a task's runs: what ran, who started it, when, and how its nodes add up. */
export function renderTaskHeader(task: TaskSummary, ctx: RenderContext): string {
  return renderFields([
    { label: 'Task', key: 'id', value: task.id },
    { label: 'Status', key: 'status', value: task.status },
    { label: 'Kind', key: 'kind', value: task.kind ?? 'script' },
    { label: 'Command', key: 'script', value: taskTitle(task, 200) },
    ...((task.kind ?? 'script') === 'script' ? [{ label: 'Interpreter', key: 'interpreter', value: task.interpreter }] : []),
    { label: 'Timeout', key: 'timeout_seconds', value: dual(`${task.timeoutSeconds} s`, task.timeoutSeconds) },
    { label: 'Created by', key: 'created_by', value: task.createdBy },
    { label: 'Created', key: 'created', value: time(task.createdAt) },
    { label: 'Finished', key: 'finished', value: time(task.finishedAt) },
    { label: 'Nodes', key: 'counts', value: countsText(task.counts) },
    ...(task.rollout ? [{ label: 'Rollout', key: 'rollout', value: rolloutText(task.rollout) }] : []),
    ...(task.stopReason ? [{ label: 'Stopped', key: 'stop_reason', value: task.stopReason }] : []),
    ...(task.queueExpiresAt ? [{ label: 'Queued until', key: 'queue_expires', value: time(task.queueExpiresAt) }] : []),
    ...(task.template ? [{ label: 'Template', key: 'template', value: `${task.template.name} v${task.template.version}` }] : []),
    ...(task.schedule ? [{ label: 'Schedule', key: 'schedule', value: task.schedule }] : []),
  ], ctx);
}

/** `fold`: the outputs folded (fold.ts) when two or more nodes share one, instead of one section per node. */
export function renderTask(task: TaskDetail, ctx: RenderContext, opts: { fold?: boolean } = {}): string {
  const header = renderTaskHeader(task, ctx);
  const columns = runColumns(task, task.runs);
  if (!ctx.tty) {
    // Scripts get the header fields, then one `run` row per node; the output is in --json.
    return header + renderRunLines(task.runs, columns, ctx);
  }
  const out = header + '\n' + renderTable(task.runs, columns, ctx);
  const folded = opts.fold ? foldStoredRuns(task.runs) : undefined;
  if (folded) return `${out}\n${renderBlocks(folded, false)}`;
  return out + renderRunOutputs(task.runs);
}

/** One tab-separated `run` line per run (tasks show piped). */
export function renderRunLines(runs: TaskRun[], columns: Column<TaskRun>[], ctx: RenderContext): string {
  return runs.map((r) => ['run', ...columns.map((c) => cellText(c.get(r), ctx))].join('\t') + '\n').join('');
}

/** Each run's output under a `NODE output:` line (runs without output are left out). */
export function renderRunOutputs(runs: TaskRun[]): string {
  let out = '';
  for (const run of runs) {
    if (run.output === '') continue;
    const cut = run.outputTruncated ? ' (truncated: the last part is kept)' : '';
    out += `\n${run.node} output${cut}:\n${indent(run.output)}`;
  }
  return out;
}
