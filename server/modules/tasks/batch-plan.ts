// One batch of work on a running task, planned on copies of its run states: which rows change,
// which stream events to publish, which hosts to tell to cancel, whether the task is now done.
// The task service writes the plan in one transaction, then commits it to memory with commitBatch.
import type { TaskEvent__Output } from '../../../proto/hostlink.js';
import type { RunStatus, TaskStatus, TaskStreamEvent } from '../../../proto/rest/tasks.js';
import { exitEvent, finalTaskStatus, type ActiveTask, type RunState, type WorkItem } from './active-task.js';
import type { TaskRun } from './task-run.entity.js';
import { isTerminal } from './views.js';

export type RunChanges = Partial<Pick<TaskRun, 'status' | 'exitCode' | 'error' | 'errorCode' | 'result' | 'dispatchedAt' | 'startedAt' | 'finishedAt' | 'durationMs' | 'output' | 'outputStreams' | 'outputTruncated'>>;
type Warn = (message: string, fields: Record<string, unknown>) => void;

const HOST_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'timeout', 'cancelled', 'error', 'lost'];

export interface BatchPlan {
  /** Changed copies of run states, by run id. */
  work: Map<string, RunState>;
  /** Column changes per run id. */
  changes: Map<string, RunChanges>;
  events: TaskStreamEvent[];
  cancels: { nodeId: string; runId: string }[];
  cancelRequested: boolean;
  /** Runs whose output is part of `changes`. */
  outputWritten: Set<string>;
  finished: boolean;
  finalStatus: TaskStatus;
  finishedAt: Date | null;
}

export function planBatch(task: ActiveTask, items: WorkItem[], warn: Warn): BatchPlan {
  const work = new Map<string, RunState>();
  const changes = new Map<string, RunChanges>();
  const events: TaskStreamEvent[] = [];
  const cancels: { nodeId: string; runId: string }[] = [];
  let cancelRequested = task.cancelRequested;
  let flush = false;

  const edit = (runId: string): RunState | undefined => {
    let copy = work.get(runId);
    if (!copy) {
      const current = task.runs.get(runId);
      if (!current) return undefined;
      copy = { ...current, tail: current.tail.clone() };
      work.set(runId, copy);
    }
    return copy;
  };
  const change = (run: RunState, c: RunChanges) => changes.set(run.id, { ...changes.get(run.id), ...c });
  const finish = (run: RunState, status: RunStatus, error: string | null, at: Date) => {
    if (run.status === 'dispatched' || run.status === 'running') if (run.nodeId) cancels.push({ nodeId: run.nodeId, runId: run.id });
    run.status = status;
    run.error = error;
    run.finishedAt = at;
    run.durationMs = run.startedAt ? Math.max(0, at.getTime() - run.startedAt.getTime()) : null;
    change(run, { status, error, finishedAt: at, durationMs: run.durationMs });
    events.push(exitEvent(run));
  };

  for (const item of items) {
    switch (item.kind) {
      case 'dispatched':
        for (const runId of item.runIds) {
          const run = edit(runId);
          if (!run || run.status !== 'pending') continue;
          run.status = 'dispatched';
          run.dispatchedAt = item.at;
          change(run, { status: 'dispatched', dispatchedAt: item.at });
          events.push({ type: 'run', runId, node: run.node, status: 'dispatched' });
        }
        break;
      case 'host-event':
        applyHostEvent(item.nodeId, item.event, edit, change, events, warn);
        break;
      case 'timeout': {
        const now = new Date();
        for (const id of task.runs.keys()) {
          const run = edit(id)!;
          if (isTerminal(run.status)) continue;
          const why = run.status === 'pending' ? 'node was offline until the task timed out'
            : run.status === 'dispatched' ? 'node did not start the task before it timed out'
            : 'node did not report an exit before the task timed out';
          finish(run, 'timeout', why, now);
        }
        break;
      }
      case 'cancel': {
        cancelRequested = true;
        const now = new Date();
        for (const id of task.runs.keys()) {
          const run = edit(id)!;
          if (!isTerminal(run.status)) finish(run, 'cancelled', 'cancelled by the operator', now);
        }
        break;
      }
      case 'flush':
        flush = true;
        break;
    }
  }

  // Output goes to the database when a run ends and on the periodic flush.
  const outputWritten = new Set<string>();
  for (const id of task.runs.keys()) {
    const current = work.get(id) ?? task.runs.get(id)!;
    if (!current.outputDirty) continue;
    if (!(flush || (changes.has(id) && isTerminal(current.status)))) continue;
    change(current, { output: current.tail.text(), outputStreams: current.tail.spans(), outputTruncated: current.tail.truncated });
    outputWritten.add(id);
  }

  const statuses = [...task.runs.keys()].map((id) => (work.get(id) ?? task.runs.get(id)!).status);
  const finished = task.status === 'running' && statuses.every(isTerminal);
  return {
    work, changes, events, cancels, cancelRequested, outputWritten, finished,
    finalStatus: finished ? finalTaskStatus(cancelRequested, statuses) : task.status,
    finishedAt: finished ? new Date() : task.finishedAt,
  };
}

/** Swaps the planned states into the task (after the plan was written). */
export function commitBatch(task: ActiveTask, plan: BatchPlan): void {
  for (const [id, run] of plan.work) {
    if (plan.outputWritten.has(id)) run.outputDirty = false;
    task.runs.set(id, run);
  }
  for (const id of plan.outputWritten) if (!plan.work.has(id)) task.runs.get(id)!.outputDirty = false;
  task.cancelRequested = plan.cancelRequested;
  if (plan.finished) {
    task.status = plan.finalStatus;
    task.finishedAt = plan.finishedAt;
  }
}

function applyHostEvent(
  nodeId: string, event: TaskEvent__Output,
  edit: (runId: string) => RunState | undefined,
  change: (run: RunState, c: RunChanges) => void,
  events: TaskStreamEvent[],
  warn: Warn,
): void {
  const run = edit(event.runId);
  if (!run) return;
  if (run.nodeId !== nodeId) {
    warn('a node reported on a run that is not its own; ignored', { runId: run.id, nodeId });
    return;
  }
  // Hosts re-deliver after reconnecting: anything for a finished run is a repeat.
  if (isTerminal(run.status)) return;
  const kind = event.kind ?? (event.started ? 'started' : event.output ? 'output' : event.exited ? 'exited' : undefined);
  if (kind === 'started' && event.started) {
    if (run.status === 'running') return;
    run.status = 'running';
    run.startedAt = new Date(event.started.atMs || Date.now());
    run.pid = event.started.pid;
    change(run, { status: 'running', startedAt: run.startedAt });
    events.push({ type: 'started', runId: run.id, node: run.node, at: run.startedAt.toISOString(), pid: run.pid });
  } else if (kind === 'output' && event.output) {
    const stream = event.output.stream === 'stderr' ? 'stderr' : 'stdout';
    run.tail.append(stream, event.output.data);
    run.outputDirty = true;
    events.push({ type: 'output', runId: run.id, node: run.node, stream, data: event.output.data });
  } else if (kind === 'exited' && event.exited) {
    const x = event.exited;
    const status: RunStatus = HOST_STATUSES.includes(x.status as RunStatus) ? (x.status as RunStatus) : x.exitCode === 0 ? 'succeeded' : 'failed';
    run.status = status;
    run.exitCode = x.exitCode === -1 ? null : x.exitCode;
    run.error = x.error || (x.signal ? `killed by ${x.signal}` : null);
    run.finishedAt = new Date(x.atMs || Date.now());
    run.durationMs = x.durationMs || (run.startedAt ? Math.max(0, run.finishedAt.getTime() - run.startedAt.getTime()) : 0);
    run.errorCode = x.errorCode || null;
    run.result = parseResult(x.resultJson, warn, run.id);
    change(run, {
      status, exitCode: run.exitCode, error: run.error, errorCode: run.errorCode, result: run.result,
      finishedAt: run.finishedAt, durationMs: run.durationMs,
    });
    events.push(exitEvent(run));
  }
}

/** A host's kind-specific result: a JSON object, or null (nothing, or something unreadable, which is logged). */
function parseResult(json: string, warn: Warn, runId: string): Record<string, unknown> | null {
  if (!json) return null;
  try {
    const value = JSON.parse(json) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch { /* reported below */ }
  warn('a host sent a run result that is not a JSON object; ignored', { runId, result: json.slice(0, 200) });
  return null;
}
