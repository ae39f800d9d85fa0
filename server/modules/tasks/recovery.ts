// Picking up after a restart or a reconnect. The manager restarting reloads its running tasks and
// goes on with their waves; a host reconnecting says which runs it still knows, and every other
// unfinished run of that node ends `lost` at once instead of waiting out its timeout.
import type { Logger } from '../../../lib/log.js';
import type { Orm } from '../../db/orm.js';
import type { SecretBox } from '../../secret-box.js';
import type { ActiveTask, TaskInfo } from './active-task.js';
import type { Dispatcher } from './dispatch.js';
import type { TaskEngine } from './engine.js';
import { nextEventSeq } from './event-log.js';
import { TaskRun } from './task-run.entity.js';
import { Task } from './task.entity.js';
import { isTerminal } from './views.js';

export const LOST_REASON = 'the host no longer knows this run (hostd restarted or lost it before its exit was reported); it may have done part of its work';

/** What the engine needs of a stored task; secret values are opened here and only kept in memory. */
export function taskInfo(task: Task, secrets: SecretBox): TaskInfo {
  const secretEnv = Object.fromEntries(Object.entries(task.secretEnv ?? {}).map(([k, sealed]) => [k, secrets.open(sealed)]));
  return {
    id: task.id, kind: task.kind ?? 'script', params: task.params ?? null, script: task.script, interpreter: task.interpreter,
    timeoutSeconds: task.timeoutSeconds, env: { ...(task.env ?? {}), ...secretEnv }, createdAt: task.createdAt,
    rollout: task.rollout ?? null, queueExpiresAt: task.queueExpiresAt ?? null,
  };
}

/**
 * Reloads the tasks still running when the manager stopped; their waves go on. Hosts need a moment
 * to reconnect, so runs of a started wave that were never sent are judged (sent, queued or
 * offline) only after `reconnectGraceMs`; a host that connects before gets them at once.
 */
export async function resumeRunningTasks(
  orm: Orm, engine: TaskEngine, dispatcher: Dispatcher, secrets: SecretBox, log: Logger, reconnectGraceMs: number,
  /** Replicas: whether this process may take the task (it claims it in the database); a single manager takes all. */
  claim: (task: Task) => Promise<boolean> = async () => true,
  ids?: string[],
): Promise<{ tasks: number; timer?: NodeJS.Timeout }> {
  const em = orm.em.fork();
  const running = await em.find(Task, { status: 'running', ...(ids ? { id: { $in: ids } } : {}) });
  const tasks: Task[] = [];
  for (const task of running) if (!engine.active.has(task.id) && (await claim(task))) tasks.push(task);
  const resumed: ActiveTask[] = [];
  for (const task of tasks) {
    const runs = await em.find(TaskRun, { task: task.id }, { orderBy: { nodeName: 'asc' } });
    const live = engine.activate(taskInfo(task, secrets), runs, await nextEventSeq(em, task.id));
    live.stopReason = task.stopReason ?? null;
    resumed.push(live);
    // A task whose runs all ended before the restart only needs closing.
    if ([...live.runs.values()].every((r) => isTerminal(r.status))) engine.enqueue(live, { kind: 'flush' });
  }
  if (tasks.length) log.info({ tasks: tasks.length }, 'resumed running tasks');
  if (resumed.length === 0) return { tasks: 0 };
  const timer = setTimeout(() => {
    for (const live of resumed) {
      if (live.status !== 'running' || !engine.active.has(live.info.id)) continue;
      if (live.wave >= 0) dispatcher.startWave(live, live.wave);
      else dispatcher.advance(live);
    }
  }, reconnectGraceMs);
  timer.unref();
  return { tasks: tasks.length, timer };
}

/** The host's hello listed the runs it knows: its other unfinished runs are lost. */
export function reconcileKnownRuns(engine: TaskEngine, nodeId: string, knownRuns: readonly string[], log: Logger): number {
  const known = new Set(knownRuns);
  let lost = 0;
  for (const task of engine.active.values()) {
    const runId = task.runByNode.get(nodeId);
    const run = runId ? task.runs.get(runId) : undefined;
    // Dispatched or running, and sent on an earlier stream (this one has sent nothing yet).
    if (!run || known.has(run.id) || (run.status !== 'dispatched' && run.status !== 'running')) continue;
    engine.enqueue(task, { kind: 'lost', runIds: [run.id], reason: LOST_REASON });
    lost++;
  }
  if (lost > 0) log.warn({ nodeId, runs: lost }, 'the host no longer knows some of its runs; they end lost');
  return lost;
}
