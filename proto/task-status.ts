// How a task's runs add up: which run statuses are final, the counts every view and the `done`
// event carry, and the task's own status once every run has ended. The manager and opsctl's direct
// mode (which plays the manager's part for a few hosts) both use these, so they can never disagree.
// Types only from rest/tasks.ts: opsctl must not load TypeBox at run time.
import type { RunStatus, TaskStatus, TaskSummary } from './rest/tasks.js';

export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'timeout', 'cancelled', 'error', 'skipped', 'offline', 'expired', 'lost'];

export const isTerminal = (status: RunStatus): boolean => TERMINAL_RUN_STATUSES.includes(status);

export function countRuns(statuses: RunStatus[]): TaskSummary['counts'] {
  const counts = { total: statuses.length, succeeded: 0, failed: 0, pending: 0, skipped: 0, queued: 0 };
  for (const s of statuses) {
    if (s === 'succeeded') counts.succeeded++;
    else if (s === 'skipped') counts.skipped++;
    else if (isTerminal(s)) counts.failed++;
    else {
      counts.pending++;
      if (s === 'queued') counts.queued++;
    }
  }
  return counts;
}

export function finalTaskStatus(cancelRequested: boolean, statuses: RunStatus[]): TaskStatus {
  if (cancelRequested) return 'cancelled';
  return statuses.every((s) => s === 'succeeded') ? 'succeeded' : 'failed';
}
