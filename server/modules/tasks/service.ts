// Tasks, as the REST API and the host link see them: stored before they are dispatched, then
// handed to the engine (engine.ts), which changes them one batch at a time. The behaviours have
// their own files: waves and the failure budget (waves.ts), sending runs (dispatch.ts), timeouts
// and expiry (timeouts.ts), recovery after a restart or reconnect (recovery.ts), following a task
// (follow.ts), the stored event log (event-log.ts), file contents (file-transfers.ts).
import { timeOrderedId } from '../../../lib/time-ordered-id.js';
import type { Logger } from '../../../lib/log.js';
import { ErrorCode, OpsError } from '../../../proto/errors.js';
import type { TaskEvent__Output } from '../../../proto/hostlink.js';
import type { EntityManager } from '@mikro-orm/core';
import { DEFAULT_PAGE_LIMIT, type Page } from '../../../proto/rest/common.js';
import type {
  CreateTaskRequest, RunStatus, TaskDetail, TaskListQuery, TaskOutputPage, TaskOutputQuery, TaskRun as TaskRunDto, TaskRunsQuery, TaskStatusSummary,
  TaskStreamEvent, TaskSummary,
} from '../../../proto/rest/tasks.js';
import { countStatuses, RUN_STATUSES, runsByStatus } from '../../../proto/task-status.js';
import { cursorDate, decodeCursor, pageOf } from '../../http/page.js';
import { FinishedRunCounts } from './run-counts.js';
import { describeSelector } from '../../../proto/selector.js';
import { inScope, isScoped, type Principal } from '../../access/principal.js';
import { contextEm } from '../../db/context.js';
import type { Orm } from '../../db/orm.js';
import { commitNow, setAuditTarget } from '../../db/request-transaction.js';
import type { SecretBox } from '../../secret-box.js';
import type { HostSession, HostSessions } from '../../hostlink/contract.js';
import type { FileStore } from '../files/file-store.js';
import type { Node } from '../nodes/node.entity.js';
import type { NodesService } from '../nodes/service.js';
import type { TemplatesService } from '../templates/service.js';
import { FileTransfers, type TransferLimits } from './file-transfers.js';
import type { FileAck__Output } from '../../../proto/gen/opsctl/hostlink/v1/FileAck.js';
import { stateView, type ActiveTask } from './active-task.js';
import { ALL_EVENTS } from './batch-plan.js';
import { executeAll } from '../../db/batch-sql.js';
import { runInserts } from './batch-sql.js';
import { Dispatcher } from './dispatch.js';
import { TaskEngine, type EngineLimits } from './engine.js';
import { nextEventSeq, readEvents } from './event-log.js';
import { followTask } from './follow.js';
import { kindPermission, taskSpec } from './kinds.js';
import { reconcileKnownRuns, resumeRunningTasks, taskInfo } from './recovery.js';
import { TaskAdoption, type TaskReplicas } from './adoption.js';
import { TaskRun } from './task-run.entity.js';
import { Task } from './task.entity.js';
import { TimeoutSweep } from './timeouts.js';
import { runEntityView, taskSummaryView, toRunDto, toTaskDetail, type RunView } from './views.js';
import { assignWaves, checkRollout, isRolling } from './waves.js';

export interface TasksServiceOptions extends TransferLimits, Pick<EngineLimits, 'batchDelayMs' | 'ackDelayMs' | 'ackHoldMs'> {
  outputLimitBytes: number;
  /** Output bytes per run kept whole in the event log (tasks.maxStoredOutputBytes). */
  maxStoredOutputBytes: number;
  /** files.keepDays: stored files unused this long are deleted (0: never). */
  keepDays: number;
  defaultTimeoutSeconds: number;
  /** How long after a run's timeout the manager gives up on a host that did not report its end. */
  timeoutGraceMs?: number;
  /** How often buffered output of running tasks is written to the database. */
  outputFlushMs?: number;
  /** After a manager restart, how long hosts have to reconnect before their unsent runs are judged offline. */
  reconnectGraceMs?: number;
  /** With replicas: who this replica is, who else is alive, how to reach them (adoption.ts). */
  replicas?: TaskReplicas;
}

export const DEFAULT_TIMEOUT_GRACE_MS = 5000;

/** Names in code-unit order, as the runs' pages are keyed: localeCompare cost 100 ms per 10,000-node task. */
const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const DEFAULT_QUEUE_EXPIRES_SECONDS = 24 * 3600;

export class TasksService {
  private readonly engine: TaskEngine;
  private readonly dispatcher: Dispatcher;
  private readonly sweep: TimeoutSweep;
  private readonly transfers: FileTransfers;
  private readonly finishedCounts = new FinishedRunCounts();
  private flusher?: NodeJS.Timeout;
  private sweeper?: NodeJS.Timeout;
  private resumeTimer?: NodeJS.Timeout;
  private readonly adoption?: TaskAdoption;

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
    this.transfers = new FileTransfers(files, sessions, opts, log, (nodeId, runId, error) => {
      const task = this.engine.runIndex.get(runId);
      if (task) this.engine.enqueue(task, { kind: 'host-event', nodeId, event: hostFailure(runId, error) });
    });
    this.engine = new TaskEngine(orm, sessions, log, opts, {
      afterBatch: (task) => this.dispatcher.advance(task),
      closed: (task) => {
        for (const id of task.runs.keys()) this.transfers.runEnded(id);
        this.finishedCounts.remember(task.info.id, runsByStatus([...task.runs.values()].map((r) => r.status)));
      },
    });
    this.dispatcher = new Dispatcher(this.engine, sessions, this.transfers, log);
    if (opts.replicas) this.adoption = new TaskAdoption(orm, opts.replicas, (claim, ids) => this.resume(claim, ids), log);
    this.sweep = new TimeoutSweep(this.engine, opts.timeoutGraceMs ?? DEFAULT_TIMEOUT_GRACE_MS);
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

  /** `origin`: what started the task other than a person (a schedule), or what a rerun repeats (a template's version). */
  async create(by: Principal, request: CreateTaskRequest, origin: { scheduleName?: string; template?: { name: string; version: number } } = {}): Promise<TaskDetail> {
    const expanded = request.template ? await this.templates.expand(by, request) : undefined;
    const input = expanded?.request ?? request;
    const createdAt = new Date();
    const spec = taskSpec(input);
    const permission = kindPermission(spec);
    if (!by.permissions.has(permission)) throw new OpsError(ErrorCode.FORBIDDEN, `permission ${permission} required (your role is ${by.role})`);
    if (input.rollout) checkRollout(input.rollout);
    if (spec.kind === 'file') spec.params = await this.completeFileParams(spec.params!);
    const targets = await this.targetsOf(by, input.selector);
    const createdBy = by.kind === 'token' ? `${by.owner}/${by.name}` : by.name;
    const secretEnv = Object.fromEntries(Object.entries(input.secretEnv ?? {}).map(([k, v]) => [k, this.secrets.seal(v)]));
    const rollout = isRolling(input.rollout) ? input.rollout : null;
    const queueExpiresAt = input.queue ? new Date(createdAt.getTime() + (input.queueExpiresSeconds ?? DEFAULT_QUEUE_EXPIRES_SECONDS) * 1000) : null;

    const em = contextEm(this.orm);
    const task = em.create(Task, {
      id: timeOrderedId(), kind: spec.kind, script: spec.script, interpreter: spec.interpreter, params: spec.params,
      timeoutSeconds: input.timeoutSeconds ?? this.opts.defaultTimeoutSeconds, env: input.env ?? {}, secretEnv,
      selector: input.selector, status: 'running', createdBy, createdAt, finishedAt: null, owner: this.opts.replicas?.id ?? null,
      rollout, queueExpiresAt, stopReason: null,
      templateName: expanded?.templateName ?? origin.template?.name ?? null, templateVersion: expanded?.templateVersion ?? origin.template?.version ?? null,
      scheduleName: origin.scheduleName ?? null,
    });
    targets.sort((a, b) => byCodeUnits(a.name, b.name));
    const waves = assignWaves(targets.length, rollout);
    // Plain rows, not managed entities: a task on thousands of nodes would otherwise cost the unit
    // of work a change set per run.
    const runs = targets.map((node, i) => Object.assign(new TaskRun(), {
      id: timeOrderedId(), task, node: { id: node.id } as Node, nodeName: node.name, status: 'pending', output: '', outputStreams: [], outputTruncated: false,
      errorCode: null, result: null, wave: waves[i], lastSeq: 0,
    } satisfies Partial<TaskRun>));
    // One transaction (the request's): the task, all its runs and the audit row, before anything is sent.
    await em.flush();
    await executeAll(em, runInserts(em, task.id, runs));
    setAuditTarget(task.id);
    await commitNow();

    const active = this.engine.activate(taskInfo(task, this.secrets), runs, 1);
    this.log.info({ taskId: task.id, createdBy, nodes: runs.length, waves: active.lastWave + 1 }, 'task stored; dispatching');
    this.dispatcher.advance(active);
    // Answer once the first wave's dispatch is recorded, so a GET right after agrees with this
    // response; not once the queue is idle, which its hosts' answers put off until the task ends.
    await this.engine.applied(active);
    const runViews = [...active.runs.values()].sort((a, b) => byCodeUnits(a.node, b.node)).map(stateView);
    return toTaskDetail(Object.assign(task, { status: active.status, finishedAt: active.finishedAt, stopReason: active.stopReason }), runViews);
  }

  /** The same task again, on every node it ran on or (failed) on those whose run did not succeed. */
  async rerun(by: Principal, id: string, failedOnly: boolean): Promise<TaskDetail> {
    const old = await this.get(by, id);
    const em = contextEm(this.orm);
    const stored = await em.findOneOrFail(Task, { id });
    const runs = old.runs.filter((r) => !failedOnly || (r.status !== 'succeeded' && r.status !== 'queued' && r.status !== 'pending'));
    const names = runs.map((r) => r.node);
    if (names.length === 0) throw new OpsError(ErrorCode.NO_MATCHING_NODES, failedOnly ? `task ${id} has no failed run to rerun` : `task ${id} has no runs`);
    const secretEnv = Object.fromEntries(Object.entries(stored.secretEnv ?? {}).map(([k, sealed]) => [k, this.secrets.open(sealed)]));
    return this.create(by, {
      selector: { names }, kind: stored.kind, timeoutSeconds: stored.timeoutSeconds,
      ...(stored.kind === 'script' ? { script: stored.script, interpreter: stored.interpreter, env: stored.env, secretEnv } : { [stored.kind]: stripDerived(stored.params ?? {}) }),
      ...(stored.rollout ? { rollout: stored.rollout } : {}),
    } as CreateTaskRequest, stored.templateName ? { template: { name: stored.templateName, version: stored.templateVersion ?? 1 } } : {});
  }

  /** 1001 when the selector is malformed or names a group that does not exist. */
  async checkSelector(selector: CreateTaskRequest['selector']): Promise<void> {
    await this.nodes.compile(selector);
  }

  /** The nodes a selector matches, all in the caller's scope (refused whole otherwise), at least one. Rollouts use it too. */
  async targetsOf(by: Principal, selector: CreateTaskRequest['selector']) {
    const matches = await this.nodes.compile(selector);
    const targets = (await this.nodes.targets()).filter(matches);
    // Refused whole, never silently narrowed: the caller learns how many, not which.
    const outside = targets.filter((n) => !inScope(by, n)).length;
    if (outside > 0) {
      throw new OpsError(ErrorCode.FORBIDDEN, `the selector matches ${outside} node${outside === 1 ? '' : 's'} outside your scope (groups ${by.scopeGroups.join(', ')})`, { outOfScope: outside });
    }
    if (targets.length === 0) throw new OpsError(ErrorCode.NO_MATCHING_NODES, `no node matches the selector ${describeSelector(selector)}`);
    return targets;
  }

  /**
   * A page of tasks, newest first, filtered; a caller limited to groups sees the tasks whose every
   * node is in its scope. Keyset on (createdAt, id); run counts come from one GROUP BY per chunk
   * (or the engine's memory for a running task), never from loading the runs.
   */
  async list(by: Principal, query: TaskListQuery = {}): Promise<Page<TaskSummary>> {
    const limit = query.limit ?? 50;
    const em = contextEm(this.orm);
    const visible = await this.scopeCheck(by);
    const where: Record<string, unknown> = {};
    if (query.status) where.status = query.status;
    if (query.since) where.createdAt = { $gte: new Date(query.since) };
    if (query.node) {
      const onNode = await em.find(TaskRun, { nodeName: query.node }, { fields: ['task'], disableIdentityMap: true });
      where.id = { $in: [...new Set(onNode.map((r) => r.task.id))] };
    }
    let after = decodeCursor<[string, string]>(query.cursor, ['string', 'string']);
    const out: TaskSummary[] = [];
    // Scoped callers may skip many tasks: read chunks until the page (and one more) is full or history ends.
    for (;;) {
      const keyset = after ? { $or: [{ createdAt: { $lt: cursorDate(after[0]) } }, { createdAt: cursorDate(after[0]), id: { $lt: after[1] } }] } : {};
      const tasks = await em.find(Task, { ...where, ...keyset }, { orderBy: { createdAt: 'desc', id: 'desc' }, limit: limit + 1, disableIdentityMap: true });
      if (tasks.length === 0) break;
      const ids = tasks.map((t) => t.id);
      const running = new Set(tasks.filter((t) => t.status === 'running').map((t) => t.id));
      const counts = await this.finishedCounts.of(em, ids, (taskId) => !running.has(taskId));
      const nodesOf = isScoped(by) ? await this.runNodes(em, ids) : undefined;
      for (const t of tasks) {
        if (nodesOf && !visible(nodesOf.get(t.id) ?? [])) continue;
        const live = this.engine.active.get(t.id);
        out.push(taskSummaryView(live ? Object.assign(t, { stopReason: live.stopReason }) : t, live ? live.counts() : countStatuses(counts.get(t.id) ?? {})));
        if (out.length > limit) break;
      }
      if (out.length > limit || tasks.length <= limit || !isScoped(by)) break;
      const last = tasks[tasks.length - 1];
      after = [last.createdAt.toISOString(), last.id];
    }
    return pageOf(out, limit, (t) => [t.createdAt, t.id]);
  }

  /** Task id → its runs' nodes, for the scope check. */
  private async runNodes(em: EntityManager, taskIds: string[]): Promise<Map<string, Pick<TaskRun, 'node'>[]>> {
    const runs = await em.find(TaskRun, { task: { $in: taskIds } }, { fields: ['task', 'node'], disableIdentityMap: true });
    const byTask = new Map<string, Pick<TaskRun, 'node'>[]>();
    for (const r of runs) byTask.set(r.task.id, [...(byTask.get(r.task.id) ?? []), r]);
    return byTask;
  }

  /** The stored task, or 404 when there is none or the caller may not see it (its nodes are out of scope). */
  private async requireVisible(em: EntityManager, by: Principal, id: string): Promise<Task> {
    const task = await em.findOne(Task, { id }, { disableIdentityMap: true });
    if (!task) throw new OpsError(ErrorCode.NOT_FOUND, `task "${id}" not found`);
    if (isScoped(by)) {
      const visible = await this.scopeCheck(by);
      if (!visible((await this.runNodes(em, [id])).get(id) ?? [])) throw new OpsError(ErrorCode.NOT_FOUND, `task "${id}" not found`);
    }
    return task;
  }

  /** The task without its runs, with how many are in each status: cheap at 10,000 runs. */
  async summary(by: Principal, id: string): Promise<TaskStatusSummary> {
    const em = contextEm(this.orm);
    const task = await this.requireVisible(em, by, id);
    const live = this.engine.active.get(id);
    const byStatus = live ? runsByStatus([...live.runs.values()].map((r) => r.status))
      : (await this.finishedCounts.of(em, [id], () => task.status !== 'running')).get(id) ?? {};
    const view = taskSummaryView(live ? Object.assign(task, { stopReason: live.stopReason }) : task, countStatuses(byStatus));
    return { ...view, byStatus };
  }

  /** A page of a task's runs by node name, optionally only those in `status` (a comma list). */
  async runs(by: Principal, id: string, query: TaskRunsQuery): Promise<Page<TaskRunDto>> {
    const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
    const statuses = parseRunStatuses(query.status);
    const after = decodeCursor<[string]>(query.cursor, ['string'])?.[0];
    const em = contextEm(this.orm);
    await this.requireVisible(em, by, id);
    const live = this.engine.active.get(id);
    let views: RunView[];
    if (live) {
      // A running task's runs change in memory first (the database follows a batch later).
      views = [...live.runs.values()]
        .filter((r) => (after === undefined || r.node > after) && (!statuses || statuses.includes(r.status)))
        .sort((a, b) => byCodeUnits(a.node, b.node)).slice(0, limit + 1).map(stateView);
    } else {
      const where: Record<string, unknown> = { task: id };
      if (after !== undefined) where.nodeName = { $gt: after };
      if (statuses) where.status = { $in: statuses };
      views = (await em.find(TaskRun, where, { orderBy: { nodeName: 'asc' }, limit: limit + 1, disableIdentityMap: true })).map(runEntityView);
    }
    return pageOf(views.map(toRunDto), limit, (r) => [r.node]);
  }

  async get(by: Principal, id: string): Promise<TaskDetail> {
    const em = contextEm(this.orm);
    const task = await em.findOne(Task, { id });
    if (!task) throw new OpsError(ErrorCode.NOT_FOUND, `task "${id}" not found`);
    const runs = await em.find(TaskRun, { task: id }, { orderBy: { nodeName: 'asc' } });
    if (!(await this.scopeCheck(by))(runs)) throw new OpsError(ErrorCode.NOT_FOUND, `task "${id}" not found`);
    const live = this.engine.active.get(id);
    const views: RunView[] = runs.map((r) => {
      const state = live?.runs.get(r.id);
      // Output of running tasks is written every few seconds; show what has arrived.
      return state ? stateView(state) : runEntityView(r);
    });
    return toTaskDetail(live ? Object.assign(task, { stopReason: live.stopReason }) : task, views);
  }

  /** The whole stored output of a task (or of one node), in pages of the event log. */
  async output(by: Principal, id: string, query: TaskOutputQuery): Promise<TaskOutputPage> {
    const task = await this.get(by, id);
    const limit = query.limit ?? 1000;
    const runs = query.node ? task.runs.filter((r) => r.node === query.node) : task.runs;
    if (query.node && runs.length === 0) throw new OpsError(ErrorCode.NOT_FOUND, `task ${id} has no run on node "${query.node}"`);
    const events = await readEvents(this.orm.em.fork(), id, { after: query.after ?? 0, limit, type: 'output', ...(query.node ? { runIds: runs.map((r) => r.id) } : {}) });
    const chunks = events.flatMap((e) => (e.type === 'output' ? [{ seq: e.seq!, node: e.node, stream: e.stream, data: e.data }] : []));
    return { chunks, next: events.length === limit ? events[events.length - 1].seq! : null };
  }

  /** Cancels the runs that have not finished; already-finished tasks are refused with 2003. */
  async cancel(by: Principal, id: string): Promise<TaskDetail> {
    // Also the scope check: a task out of scope is "not found".
    const detail = await this.get(by, id);
    const live = this.engine.active.get(id);
    if (!live) throw new OpsError(ErrorCode.TASK_NOT_RUNNABLE, `task ${id} already finished (${detail.status})`);
    // The cancel is written by the task's own queue, on another connection.
    await commitNow();
    clearTimeout(live.pauseTimer);
    live.pauseTimer = undefined;
    await new Promise<void>((resolve) => this.engine.enqueue(live, { kind: 'cancel', applied: resolve }));
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

  /** Throws (not found, out of scope) before a stream starts. */
  async checkFollow(by: Principal, id: string): Promise<void> {
    if (isScoped(by)) await this.get(by, id);
    else if (!(await this.orm.em.fork().count(Task, { id }))) throw new OpsError(ErrorCode.NOT_FOUND, `task "${id}" not found`);
  }

  /** The task's events after `after`, then live ones until `done` (see follow.ts). */
  follow(id: string, after: number, onEvent: (event: TaskStreamEvent, text?: string) => void, pause: () => Promise<void> = async () => {}): Promise<() => void> {
    return followTask(this.orm, this.engine, id, after, onEvent, pause);
  }

  // ---- host link side

  /**
   * A host connected. With the runs it still knows (a hostd that reports them), its other
   * unfinished runs end `lost`; then it gets its queued runs and those of started waves.
   */
  hostConnected(session: HostSession, knownRuns: readonly string[] | null): number {
    if (knownRuns) reconcileKnownRuns(this.engine, session.nodeId, knownRuns, this.log);
    return this.dispatcher.onConnected(session);
  }

  /** Queues a host's event on its task; returns a promise only when it must wait (adoption, a download's end). */
  onTaskEvent(nodeId: string, event: TaskEvent__Output): void | Promise<void> {
    const task = this.engine.runIndex.get(event.runId);
    // Replicas: the run's task may be another's, or left by a replica that died.
    if (!task && this.adoption) return this.adoptThenApply(nodeId, event);
    return this.applyTaskEvent(task, nodeId, event);
  }

  private async adoptThenApply(nodeId: string, event: TaskEvent__Output): Promise<void> {
    const outcome = await this.adoption!.unknownRun(nodeId, event);
    if (outcome === 'forwarded') return;
    return this.applyTaskEvent(this.engine.runIndex.get(event.runId), nodeId, event);
  }

  private applyTaskEvent(task: ActiveTask | undefined, nodeId: string, event: TaskEvent__Output): void | Promise<void> {
    const owner = task?.runs.get(event.runId)?.nodeId;
    if (!task || owner !== nodeId) {
      // The task ended (or never was): acknowledge everything of the run, so the host stops re-sending it.
      this.engine.acks.add(nodeId, new Map([[event.runId, ALL_EVENTS]]));
      // A finished run's late events are normal after a reconnect; another node's running run is not.
      if (owner) this.log.warn({ runId: event.runId, nodeId, owner }, 'a node reported on a run that is not its own; ignored');
      else this.log.debug({ runId: event.runId, nodeId }, 'event for an unknown or finished run ignored');
      return;
    }
    // The host stream waits while a download's piece is written, and its exit comes after them all.
    if (event.fileData) return this.transfers.onData(event.runId, event.fileData.offset, event.fileData.data);
    if (event.exited && task.info.kind === 'file' && task.info.params?.op === 'download') {
      return this.finishDownload(event).then(() => this.queueHostEvent(task, nodeId, event));
    }
    this.queueHostEvent(task, nodeId, event);
  }

  private queueHostEvent(task: ActiveTask, nodeId: string, event: TaskEvent__Output): void {
    if (event.exited) this.transfers.runEnded(event.runId);
    this.engine.enqueue(task, { kind: 'host-event', nodeId, event });
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

  /** Loads running tasks after a restart and starts the output flusher and the timeout sweep. */
  async start(): Promise<void> {
    const resumed = await this.resume(this.adoption?.claim);
    this.resumeTimer = resumed.timer;
    this.adoption?.start();
    const every = this.opts.outputFlushMs ?? 2000;
    this.flusher = setInterval(() => this.engine.flushAll(), every);
    this.flusher.unref();
    this.sweep.start();
    if (this.opts.keepDays > 0) {
      this.sweepFiles();
      this.sweeper = setInterval(() => this.sweepFiles(), 3600_000);
      this.sweeper.unref();
    }
  }

  private resume(claim?: (task: Task) => Promise<boolean>, ids?: string[]) {
    return resumeRunningTasks(this.orm, this.engine, this.dispatcher, this.secrets, this.log, this.opts.reconnectGraceMs ?? 10_000, claim, ids);
  }

  /** Stops timers and writes buffered output; running tasks resume on the next start. */
  async stop(): Promise<void> {
    await this.adoption?.stop();
    if (this.flusher) clearInterval(this.flusher);
    this.flusher = undefined;
    clearInterval(this.sweeper);
    clearTimeout(this.resumeTimer);
    this.sweep.stop();
    this.engine.flushAll();
    for (const task of [...this.engine.active.values()]) {
      clearTimeout(task.pauseTimer);
      await this.engine.whenIdle(task);
    }
    this.engine.acks.flush();
  }

  /** Resolves when the task has no queued work (used by tests). */
  whenIdle(task: string): Promise<void> {
    return this.engine.whenIdle(task);
  }

  /** Deletes stored files unused for files.keepDays, keeping the content running uploads still send. */
  sweepFiles(now = Date.now()): number {
    const sending = new Set<string>();
    for (const task of this.engine.active.values()) {
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
}

/** `failed,timeout` → the statuses; 1001 naming an unknown one. */
function parseRunStatuses(list: string | undefined): RunStatus[] | undefined {
  if (list === undefined) return undefined;
  const wanted = list.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const unknown = wanted.filter((s) => !RUN_STATUSES.includes(s as RunStatus));
  if (unknown.length > 0 || wanted.length === 0) {
    throw new OpsError(ErrorCode.INVALID_ARGUMENT, `status: ${unknown.length ? `unknown run status ${unknown.map((s) => `"${s}"`).join(', ')}` : 'empty'}; want a comma list of ${RUN_STATUSES.join(', ')}`);
  }
  return wanted as RunStatus[];
}

/** A stored kind's params as a request gives them: without what the manager added (an upload's size, a download's limit). */
function stripDerived(params: Record<string, unknown>): Record<string, unknown> {
  const { size: _size, maxBytes: _maxBytes, ...given } = params;
  return given;
}

/** A run's failure seen by the manager itself, as if its host had reported it. */
function hostFailure(runId: string, error: string): TaskEvent__Output {
  return {
    runId, kind: 'exited', seq: 0,
    exited: { atMs: Date.now(), exitCode: -1, signal: '', durationMs: 0, status: 'error', error, errorCode: 0, resultJson: '' },
  } as TaskEvent__Output;
}
