// A task that is still running, held in memory: the live state of its runs, the queue of work
// that changes them (host events, dispatches, timeouts, cancel, output flushes), where its waves
// are, and the event bus that SSE streams follow. Only the task service mutates it, one batch at
// a time.
import { EventEmitter } from 'node:events';
import type { TaskEvent__Output } from '../../../proto/hostlink.js';
import type { Interpreter, RolloutOptions, TaskKind, TaskStatus, TaskStreamEvent } from '../../../proto/rest/tasks.js';
import { OutputTail } from './output-tail.js';
import { countRuns, isTerminal, type RunView } from './views.js';

export interface RunState extends Omit<RunView, 'output' | 'outputTruncated'> {
  nodeId: string | null;
  dispatchedAt: Date | null;
  pid: number;
  tail: OutputTail;
  /** Output changed since it was last written to the database. */
  outputDirty: boolean;
  /** The highest host event seq applied (repeats at or below it are ignored). */
  lastSeq: number;
  /** Output bytes kept in the task's event log (the whole output, up to tasks.maxStoredOutputBytes). */
  storedBytes: number;
}

export function stateView(run: RunState): RunView {
  return { ...run, output: run.tail.text(), outputTruncated: run.tail.truncated };
}

export interface TaskInfo {
  id: string;
  kind: TaskKind;
  params: Record<string, unknown> | null;
  script: string;
  interpreter: Interpreter;
  timeoutSeconds: number;
  env: Record<string, string>;
  createdAt: Date;
  rollout: RolloutOptions | null;
  /** Offline nodes wait (queued) until this time; null: they end `offline` at once. */
  queueExpiresAt: Date | null;
}

export type WorkItem = (
  | { kind: 'dispatched'; runIds: string[]; at: Date }
  /** Runs of a starting wave whose node has no stream: queued when the task queues, else offline. */
  | { kind: 'unreachable'; runIds: string[] }
  | { kind: 'host-event'; nodeId: string; event: TaskEvent__Output }
  /** Runs past their deadline (dispatch + timeout + grace). */
  | { kind: 'timeout'; runIds: string[] }
  /** Queued runs whose node did not come back before the task's queueExpiresAt. */
  | { kind: 'expire' }
  /** Runs their host no longer knows (it restarted or lost them). */
  | { kind: 'lost'; runIds: string[]; reason: string }
  | { kind: 'cancel' }
  | { kind: 'flush' }
  /** Changes nothing: its `applied` says the work queued before it is applied (engine.applied). */
  | { kind: 'mark' }
) & {
  /** Called once the item's batch is written and published (or failed). */
  applied?: () => void;
};

export class ActiveTask {
  status: TaskStatus = 'running';
  finishedAt: Date | null = null;
  cancelRequested = false;
  readonly runs = new Map<string, RunState>();
  /** nodeId → runId (one run per node per task). */
  readonly runByNode = new Map<string, string>();
  /** Runs a dispatch was sent for, recorded the moment it is sent so no run is sent twice. */
  readonly sent = new Set<string>();
  /** Each stored batch's events, with each one's JSON text (what the SSE stream sends). */
  readonly bus = new EventEmitter<{ events: [TaskStreamEvent[], string[]] }>();
  queue: WorkItem[] = [];
  draining = false;
  idle: Promise<void> = Promise.resolve();
  /** The highest wave started (-1: none yet). */
  wave = -1;
  /** The next wave waits for its --batch-pause. */
  pauseTimer?: NodeJS.Timeout;
  /** How many runs may fail before the remaining waves are skipped. */
  budget = Infinity;
  stopReason: string | null = null;
  /** The seq the next stream event gets (events are numbered per task, from 1). */
  nextSeq = 1;
  /** The highest wave of a run (runs never change waves). */
  lastWave = 0;
  /**
   * Runs in a final status, kept as batches commit: whether a 10,000-run task is done is then
   * not a walk over every run after each of its hundreds of batches.
   */
  terminal = 0;

  constructor(readonly info: TaskInfo) {
    this.bus.setMaxListeners(0);
  }

  /** How long a run may take once dispatched (the agent's own timeout). */
  get timeoutMs(): number {
    return this.info.timeoutSeconds * 1000;
  }

  addRun(run: RunState): void {
    this.runs.set(run.id, run);
    if (run.nodeId) this.runByNode.set(run.nodeId, run.id);
    this.lastWave = Math.max(this.lastWave, run.wave);
    if (isTerminal(run.status)) this.terminal++;
  }

  counts() {
    return countRuns([...this.runs.values()].map((r) => r.status));
  }

  doneEvent(): TaskStreamEvent {
    return { type: 'done', taskId: this.info.id, status: this.status, counts: this.counts(), stopReason: this.stopReason };
  }
}

/** A run's history as stream events: its status, start, output so far and exit. */
export function runReplay(
  run: Omit<RunView, 'output' | 'outputTruncated'> & { pid?: number },
  output: readonly { stream: 'stdout' | 'stderr'; data: string }[],
): TaskStreamEvent[] {
  const events: TaskStreamEvent[] = [{ type: 'run', runId: run.id, node: run.node, status: run.status }];
  if (run.startedAt) events.push({ type: 'started', runId: run.id, node: run.node, at: run.startedAt.toISOString(), pid: run.pid ?? 0 });
  for (const chunk of output) events.push({ type: 'output', runId: run.id, node: run.node, stream: chunk.stream, data: chunk.data });
  if (isTerminal(run.status)) events.push(exitEvent(run));
  return events;
}

export function exitEvent(run: Omit<RunView, 'output' | 'outputTruncated'>): TaskStreamEvent {
  return {
    type: 'exit', runId: run.id, node: run.node, status: run.status, exitCode: run.exitCode, durationMs: run.durationMs,
    error: run.error, errorCode: run.errorCode, result: run.result,
  };
}

export { finalTaskStatus } from '../../../proto/task-status.js';
