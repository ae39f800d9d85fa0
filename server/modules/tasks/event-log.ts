// A task's event log in the database: each batch's run changes, its numbered stream events and the
// task's end go in one transaction, so what followers and hosts are told is always stored first.
// The log is also the whole output (`tasks logs`) and what a follower resumes from (Last-Event-ID).
import type { EntityManager } from '@mikro-orm/core';
import type { TaskStreamEvent } from '../../../proto/rest/tasks.js';
import type { Orm } from '../../db/orm.js';
import type { BatchPlan } from './batch-plan.js';
import { executeAll, tableOf } from '../../db/batch-sql.js';
import { jsonColumn, queryRows } from '../../db/raw-rows.js';
import { eventInserts, runUpdate } from './batch-sql.js';
import { TaskEventRow } from './task-event.entity.js';
import { Task } from './task.entity.js';

export async function writePlan(orm: Orm, taskId: string, plan: BatchPlan): Promise<void> {
  await orm.em.fork().transactional(async (tx) => {
    await executeAll(tx, runUpdate(tx, plan.changes));
    await executeAll(tx, eventInserts(tx, taskId, plan.events));
    if (plan.finished || plan.stopReason) {
      await tx.nativeUpdate(Task, { id: taskId }, {
        stopReason: plan.stopReason, ...(plan.finished ? { status: plan.finalStatus, finishedAt: plan.finishedAt } : {}),
      });
    }
  });
}

/**
 * Events after `after`, oldest first; `runIds` narrows to those runs, `type` to one kind of event.
 * Plain rows: a follower joining a 10,000-host task reads 10,000 events at once.
 */
export async function readEvents(
  em: EntityManager, taskId: string, opts: { after: number; limit: number; runIds?: string[]; type?: string },
): Promise<TaskStreamEvent[]> {
  const q = (name: string) => em.getPlatform().quoteIdentifier(name);
  const where = [`${q('task_id')} = ?`, `${q('seq')} > ?`];
  const params: unknown[] = [taskId, opts.after];
  if (opts.runIds) { where.push(`${q('run_id')} in (${opts.runIds.map(() => '?').join(', ') || 'null'})`); params.push(...opts.runIds); }
  if (opts.type) { where.push(`${q('type')} = ?`); params.push(opts.type); }
  const rows = await queryRows<{ seq: number; type: string; body: unknown }>(em,
    `select ${q('seq')}, ${q('type')}, ${q('body')} from ${tableOf(em, TaskEventRow.name)} where ${where.join(' and ')} order by ${q('seq')} limit ${Number(opts.limit)}`, params);
  return rows.map((row) => ({ ...jsonColumn<Record<string, unknown>>(row.body), type: row.type, seq: Number(row.seq) }) as TaskStreamEvent);
}

/** The seq the task's next event gets (1 for a task without events). */
export async function nextEventSeq(em: EntityManager, taskId: string): Promise<number> {
  const q = (name: string) => em.getPlatform().quoteIdentifier(name);
  const [row] = await queryRows<{ seq: number | null }>(em,
    `select max(${q('seq')}) as ${q('seq')} from ${tableOf(em, TaskEventRow.name)} where ${q('task_id')} = ?`, [taskId]);
  return Number(row?.seq ?? 0) + 1;
}
