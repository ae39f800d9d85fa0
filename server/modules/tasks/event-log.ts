// A task's event log in the database: each batch's run changes, its numbered stream events and the
// task's end go in one transaction, so what followers and hosts are told is always stored first.
// The log is also the whole output (`tasks logs`) and what a follower resumes from (Last-Event-ID).
import type { EntityManager } from '@mikro-orm/core';
import type { TaskStreamEvent } from '../../../proto/rest/tasks.js';
import type { Orm } from '../../db/orm.js';
import type { BatchPlan } from './batch-plan.js';
import { TaskEventRow } from './task-event.entity.js';
import { TaskRun } from './task-run.entity.js';
import { Task } from './task.entity.js';

export async function writePlan(orm: Orm, taskId: string, plan: BatchPlan): Promise<void> {
  await orm.em.fork().transactional(async (tx) => {
    // Changes through references: the unit of work writes all runs of the batch in one UPDATE
    // (CASE … WHEN id) per set of changed columns instead of one statement per run.
    for (const [id, c] of plan.changes) Object.assign(tx.getReference(TaskRun, id), c);
    for (const rows of statementsOf(plan.events.map((e) => toRow(taskId, e)))) await tx.insertMany(TaskEventRow, rows);
    if (plan.finished || plan.stopReason) {
      await tx.nativeUpdate(Task, { id: taskId }, {
        stopReason: plan.stopReason, ...(plan.finished ? { status: plan.finalStatus, finishedAt: plan.finishedAt } : {}),
      });
    }
  });
}

/** Rows per INSERT, and bytes: a burst of output must stay under MySQL's max_allowed_packet (16 MiB by default). */
const ROWS_PER_INSERT = 1000;
const BYTES_PER_INSERT = 1024 * 1024;

function* statementsOf(rows: TaskEventRow[]): Generator<TaskEventRow[]> {
  let batch: TaskEventRow[] = [];
  let bytes = 0;
  for (const row of rows) {
    const size = typeof row.body.data === 'string' ? row.body.data.length * 3 : 256;
    if (batch.length > 0 && (batch.length >= ROWS_PER_INSERT || bytes + size > BYTES_PER_INSERT)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(row);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}

function toRow(taskId: string, event: TaskStreamEvent) {
  const { type, seq, ...body } = event;
  return { task: taskId, seq: seq!, runId: 'runId' in event ? event.runId : null, type, body } as unknown as TaskEventRow;
}

export function fromRow(row: Pick<TaskEventRow, 'seq' | 'type' | 'body'>): TaskStreamEvent {
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
