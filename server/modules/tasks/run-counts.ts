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
