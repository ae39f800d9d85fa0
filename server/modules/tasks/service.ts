// Tasks: stored before they are dispatched, fanned out to the target nodes over their host
// streams, followed through the events hosts report, bounded by a timeout, and streamed to
// clients. Running tasks live in memory (ActiveTask); every change is written to the database
// before it is published on the task's event bus, so a stream and the REST view never disagree.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../../lib/log.js';
import { ErrorCode, OpsError } from '../../../proto/errors.js';
import type { Dispatch, TaskEvent__Output } from '../../../proto/hostlink.js';
import type { CreateTaskRequest, RunStatus, TaskDetail, TaskStreamEvent, TaskSummary } from '../../../proto/rest/tasks.js';
import { compileSelector, describeSelector, SelectorError } from '../../../proto/selector.js';
import { inScope, isScoped, type Principal } from '../../access/principal.js';
import { contextEm } from '../../db/context.js';
import type { Orm } from '../../db/orm.js';
import { commitNow, setAuditTarget } from '../../db/request-transaction.js';
import type { SecretBox } from '../../secret-box.js';
import type { HostSession, HostSessions } from '../../hostlink/contract.js';
import type { FileStore } from '../files/file-store.js';
import type { NodesService } from '../nodes/service.js';
import type { TemplatesService } from '../templates/service.js';
import { FileTransfers, type TransferLimits } from './file-transfers.js';
import type { FileAck__Output } from '../../../proto/gen/opsctl/hostlink/v1/FileAck.js';
import { ActiveTask, runReplay, stateView, type RunState, type WorkItem } from './active-task.js';
import { commitBatch, planBatch } from './batch-plan.js';
import { dispatchKind, kindPermission, taskSpec } from './kinds.js';
import { OutputTail, splitBySpans } from './output-tail.js';
import { TaskRun } from './task-run.entity.js';
import { Task } from './task.entity.js';
import { isTerminal, runEntityView, toTaskDetail, toTaskSummary, type RunView } from './views.js';

export interface TasksServiceOptions extends TransferLimits {
  outputLimitBytes: number;
  /** files.keepDays: stored files unused this long are deleted (0: never). */
  keepDays: number;
  defaultTimeoutSeconds: number;
  /** How long after a task's timeout the manager gives up on runs no host reported on. */
  timeoutGraceMs?: number;
  /** How often buffered output of running tasks is written to the database. */
  outputFlushMs?: number;
}

export const DEFAULT_TIMEOUT_GRACE_MS = 5000;
export class TasksService {
  private readonly active = new Map<string, ActiveTask>();
  private readonly runIndex = new Map<string, ActiveTask>();
  private flusher?: NodeJS.Timeout;
  private sweeper?: NodeJS.Timeout;
  private readonly graceMs: number;
  private readonly transfers: FileTransfers;

  constructor(
    private readonly orm: Orm,
    private readonly log: Logger,
    private readonly nodes: NodesService,
    private readonly sessions: HostSessions,
    private readonly secrets: SecretBox,
    private readonly files: FileStore,
    private readonly templates: TemplatesService,
    private readonly opts: TasksServiceOptions,
  ) {
    this.graceMs = opts.timeoutGraceMs ?? DEFAULT_TIMEOUT_GRACE_MS;
    this.transfers = new FileTransfers(files, sessions, opts, log, (nodeId, runId, error) => {
      const task = this.runIndex.get(runId);
      if (task) this.enqueue(task, { kind: 'host-event', nodeId, event: hostFailure(runId, error) });
    });
  }

  /** Upload: the stored content's size (it must be on the manager); download: the size limit. */
  private async completeFileParams(params: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (params.op === 'upload') {
      const sha256 = String(params.sha256);
      const size = this.files.size(sha256);
      if (size === undefined) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `no file ${sha256} on the manager: store it first (PUT /files/${sha256})`);
      return { ...params, size };
    }
    if (params.op === 'download') return { ...params, maxBytes: this.opts.maxDownloadBytes };
    return params;
  }

  /** Where a run's downloaded copy is kept: its sha256 and size, once the run succeeded. */
  async downloadedFile(by: Principal, taskId: string, runId: string): Promise<{ sha256: string; size: number; node: string }> {
    const task = await this.get(by, taskId);
    const run = task.runs.find((r) => r.id === runId || r.node === runId);
    if (!run) throw new OpsError(ErrorCode.NOT_FOUND, `task ${taskId} has no run ${runId}`);
    const sha256 = run.result?.sha256;
    if (task.kind !== 'file' || task.params?.op !== 'download') throw new OpsError(ErrorCode.INVALID_ARGUMENT, `task ${taskId} is not a download`);
    if (run.status !== 'succeeded' || typeof sha256 !== 'string') throw new OpsError(ErrorCode.NOT_FOUND, `run ${run.id} on ${run.node} has no file (${run.status}${run.error ? `: ${run.error}` : ''})`);
    if (this.files.size(sha256) === undefined) throw new OpsError(ErrorCode.NOT_FOUND, `the file of run ${run.id} is no longer on the manager`);
    return { sha256, size: Number(run.result?.size ?? 0), node: run.node };
  }

  openFile(sha256: string) { return this.files.open(sha256); }

  onFileAck(nodeId: string, ack: FileAck__Output): void {
    this.transfers.onAck(nodeId, ack);
  }

  /** A node's stream ended: uploads to it in flight fail now. */
  onHostDisconnected(nodeId: string): void {
    this.transfers.onDisconnected(nodeId);
  }

  // ---- REST side

  /** `origin`: what started the task other than a person (a schedule). */
  async create(by: Principal, request: CreateTaskRequest, origin: { scheduleName?: string } = {}): Promise<TaskDetail> {
    const expanded = request.template ? await this.templates.expand(by, request) : undefined;
    const input = expanded?.request ?? request;
    const createdAt = new Date();
    const spec = taskSpec(input);
    const permission = kindPermission(spec);
    if (!by.permissions.has(permission)) throw new OpsError(ErrorCode.FORBIDDEN, `permission ${permission} required (your role is ${by.role})`);
    if (spec.kind === 'file') spec.params = await this.completeFileParams(spec.params!);
    let matches;
    try {
      matches = compileSelector(input.selector);
    } catch (err) {
      if (err instanceof SelectorError) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `selector: ${err.message}`);
      throw err;
    }
    const targets = (await this.nodes.targets()).filter(matches);
    // Refused whole, never silently narrowed: the caller learns how many, not which.
    const outside = targets.filter((n) => !inScope(by, n)).length;
    if (outside > 0) {
      throw new OpsError(ErrorCode.FORBIDDEN, `the selector matches ${outside} node${outside === 1 ? '' : 's'} outside your scope (groups ${by.scopeGroups.join(', ')})`, { outOfScope: outside });
    }
    if (targets.length === 0) throw new OpsError(ErrorCode.NO_MATCHING_NODES, `no node matches the selector ${describeSelector(input.selector)}`);
    const createdBy = by.kind === 'token' ? `${by.owner}/${by.name}` : by.name;
    const secretEnv = Object.fromEntries(Object.entries(input.secretEnv ?? {}).map(([k, v]) => [k, this.secrets.seal(v)]));

    const em = contextEm(this.orm);
    const task = em.create(Task, {
      id: randomUUID(), kind: spec.kind, script: spec.script, interpreter: spec.interpreter, params: spec.params,
      timeoutSeconds: input.timeoutSeconds ?? this.opts.defaultTimeoutSeconds, env: input.env ?? {}, secretEnv,
      selector: input.selector, status: 'running', createdBy, createdAt, finishedAt: null,
      templateName: expanded?.templateName ?? null, templateVersion: expanded?.templateVersion ?? null, scheduleName: origin.scheduleName ?? null,
    });
    const runs = targets.map((node) => em.create(TaskRun, {
      id: randomUUID(), task, node: node.id, nodeName: node.name, status: 'pending', output: '', outputStreams: [], outputTruncated: false,
      errorCode: null, result: null, wave: 0, lastSeq: 0,
    }));
    // One flush = one transaction: the task and all its runs (and the audit row), before anything is sent.
    await em.flush();
    setAuditTarget(task.id);
    await commitNow();

    const active = this.activate(task, runs);
    this.log.info({ taskId: task.id, createdBy, nodes: runs.length }, 'task stored; dispatching');
    // Answer once "dispatched" is recorded, so a GET right after agrees with this response.
    await new Promise<void>((resolve) => this.dispatchOnline(active, resolve));
    const runViews = [...active.runs.values()].sort((a, b) => a.node.localeCompare(b.node)).map(stateView);
    return toTaskDetail(Object.assign(task, { status: active.status, finishedAt: active.finishedAt }), runViews);
  }

  /** Newest first; a caller limited to groups sees the tasks whose every node is in its scope. */
  async list(by: Principal, limit = 50): Promise<TaskSummary[]> {
    const em = contextEm(this.orm);
    const visible = await this.scopeCheck(by);
    const out: TaskSummary[] = [];
    // Scoped callers may skip many tasks; read in pages until the page is full or history ends.
    for (let offset = 0; out.length < limit; offset += limit) {
      const tasks = await em.find(Task, {}, { orderBy: { createdAt: 'desc', id: 'desc' }, limit, offset });
      if (tasks.length === 0) break;
      const runs = await em.find(TaskRun, { task: { $in: tasks.map((t) => t.id) } }, { fields: ['id', 'status', 'task', 'node'] });
      const byTask = new Map<string, Pick<TaskRun, 'status' | 'node'>[]>();
      for (const r of runs) byTask.set(r.task.id, [...(byTask.get(r.task.id) ?? []), r]);
      for (const t of tasks) {
        const taskRuns = byTask.get(t.id) ?? [];
        if (visible(taskRuns) && out.length < limit) out.push(toTaskSummary(t, taskRuns.map((r) => r.status)));
      }
      if (tasks.length < limit || !isScoped(by)) break;
    }
    return out;
  }

  async get(by: Principal, id: string): Promise<TaskDetail> {
    const em = contextEm(this.orm);
    const task = await em.findOne(Task, { id });
    if (!task) throw new OpsError(ErrorCode.NOT_FOUND, `task "${id}" not found`);
    const runs = await em.find(TaskRun, { task: id }, { orderBy: { nodeName: 'asc' } });
    if (!(await this.scopeCheck(by))(runs)) throw new OpsError(ErrorCode.NOT_FOUND, `task "${id}" not found`);
    const live = this.active.get(id);
    const views: RunView[] = runs.map((r) => {
      const view = runEntityView(r);
      const state = live?.runs.get(r.id);
      // Output of running tasks is written every few seconds; show what has arrived.
      return state ? { ...view, output: state.tail.text(), outputTruncated: state.tail.truncated } : view;
    });
    return toTaskDetail(task, views);
  }

  /** Cancels the runs that have not finished; already-finished tasks are refused with 2003. */
  async cancel(by: Principal, id: string): Promise<TaskDetail> {
    // Also the scope check: a task out of scope is "not found".
    const detail = await this.get(by, id);
    const live = this.active.get(id);
    if (!live) throw new OpsError(ErrorCode.TASK_NOT_RUNNABLE, `task ${id} already finished (${detail.status})`);
    // The cancel is written by the task's own queue, on another connection.
    await commitNow();
    await new Promise<void>((resolve) => this.enqueue(live, { kind: 'cancel', applied: resolve }));
    // The queue wrote through its own EntityManager: read the task afresh, not from this one's map.
    contextEm(this.orm).clear();
    return this.get(by, id);
  }

  /**
   * Which runs' tasks the caller may see: all, unscoped; otherwise those whose every node still
   * exists and is in the caller's scope.
   */
  private async scopeCheck(by: Principal): Promise<(runs: Pick<TaskRun, 'node'>[]) => boolean> {
    if (!isScoped(by)) return () => true;
    const inside = new Set((await this.nodes.targets()).filter((n) => inScope(by, n)).map((n) => n.id));
    return (runs) => runs.length > 0 && runs.every((r) => r.node && inside.has(r.node.id));
  }

  /**
   * Calls `onEvent` with the task's history, then with live events until `done`; returns a
   * function that stops following. History and subscription are taken in the same tick from the
   * in-memory state, so nothing is lost or repeated in between.
   */
  async follow(by: Principal, id: string, onEvent: (event: TaskStreamEvent) => void): Promise<() => void> {
    if (isScoped(by)) await this.get(by, id);
    const live = this.active.get(id);
    if (live) return this.replayAndSubscribe(live, onEvent);
    const em = this.orm.em.fork();
    const task = await em.findOne(Task, { id });
    if (!task) throw new OpsError(ErrorCode.NOT_FOUND, `task "${id}" not found`);
    const nowLive = this.active.get(id);
    if (nowLive) return this.replayAndSubscribe(nowLive, onEvent);
    const runs = await em.find(TaskRun, { task: id }, { orderBy: { nodeName: 'asc' } });
    for (const run of runs) {
      const view = runEntityView(run);
      for (const e of runReplay(view, splitBySpans(run.output, run.outputStreams ?? []))) onEvent(e);
    }
    onEvent({ type: 'done', taskId: id, status: task.status, counts: toTaskSummary(task, runs.map((r) => r.status)).counts });
    return () => {};
  }

  private replayAndSubscribe(live: ActiveTask, onEvent: (event: TaskStreamEvent) => void): () => void {
    for (const e of live.snapshot()) onEvent(e);
    if (live.status !== 'running') return () => {};
    live.bus.on('event', onEvent);
    return () => live.bus.off('event', onEvent);
  }

  // ---- host link side

  /** A host connected: send it its pending runs of tasks that have not timed out. */
  dispatchPending(session: HostSession): number {
    let count = 0;
    const now = Date.now();
    for (const task of this.active.values()) {
      const runId = task.runByNode.get(session.nodeId);
      if (!runId || task.status !== 'running' || now >= task.deadline) continue;
      const run = task.runs.get(runId)!;
      if (run.status !== 'pending' || task.sent.has(runId)) continue;
      if (session.send({ dispatch: this.dispatchMessage(task, run) })) {
        task.sent.add(runId);
        this.startContent(task, session.nodeId, runId);
        this.enqueue(task, { kind: 'dispatched', runIds: [runId], at: new Date() });
        count++;
      }
    }
    if (count > 0) this.log.info({ node: session.nodeName, runs: count }, 'pending runs dispatched on connect');
    return count;
  }

  async onTaskEvent(nodeId: string, event: TaskEvent__Output): Promise<void> {
    const task = this.runIndex.get(event.runId);
    if (!task || task.runs.get(event.runId)?.nodeId !== nodeId) {
      this.log.debug({ runId: event.runId, nodeId }, 'event for an unknown or finished run ignored');
      return;
    }
    // The host stream waits while a download's piece is written, and its exit comes after them all.
    if (event.fileData) return this.transfers.onData(event.runId, event.fileData.offset, event.fileData.data);
    if (event.exited) {
      if (task.info.kind === 'file' && task.info.params?.op === 'download') await this.finishDownload(event);
      this.transfers.runEnded(event.runId);
    }
    this.enqueue(task, { kind: 'host-event', nodeId, event });
  }

  /** Keeps a download's copy when it matches what the host read; otherwise the run fails saying why. */
  private async finishDownload(event: TaskEvent__Output): Promise<void> {
    const exited = event.exited!;
    let claimed: Record<string, unknown> | null = null;
    try { claimed = exited.resultJson ? JSON.parse(exited.resultJson) as Record<string, unknown> : null; } catch { /* checked below */ }
    const stored = exited.status === 'succeeded' ? await this.transfers.finishDownload(event.runId, claimed) : undefined;
    if (exited.status !== 'succeeded') this.transfers.runEnded(event.runId);
    if (typeof stored === 'string') Object.assign(exited, { status: 'error', exitCode: -1, error: stored });
    else if (stored) exited.resultJson = JSON.stringify({ ...claimed, sha256: stored.sha256, size: stored.size });
    else if (exited.status === 'succeeded') Object.assign(exited, { status: 'error', exitCode: -1, error: 'the host reported a download but sent no file' });
  }

  // ---- lifecycle

  /** Loads running tasks after a restart, re-arms their timeouts and starts the output flusher. */
  async start(): Promise<void> {
    const em = this.orm.em.fork();
    const tasks = await em.find(Task, { status: 'running' });
    for (const task of tasks) {
      const runs = await em.find(TaskRun, { task: task.id });
      this.activate(task, runs);
    }
    if (tasks.length) this.log.info({ tasks: tasks.length }, 'resumed running tasks');
    const every = this.opts.outputFlushMs ?? 2000;
    this.flusher = setInterval(() => this.flushAll(), every);
    this.flusher.unref();
    if (this.opts.keepDays > 0) {
      this.sweepFiles();
      this.sweeper = setInterval(() => this.sweepFiles(), 3600_000);
      this.sweeper.unref();
    }
  }

  /** Stops timers and writes buffered output; running tasks resume on the next start. */
  async stop(): Promise<void> {
    if (this.flusher) clearInterval(this.flusher);
    this.flusher = undefined;
    clearInterval(this.sweeper);
    this.flushAll();
    for (const task of [...this.active.values()]) {
      if (task.timer) clearTimeout(task.timer);
      await this.whenIdle(task);
    }
  }

  /** Resolves when the task has no queued work (used by cancel, stop and tests). */
  async whenIdle(task: ActiveTask | string): Promise<void> {
    const t = typeof task === 'string' ? this.active.get(task) : task;
    while (t && (t.draining || t.queue.length > 0)) await t.idle;
  }

  /** Deletes stored files unused for files.keepDays, keeping the content running uploads still send. */
  sweepFiles(now = Date.now()): number {
    const sending = new Set<string>();
    for (const task of this.active.values()) {
      if (task.info.kind === 'file' && task.info.params?.op === 'upload') sending.add(String(task.info.params.sha256));
    }
    try {
      const deleted = this.files.sweep(this.opts.keepDays * 86_400_000, sending, now);
      if (deleted > 0) this.log.info({ deleted, keepDays: this.opts.keepDays }, 'deleted stored files unused for files.keepDays');
      return deleted;
    } catch (err) {
      this.log.error({ err }, 'sweeping the file store failed');
      return 0;
    }
  }

  private flushAll(): void {
    for (const task of this.active.values()) {
      if ([...task.runs.values()].some((r) => r.outputDirty)) this.enqueue(task, { kind: 'flush' });
    }
  }

  // ---- internals

  private activate(task: Task, runs: TaskRun[]): ActiveTask {
    const live = new ActiveTask({
      id: task.id, kind: task.kind ?? 'script', params: task.params ?? null, script: task.script, interpreter: task.interpreter, timeoutSeconds: task.timeoutSeconds,
      env: { ...(task.env ?? {}), ...this.openSecrets(task) }, createdAt: task.createdAt,
    });
    for (const r of runs) {
      live.addRun({
        id: r.id, nodeId: r.node?.id ?? null, node: r.nodeName, status: r.status, exitCode: r.exitCode, error: r.error,
        dispatchedAt: r.dispatchedAt, startedAt: r.startedAt, finishedAt: r.finishedAt, durationMs: r.durationMs, pid: 0,
        tail: new OutputTail(this.opts.outputLimitBytes, r.output, r.outputTruncated, r.outputStreams ?? []), outputDirty: false,
        errorCode: r.errorCode ?? null, result: r.result ?? null, wave: r.wave ?? 0,
      });
      if (r.status !== 'pending') live.sent.add(r.id);
      this.runIndex.set(r.id, live);
    }
    this.active.set(task.id, live);
    const wait = Math.max(0, live.deadline + this.graceMs - Date.now());
    live.timer = setTimeout(() => this.enqueue(live, { kind: 'timeout' }), wait);
    live.timer.unref();
    // A resumed task whose runs all finished before the restart only needs closing.
    if ([...live.runs.values()].every((r) => isTerminal(r.status))) this.enqueue(live, { kind: 'flush' });
    return live;
  }

  /** Secret values reach the host in the dispatch and nowhere else. */
  private openSecrets(task: Task): Record<string, string> {
    return Object.fromEntries(Object.entries(task.secretEnv ?? {}).map(([k, sealed]) => [k, this.secrets.open(sealed)]));
  }

  private dispatchMessage(task: ActiveTask, run: RunState): Dispatch {
    return { runId: run.id, taskId: task.info.id, timeoutMs: Math.max(1, task.deadline - Date.now()), ...dispatchKind(task.info) };
  }

  /** Sends every pending run whose node has a stream; `applied` runs once that is recorded. */
  private dispatchOnline(task: ActiveTask, applied?: () => void): string[] {
    const sent: string[] = [];
    for (const run of task.runs.values()) {
      if (!run.nodeId || run.status !== 'pending' || task.sent.has(run.id) || !this.sessions.get(run.nodeId)) continue;
      if (this.sessions.dispatch(run.nodeId, this.dispatchMessage(task, run))) {
        task.sent.add(run.id);
        this.startContent(task, run.nodeId, run.id);
        sent.push(run.id);
      }
    }
    if (sent.length) this.enqueue(task, { kind: 'dispatched', runIds: sent, at: new Date(), applied });
    else applied?.();
    return sent;
  }

  /** An upload's content follows its dispatch down the same stream. */
  private startContent(task: ActiveTask, nodeId: string, runId: string): void {
    const p = task.info.params;
    if (task.info.kind === 'file' && p?.op === 'upload') this.transfers.startUpload(nodeId, runId, String(p.sha256), Number(p.size));
  }

  private enqueue(task: ActiveTask, item: WorkItem): void {
    task.queue.push(item);
    if (task.draining) return;
    task.draining = true;
    task.idle = (async () => {
      try {
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
   * Plans the batch on copies of the run states, writes it in one transaction, then swaps the
   * copies in and publishes the events — in one tick, so a stream that replays the state never
   * sees an event twice.
   */
  private async applyBatch(task: ActiveTask, items: WorkItem[]): Promise<void> {
    const plan = planBatch(task, items, (msg, fields) => this.log.warn(fields, msg));
    if (plan.changes.size > 0 || plan.finished) {
      try {
        await this.orm.em.fork().transactional(async (tx) => {
          for (const [id, c] of plan.changes) await tx.nativeUpdate(TaskRun, { id }, c);
          if (plan.finished) await tx.nativeUpdate(Task, { id: task.info.id }, { status: plan.finalStatus, finishedAt: plan.finishedAt });
        });
      } catch (err) {
        this.log.error({ err, taskId: task.info.id }, 'writing task progress failed');
        // Output stays dirty and is written again on the next flush.
        plan.outputWritten.clear();
      }
    }
    commitBatch(task, plan);
    for (const e of plan.events) task.bus.emit('event', e);
    for (const c of plan.cancels) this.sessions.cancel(c.nodeId, c.runId);
    if (plan.finished) this.close(task);
  }

  private close(task: ActiveTask): void {
    if (task.timer) clearTimeout(task.timer);
    task.bus.emit('event', task.doneEvent());
    task.bus.removeAllListeners();
    this.active.delete(task.info.id);
    for (const id of task.runs.keys()) {
      this.runIndex.delete(id);
      this.transfers.runEnded(id);
    }
    const counts = task.counts();
    this.log.info({ taskId: task.info.id, status: task.status, ...counts }, 'task finished');
  }
}

/** A run's failure seen by the manager itself, as if its host had reported it. */
function hostFailure(runId: string, error: string): TaskEvent__Output {
  return {
    runId, kind: 'exited',
    exited: { atMs: Date.now(), exitCode: -1, signal: '', durationMs: 0, status: 'error', error, errorCode: 0, resultJson: '' },
  } as TaskEvent__Output;
}
