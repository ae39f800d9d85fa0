// How a task's runs add up: which run statuses are final, the counts every view and the `done`
// event carry, and the task's own status once every run has ended. The manager and opsctl's direct
// mode (which plays the manager's part for a few hosts) both use these, so they can never disagree.
// Types only from rest/tasks.ts: opsctl must not load TypeBox at run time.
import type { RunStatus, TaskStatus, TaskSummary } from './rest/tasks.js';

export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'timeout', 'cancelled', 'error', 'skipped', 'offline', 'expired', 'lost'];

/** Every run status, the unfinished ones first. */
export const RUN_STATUSES: readonly RunStatus[] = ['pending', 'queued', 'dispatched', 'running', ...TERMINAL_RUN_STATUSES];

/** Statuses of runs that did not succeed and were not skipped: what `tasks show` lists first. */
export const FAILED_RUN_STATUSES: readonly RunStatus[] = TERMINAL_RUN_STATUSES.filter((s) => s !== 'succeeded' && s !== 'skipped');

export const isTerminal = (status: RunStatus): boolean => TERMINAL_RUN_STATUSES.includes(status);

export function countRuns(statuses: RunStatus[]): TaskSummary['counts'] {
  return countStatuses(runsByStatus(statuses));
}

/** How many runs are in each status (only the statuses some run is in). */
export function runsByStatus(statuses: Iterable<RunStatus>): Partial<Record<RunStatus, number>> {
  const by: Partial<Record<RunStatus, number>> = {};
  for (const s of statuses) by[s] = (by[s] ?? 0) + 1;
  return by;
}

/** The counts every view carries, from the number of runs in each status. */
export function countStatuses(byStatus: Partial<Record<RunStatus, number>>): TaskSummary['counts'] {
  const counts = { total: 0, succeeded: 0, failed: 0, pending: 0, skipped: 0, queued: 0 };
  for (const [s, n] of Object.entries(byStatus) as [RunStatus, number][]) {
    counts.total += n;
    if (s === 'succeeded') counts.succeeded += n;
    else if (s === 'skipped') counts.skipped += n;
    else if (isTerminal(s)) counts.failed += n;
    else {
      counts.pending += n;
      if (s === 'queued') counts.queued += n;
    }
  }
  return counts;
}

export function finalTaskStatus(cancelRequested: boolean, statuses: RunStatus[]): TaskStatus {
  if (cancelRequested) return 'cancelled';
  return statuses.every((s) => s === 'succeeded') ? 'succeeded' : 'failed';
}
