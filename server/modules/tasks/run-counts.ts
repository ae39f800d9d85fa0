// How many runs of each task are in each status, counted by the database (one GROUP BY) rather
// than by loading the runs: a task on 10,000 nodes is listed and summarised without reading them.
import type { EntityManager } from '@mikro-orm/core';
import type { RunStatus } from '../../../proto/rest/tasks.js';

export type StatusCounts = Partial<Record<RunStatus, number>>;

/** Task id → runs per status, for the stored runs of `taskIds` (a task without runs is absent). */
export async function storedRunsByStatus(em: EntityManager, taskIds: readonly string[]): Promise<Map<string, StatusCounts>> {
  const out = new Map<string, StatusCounts>();
  if (taskIds.length === 0) return out;
  const q = (id: string) => em.getPlatform().quoteIdentifier(id);
  const sql = `select ${q('task_id')} as task_id, ${q('status')} as status, count(*) as n from ${q('task_runs')} ` +
    `where ${q('task_id')} in (${taskIds.map(() => '?').join(', ')}) group by ${q('task_id')}, ${q('status')}`;
  const rows = await em.getConnection().execute(sql, [...taskIds], 'all', em.getTransactionContext()) as { task_id: string; status: RunStatus; n: number | string }[];
  for (const row of rows) {
    const counts = out.get(row.task_id) ?? {};
    counts[row.status] = Number(row.n);
    out.set(row.task_id, counts);
  }
  return out;
}

const KEPT_TASKS = 2000;

/**
 * Runs per status of finished tasks, which never change: kept for the last KEPT_TASKS tasks read
 * or finished, so a summary (or a page of tasks) does not count a 10,000-run task's rows again —
 * that GROUP BY was the slowest REST call while a fleet's metrics flowed.
 */
export class FinishedRunCounts {
  private readonly kept = new Map<string, StatusCounts>();

  remember(taskId: string, counts: StatusCounts): void {
    this.kept.delete(taskId);
    this.kept.set(taskId, counts);
    if (this.kept.size > KEPT_TASKS) this.kept.delete(this.kept.keys().next().value!);
  }

  /** Like storedRunsByStatus; tasks `finished` says are done are answered from, or added to, what is kept. */
  async of(em: EntityManager, taskIds: readonly string[], finished: (taskId: string) => boolean): Promise<Map<string, StatusCounts>> {
    const out = new Map<string, StatusCounts>();
    const missing = taskIds.filter((id) => {
      const counts = this.kept.get(id);
      if (counts) out.set(id, counts);
      return !counts;
    });
    for (const [id, counts] of await storedRunsByStatus(em, missing)) {
      out.set(id, counts);
      if (finished(id)) this.remember(id, counts);
    }
    return out;
  }
}
