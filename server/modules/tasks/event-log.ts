// A task's event log in the database: each batch's run changes, its numbered stream events and the
// task's end go in one transaction, so what followers and hosts are told is always stored first.
// The log is also the whole output (`tasks logs`) and what a follower resumes from (Last-Event-ID).
import type { EntityManager } from '@mikro-orm/core';
import type { TaskStreamEvent } from '../../../proto/rest/tasks.js';
import type { Orm } from '../../db/orm.js';
import type { BatchPlan } from './batch-plan.js';
import { executeAll } from '../../db/batch-sql.js';
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

function fromRow(row: Pick<TaskEventRow, 'seq' | 'type' | 'body'>): TaskStreamEvent {
  return { ...row.body, type: row.type, seq: row.seq } as TaskStreamEvent;
}

/** Events after `after`, oldest first; `runIds` narrows to those runs, `type` to one kind of event. */
export async function readEvents(
  em: EntityManager, taskId: string, opts: { after: number; limit: number; runIds?: string[]; type?: string },
): Promise<TaskStreamEvent[]> {
  const rows = await em.find(TaskEventRow, {
    task: taskId, seq: { $gt: opts.after },
    ...(opts.runIds ? { runId: { $in: opts.runIds } } : {}),
    ...(opts.type ? { type: opts.type } : {}),
  }, { orderBy: { seq: 'asc' }, limit: opts.limit, disableIdentityMap: true });
  return rows.map(fromRow);
}

/** The seq the task's next event gets (1 for a task without events). */
export async function nextEventSeq(em: EntityManager, taskId: string): Promise<number> {
  const [row] = await em.find(TaskEventRow, { task: taskId }, { orderBy: { seq: 'desc' }, limit: 1, disableIdentityMap: true });
  return (row?.seq ?? 0) + 1;
}
