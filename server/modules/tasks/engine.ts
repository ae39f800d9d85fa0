// The running tasks and the one queue per task that changes them. Every change — a dispatch, a
// host's event, a timeout, a cancel — is an item on the task's queue; the queue drains in batches,
// each planned (batch-plan.ts), written in one transaction (event-log.ts), then applied to memory,
// published to followers and acknowledged to hosts, in that order. Nothing is published or
// acknowledged before it is stored.
import type { Logger } from '../../../lib/log.js';
import type { Orm } from '../../db/orm.js';
import type { HostSessions } from '../../hostlink/contract.js';
import { ActiveTask, type TaskInfo, type WorkItem } from './active-task.js';
import { commitBatch, planBatch, type PlanLimits } from './batch-plan.js';
import { AckBatcher } from './acks.js';
import { toBlocks, writePlan } from './event-log.js';
import { OutputTail } from './output-tail.js';
import type { TaskRun } from './task-run.entity.js';
import { failureBudget } from './waves.js';

const WRITE_ATTEMPTS = 4;

export interface EngineHooks {
  /** After each stored batch of a task still running: start its next wave if it is due. */
  afterBatch(task: ActiveTask): void;
  /** The task finished and left memory. */
  closed(task: ActiveTask): void;
}

export interface EngineLimits extends PlanLimits {
  /** The tail of each run kept in memory and in its row (tasks.outputLimitBytes). */
  outputLimitBytes: number;
  /**
   * How long a task's queue gathers work before it is written (ms). Hosts answer a fan-out within
   * milliseconds of each other; gathering them turns one transaction per host into a few per task.
   */
  batchDelayMs?: number;
  /** How long acknowledgements to a host are gathered (ms); 0 sends each batch's at once. */
  ackDelayMs?: number;
  /** How long those of a host that takes them with a dispatch may wait for one (ms; acks.ts). */
  ackHoldMs?: number;
}

const DEFAULT_BATCH_DELAY_MS = 15;
/**
 * A task on fewer nodes than this is written as its events come: it has nothing to gather, and
 * someone usually waits on it (`tasks run NODE` would otherwise pay the delay at accept and at exit).
 */
const GATHER_FROM_RUNS = 5;
const DEFAULT_ACK_DELAY_MS = 250;
const DEFAULT_ACK_HOLD_MS = 5000;

export class TaskEngine {
  readonly active = new Map<string, ActiveTask>();
  /** runId → its task, for host events. */
  readonly runIndex = new Map<string, ActiveTask>();

  readonly acks: AckBatcher;

  constructor(
    private readonly orm: Orm,
    private readonly sessions: HostSessions,
    private readonly log: Logger,
    private readonly limits: EngineLimits,
    private readonly hooks: EngineHooks,
  ) {
    this.acks = new AckBatcher(sessions, limits.ackDelayMs ?? DEFAULT_ACK_DELAY_MS, limits.ackHoldMs ?? DEFAULT_ACK_HOLD_MS);
  }

  /** Holds a running task in memory; `nextSeq` continues its event numbering. */
  activate(info: TaskInfo, runs: TaskRun[], nextSeq: number): ActiveTask {
    const live = new ActiveTask(info);
    live.nextSeq = nextSeq;
    live.budget = failureBudget(runs.length, info.rollout);
    for (const r of runs) {
      live.addRun({
        id: r.id, nodeId: r.node?.id ?? null, node: r.nodeName, status: r.status, exitCode: r.exitCode, error: r.error,
        dispatchedAt: r.dispatchedAt, startedAt: r.startedAt, finishedAt: r.finishedAt, durationMs: r.durationMs, pid: 0,
        tail: new OutputTail(this.limits.outputLimitBytes, r.output, r.outputTruncated, r.outputStreams ?? []), outputDirty: false,
        errorCode: r.errorCode ?? null, result: r.result ?? null, wave: r.wave ?? 0, lastSeq: r.lastSeq ?? 0, storedBytes: 0,
      });
      if (r.status !== 'pending' && r.status !== 'queued') live.sent.add(r.id);
      this.runIndex.set(r.id, live);
    }
    // The highest wave with a run that left `pending` is the one in progress.
    for (const r of live.runs.values()) if (r.status !== 'pending') live.wave = Math.max(live.wave, r.wave);
    this.active.set(info.id, live);
    return live;
  }

  enqueue(task: ActiveTask, item: WorkItem): void {
    task.queue.push(item);
    if (task.draining) return;
    task.draining = true;
    const delayMs = task.runs.size < GATHER_FROM_RUNS ? 0 : this.limits.batchDelayMs ?? DEFAULT_BATCH_DELAY_MS;
    task.idle = (async () => {
      try {
        if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
        while (task.queue.length > 0) {
          const batch = task.queue.splice(0);
          try {
            await this.applyBatch(task, batch);
          } catch (err) {
            this.log.error({ err, taskId: task.info.id }, 'processing task events failed');
          } finally {
            for (const item of batch) item.applied?.();
          }
        }
      } finally {
        task.draining = false;
      }
    })();
  }

  /**
   * Resolves once the work queued on the task so far is applied (stored and published); work
   * queued after it may still wait. A fan-out's hosts answer without pause, so its queue is not
   * idle until the task ends: waiting for that held a 10,000-host POST /tasks for seconds, and its
   * follower then read the whole stream back from the log instead of getting it live.
   */
  applied(task: ActiveTask): Promise<void> {
    if (!task.draining && task.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.enqueue(task, { kind: 'mark', applied: resolve }));
  }

  /** Resolves when the task has no queued work. */
  async whenIdle(task: ActiveTask | string | undefined): Promise<void> {
    const t = typeof task === 'string' ? this.active.get(task) : task;
    while (t && (t.draining || t.queue.length > 0)) await t.idle;
  }

  /** Asks every running task with buffered output to write it (the periodic flush). */
  flushAll(): void {
    for (const task of this.active.values()) {
      if ([...task.runs.values()].some((r) => r.outputDirty)) this.enqueue(task, { kind: 'flush' });
    }
  }

  /**
   * Plans the batch on copies of the run states, writes it in one transaction, then swaps the
   * copies in and publishes the events — in one tick, so a follower that reads the log and then
   * the bus never misses or repeats an event.
   */
  private async applyBatch(task: ActiveTask, items: WorkItem[]): Promise<void> {
    const plan = planBatch(task, items, this.limits, (msg, fields) => this.log.warn(fields, msg));
    const { blocks, texts } = toBlocks(plan.events);
    if (plan.changes.size > 0 || plan.events.length > 0 || plan.finished) {
      for (let attempt = 1; ; attempt++) {
        try {
          await writePlan(this.orm, task.info.id, plan, blocks);
          break;
        } catch (err) {
          // Not applied, published or acknowledged. A passing fault (a lock timeout, a lost
          // connection) is retried; after that hosts re-send what was not acknowledged when they reconnect.
          this.log.error({ err, taskId: task.info.id, attempt }, 'writing task progress failed');
          if (attempt >= WRITE_ATTEMPTS) return;
          await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
        }
      }
    }
    commitBatch(task, plan);
    if (plan.events.length > 0) task.bus.emit('events', plan.events, texts);
    for (const c of plan.cancels) this.sessions.cancel(c.nodeId, c.runId);
    for (const [nodeId, runs] of plan.acks) this.acks.add(nodeId, runs);
    if (plan.finished) this.close(task);
    else this.hooks.afterBatch(task);
  }

  private close(task: ActiveTask): void {
    clearTimeout(task.pauseTimer);
    task.bus.removeAllListeners();
    this.active.delete(task.info.id);
    for (const id of task.runs.keys()) this.runIndex.delete(id);
    this.hooks.closed(task);
    this.log.info({ taskId: task.info.id, status: task.status, ...task.counts(), ...(task.stopReason ? { stopReason: task.stopReason } : {}) }, 'task finished');
  }
}
