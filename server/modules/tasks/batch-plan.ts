// One batch of work on a running task, planned on copies of its run states: which rows change,
// which stream events to log and publish (numbered), which hosts to tell to cancel or to
// acknowledge, which runs the failure budget skips, whether the task is now done. The task service
// writes the plan in one transaction, then commits it to memory with commitBatch.
import type { TaskEvent__Output } from '../../../proto/hostlink.js';
import type { RunStatus, TaskStatus, TaskStreamEvent } from '../../../proto/rest/tasks.js';
import { countRuns } from '../../../proto/task-status.js';
import { exitEvent, finalTaskStatus, type ActiveTask, type RunState, type WorkItem } from './active-task.js';
import type { TaskRun } from './task-run.entity.js';
import { isTerminal } from './views.js';
import { countsAsFailure, stopReasonText } from './waves.js';

export type RunChanges = Partial<Pick<TaskRun, 'status' | 'exitCode' | 'error' | 'errorCode' | 'result' | 'dispatchedAt' | 'startedAt' | 'finishedAt' | 'durationMs' | 'output' | 'outputStreams' | 'outputTruncated' | 'lastSeq'>>;
type Warn = (message: string, fields: Record<string, unknown>) => void;

/** The final statuses a host may report; anything else is read from the exit code. */
const HOST_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'timeout', 'cancelled', 'error', 'lost'];

/** The ack of a finished run: the manager wants none of its events any more. */
export const ALL_EVENTS = Number.MAX_SAFE_INTEGER;

export interface PlanLimits {
  /** Output bytes per run kept in the event log (the whole output); beyond it only the tail is kept. */
  maxStoredOutputBytes: number;
}

export interface BatchPlan {
  /** Changed copies of run states, by run id. */
  work: Map<string, RunState>;
  /** Column changes per run id. */
  changes: Map<string, RunChanges>;
  /** Numbered from the task's nextSeq, in the order they happened (ends with `done` when finished). */
  events: TaskStreamEvent[];
  cancels: { nodeId: string; runId: string }[];
  /** What to acknowledge to each node once the plan is stored: run → highest seq. */
  acks: Map<string, Map<string, number>>;
  cancelRequested: boolean;
  stopReason: string | null;
  /** Runs whose output is part of `changes`. */
  outputWritten: Set<string>;
  /** How many more runs are in a final status once the plan is committed. */
  terminalDelta: number;
  finished: boolean;
  finalStatus: TaskStatus;
  finishedAt: Date | null;
}

export function planBatch(task: ActiveTask, items: WorkItem[], limits: PlanLimits, warn: Warn): BatchPlan {
  const work = new Map<string, RunState>();
  const changes = new Map<string, RunChanges>();
  const events: TaskStreamEvent[] = [];
  const cancels: { nodeId: string; runId: string }[] = [];
  const acks = new Map<string, Map<string, number>>();
  let cancelRequested = task.cancelRequested;
  let stopReason = task.stopReason;
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
          if (!run || (run.status !== 'pending' && run.status !== 'queued')) continue;
          run.status = 'dispatched';
          run.dispatchedAt = item.at;
          change(run, { status: 'dispatched', dispatchedAt: item.at });
          events.push({ type: 'run', runId, node: run.node, status: 'dispatched' });
        }
        break;
      case 'unreachable': {
        const now = new Date();
        for (const runId of item.runIds) {
          const run = edit(runId);
          if (!run || run.status !== 'pending') continue;
          if (task.info.queueExpiresAt) {
            run.status = 'queued';
            change(run, { status: 'queued' });
            events.push({ type: 'run', runId, node: run.node, status: 'queued' });
          } else {
            finish(run, 'offline', 'node was offline when the task started (run with --queue to wait for it)', now);
          }
        }
        break;
      }
      case 'host-event':
        applyHostEvent(item.nodeId, item.event, edit, change, events, warn, (runId, seq) => ack(acks, item.nodeId, runId, seq), limits);
        break;
      case 'timeout': {
        const now = new Date();
        for (const id of item.runIds) {
          const run = edit(id);
          if (!run || isTerminal(run.status)) continue;
          const why = run.status === 'dispatched' ? 'node did not start the task before it timed out'
            : 'node did not report an exit before the task timed out';
          finish(run, 'timeout', why, now);
        }
        break;
      }
      case 'expire': {
        const now = new Date();
        const until = task.info.queueExpiresAt?.toISOString() ?? 'its expiry';
        for (const id of task.runs.keys()) {
          const run = edit(id)!;
          if (run.status === 'queued') finish(run, 'expired', `node did not reconnect before the queued run expired (${until})`, now);
        }
        break;
      }
      case 'lost': {
        const now = new Date();
        for (const id of item.runIds) {
          const run = edit(id);
          if (run && !isTerminal(run.status)) finish(run, 'lost', item.reason, now);
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
      case 'mark':
        break;
    }
  }

  // Output goes to the database when a run ends (a run this batch changed) and on the periodic flush.
  const outputWritten = new Set<string>();
  for (const id of flush ? task.runs.keys() : work.keys()) {
    const current = work.get(id) ?? task.runs.get(id)!;
    if (!current.outputDirty) continue;
    if (!(flush || (changes.has(id) && isTerminal(current.status)))) continue;
    change(current, { output: current.tail.text(), outputStreams: current.tail.spans(), outputTruncated: current.tail.truncated });
    outputWritten.add(id);
  }

  // Past the failure budget, the nodes of waves not started yet are not started at all (only a
  // rolling task has a budget: the count is not made for the others, batch after batch).
  const current = (id: string) => work.get(id) ?? task.runs.get(id)!;
  const failed = task.info.rollout ? [...task.runs.keys()].filter((id) => countsAsFailure(current(id).status)).length : 0;
  if (failed > task.budget && task.info.rollout) {
    const left = [...task.runs.keys()].filter((id) => current(id).status === 'pending' && current(id).wave > task.wave);
    if (left.length > 0) {
      stopReason = stopReasonText(failed, task.runs.size, task.info.rollout, left.length);
      const now = new Date();
      for (const id of left) finish(edit(id)!, 'skipped', stopReason, now);
    }
  }

  let terminalDelta = 0;
  for (const [id, run] of work) terminalDelta += Number(isTerminal(run.status)) - Number(isTerminal(task.runs.get(id)!.status));
  const finished = task.status === 'running' && task.terminal + terminalDelta === task.runs.size;
  const statuses = finished ? [...task.runs.keys()].map((id) => current(id).status) : [];
  const finalStatus = finished ? finalTaskStatus(cancelRequested, statuses) : task.status;
  if (finished) events.push({ type: 'done', taskId: task.info.id, status: finalStatus, counts: countRuns(statuses), stopReason });
  events.forEach((e, i) => { e.seq = task.nextSeq + i; });
  return {
    work, changes, events, cancels, acks, cancelRequested, stopReason, outputWritten, terminalDelta, finished, finalStatus,
    finishedAt: finished ? new Date() : task.finishedAt,
  };
}

function ack(acks: Map<string, Map<string, number>>, nodeId: string, runId: string, seq: number): void {
  let runs = acks.get(nodeId);
  if (!runs) acks.set(nodeId, (runs = new Map()));
  runs.set(runId, Math.max(seq, runs.get(runId) ?? 0));
}

/** Swaps the planned states into the task (after the plan was written). */
export function commitBatch(task: ActiveTask, plan: BatchPlan): void {
  for (const [id, run] of plan.work) {
    if (plan.outputWritten.has(id)) run.outputDirty = false;
    task.runs.set(id, run);
  }
  for (const id of plan.outputWritten) if (!plan.work.has(id)) task.runs.get(id)!.outputDirty = false;
  task.terminal += plan.terminalDelta;
  task.cancelRequested = plan.cancelRequested;
  task.stopReason = plan.stopReason;
  task.nextSeq += plan.events.length;
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
  ack: (runId: string, seq: number) => void,
  limits: PlanLimits,
): void {
  const run = edit(event.runId);
  if (!run) return;
  if (run.nodeId !== nodeId) {
    warn('a node reported on a run that is not its own; ignored', { runId: run.id, nodeId });
    return;
  }
  const seq = Number(event.seq ?? 0);
  // Anything for a finished run is a repeat, or comes after the manager ended it (timeout, lost):
  // acknowledged as "everything of this run", so the host drops it from its spool.
  if (isTerminal(run.status)) {
    ack(run.id, ALL_EVENTS);
    return;
  }
  if (seq > 0) {
    // Acknowledged even when it is a repeat, so the host can drop it from its spool.
    ack(run.id, seq);
    if (seq <= run.lastSeq) return;
    run.lastSeq = seq;
    change(run, { lastSeq: seq });
  } else {
    // A hostd-made event (seq 0) is acknowledged with the run's highest stored seq: hostd counts
    // an ack arriving after it sent the event and covering that seq as "stored".
    ack(run.id, run.lastSeq);
  }
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
    const data = event.output.data;
    run.tail.append(stream, data);
    run.outputDirty = true;
    // The event log keeps the whole output up to the limit, then says once that it stopped.
    const bytes = Buffer.byteLength(data);
    const limit = limits.maxStoredOutputBytes;
    if (run.storedBytes + bytes <= limit) events.push({ type: 'output', runId: run.id, node: run.node, stream, data });
    else if (run.storedBytes <= limit) {
      events.push({ type: 'output', runId: run.id, node: run.node, stream: 'stderr', data: `\n[opsctl: output beyond ${limit} bytes is not stored; tasks show has its tail]\n` });
    }
    run.storedBytes += bytes;
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
