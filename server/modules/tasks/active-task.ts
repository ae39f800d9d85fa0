// A task that is still running, held in memory: the live state of its runs, the queue of work
// that changes them (host events, dispatches, timeout, cancel, output flushes) and the event bus
// that SSE streams follow. Only the task service mutates it, one batch at a time.
import { EventEmitter } from 'node:events';
import type { TaskEvent__Output } from '../../../proto/hostlink.js';
import type { Interpreter, TaskKind, TaskStatus, TaskStreamEvent } from '../../../proto/rest/tasks.js';
import { OutputTail } from './output-tail.js';
import { countRuns, isTerminal, type RunView } from './views.js';

export interface RunState extends Omit<RunView, 'output' | 'outputTruncated'> {
  nodeId: string | null;
  dispatchedAt: Date | null;
  pid: number;
  tail: OutputTail;
  /** Output changed since it was last written to the database. */
  outputDirty: boolean;
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
}

export type WorkItem = (
  | { kind: 'dispatched'; runIds: string[]; at: Date }
  | { kind: 'host-event'; nodeId: string; event: TaskEvent__Output }
  | { kind: 'timeout' }
  | { kind: 'cancel' }
  | { kind: 'flush' }
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
  readonly bus = new EventEmitter();
  queue: WorkItem[] = [];
  draining = false;
  idle: Promise<void> = Promise.resolve();
  timer?: NodeJS.Timeout;

  constructor(readonly info: TaskInfo) {
    this.bus.setMaxListeners(0);
  }

  /** When the agent must have finished (ms since epoch). */
  get deadline(): number {
    return this.info.createdAt.getTime() + this.info.timeoutSeconds * 1000;
  }

  addRun(run: RunState): void {
    this.runs.set(run.id, run);
    if (run.nodeId) this.runByNode.set(run.nodeId, run.id);
  }

  counts() {
    return countRuns([...this.runs.values()].map((r) => r.status));
  }

  /** What happened so far, as the events a stream would have seen (ends with `done` once finished). */
  snapshot(): TaskStreamEvent[] {
    const events: TaskStreamEvent[] = [];
    for (const run of [...this.runs.values()].sort((a, b) => a.node.localeCompare(b.node))) {
      events.push(...runReplay(run, run.tail.list()));
    }
    if (this.status !== 'running') events.push(this.doneEvent());
    return events;
  }

  doneEvent(): TaskStreamEvent {
    return { type: 'done', taskId: this.info.id, status: this.status, counts: this.counts() };
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
