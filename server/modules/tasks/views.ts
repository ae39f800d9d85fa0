import { SECRET_MASK, type RunStatus, type TaskDetail, type TaskRun as TaskRunDto, type TaskSummary } from '../../../proto/rest/tasks.js';
import { countRuns } from '../../../proto/task-status.js';
import type { TaskRun } from './task-run.entity.js';
import type { Task } from './task.entity.js';

export { countRuns, isTerminal } from '../../../proto/task-status.js';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export interface RunView {
  id: string; node: string; status: RunStatus; exitCode: number | null; error: string | null;
  startedAt: Date | null; finishedAt: Date | null; durationMs: number | null; output: string; outputTruncated: boolean;
  errorCode: number | null; result: Record<string, unknown> | null; wave: number;
}

export function toRunDto(run: RunView): TaskRunDto {
  return {
    id: run.id, node: run.node, status: run.status, exitCode: run.exitCode, error: run.error,
    startedAt: iso(run.startedAt), finishedAt: iso(run.finishedAt), durationMs: run.durationMs,
    output: run.output, outputTruncated: run.outputTruncated, errorCode: run.errorCode, result: run.result, wave: run.wave,
  };
}

export function runEntityView(run: TaskRun): RunView {
  return {
    id: run.id, node: run.nodeName, status: run.status, exitCode: run.exitCode, error: run.error,
    startedAt: run.startedAt, finishedAt: run.finishedAt, durationMs: run.durationMs,
    output: run.output, outputTruncated: run.outputTruncated, errorCode: run.errorCode ?? null, result: run.result ?? null, wave: run.wave ?? 0,
  };
}

export function toTaskSummary(task: Task, statuses: RunStatus[]): TaskSummary {
  return taskSummaryView(task, countRuns(statuses));
}

/** The summary from counts already made (a GROUP BY, or the engine's memory). */
export function taskSummaryView(task: Task, counts: TaskSummary['counts']): TaskSummary {
  return {
    id: task.id, status: task.status, kind: task.kind ?? 'script', script: task.script, interpreter: task.interpreter, params: task.params ?? null,
    timeoutSeconds: task.timeoutSeconds, env: maskedEnv(task), createdBy: task.createdBy, createdAt: task.createdAt.toISOString(),
    finishedAt: iso(task.finishedAt), counts,
    rollout: task.rollout ?? null, queueExpiresAt: iso(task.queueExpiresAt ?? null), stopReason: task.stopReason ?? null,
    template: task.templateName ? { name: task.templateName, version: task.templateVersion ?? 1 } : null,
    schedule: task.scheduleName ?? null,
  };
}

export function toTaskDetail(task: Task, runs: RunView[]): TaskDetail {
  return { ...toTaskSummary(task, runs.map((r) => r.status)), runs: runs.map(toRunDto) };
}

/** The task's environment as every view shows it: secret values masked. */
export function maskedEnv(task: Pick<Task, 'env' | 'secretEnv'>): Record<string, string> {
  const env = { ...(task.env ?? {}) };
  for (const key of Object.keys(task.secretEnv ?? {})) env[key] = SECRET_MASK;
  return env;
}
