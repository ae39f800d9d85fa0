// A task's event log in the database: each batch's run changes, its numbered stream events and the
// task's end go in one transaction, so what followers and hosts are told is always stored first.
// The log is also the whole output (`tasks logs`) and what a follower resumes from (Last-Event-ID).
// A batch's events are stored as blocks (task-event-block.entity.ts): one row per batch, not per event.
import type { EntityManager } from '@mikro-orm/core';
import type { TaskStreamEvent } from '../../../proto/rest/tasks.js';
import type { Orm } from '../../db/orm.js';
import type { BatchPlan } from './batch-plan.js';
import { executeAll, tableOf } from '../../db/batch-sql.js';
import { queryRows } from '../../db/raw-rows.js';
import { blockInserts, runUpdate } from './batch-sql.js';
import { TaskEventBlock } from './task-event-block.entity.js';
import { Task } from './task.entity.js';

/** A block's JSON text is cut after this many characters (one bigger event still gets a block of its own). */
export const BLOCK_CHARS = 512 * 1024;

/** Blocks read per query: each at most BLOCK_CHARS (but for one big event), so a read stays bounded. */
const BLOCKS_PER_READ = 8;

export interface EventBlock { firstSeq: number; lastSeq: number; text: string }

/**
 * The plan's events as blocks of JSON text, and each event's own text (the SSE stream sends it
 * as is: one JSON text per event serves the log and every follower).
 */
export function toBlocks(events: readonly TaskStreamEvent[]): { blocks: EventBlock[]; texts: string[] } {
  const texts = events.map((e) => JSON.stringify(e));
  const blocks: EventBlock[] = [];
  let start = 0;
  let chars = 0;
  for (let i = 0; i < texts.length; i++) {
    if (i > start && chars + texts[i].length > BLOCK_CHARS) {
      blocks.push(block(events, texts, start, i));
      start = i;
      chars = 0;
    }
    chars += texts[i].length + 1;
  }
  if (texts.length > start) blocks.push(block(events, texts, start, texts.length));
  return { blocks, texts };
}

function block(events: readonly TaskStreamEvent[], texts: string[], from: number, to: number): EventBlock {
  return { firstSeq: events[from].seq!, lastSeq: events[to - 1].seq!, text: `[${texts.slice(from, to).join(',')}]` };
}

export async function writePlan(orm: Orm, taskId: string, plan: BatchPlan, blocks: readonly EventBlock[]): Promise<void> {
  await orm.em.fork().transactional(async (tx) => {
    await executeAll(tx, runUpdate(tx, plan.changes));
    await executeAll(tx, blockInserts(tx, taskId, blocks));
    if (plan.finished || plan.stopReason) {
      await tx.nativeUpdate(Task, { id: taskId }, {
        stopReason: plan.stopReason, ...(plan.finished ? { status: plan.finalStatus, finishedAt: plan.finishedAt } : {}),
      });
    }
  });
}

/**
 * The events after `after` in the next few blocks (at most BLOCKS_PER_READ, a few MiB), oldest
 * first; `more` when blocks may follow. A follower's replay reads this way: a page that ended
 * inside a block would parse that block again for the next page.
 */
export async function readBlocks(em: EntityManager, taskId: string, after: number): Promise<{ events: TaskStreamEvent[]; more: boolean }> {
  const q = (name: string) => em.getPlatform().quoteIdentifier(name);
  const rows = await queryRows<{ events: string }>(em,
    `select ${q('events')} from ${tableOf(em, TaskEventBlock.name)} where ${q('task_id')} = ? and ${q('last_seq')} > ? order by ${q('last_seq')} limit ${BLOCKS_PER_READ}`,
    [taskId, after]);
  const events: TaskStreamEvent[] = [];
  for (const row of rows) for (const e of JSON.parse(row.events) as TaskStreamEvent[]) if ((e.seq ?? 0) > after) events.push(e);
  return { events, more: rows.length === BLOCKS_PER_READ };
}

/**
 * Up to `limit` events after `after`, oldest first; `runIds` narrows to those runs, `type` to
 * one kind of event (`tasks logs`, paged by `after`).
 */
export async function readEvents(
  em: EntityManager, taskId: string, opts: { after: number; limit: number; runIds?: string[]; type?: string },
): Promise<TaskStreamEvent[]> {
  const runs = opts.runIds ? new Set(opts.runIds) : undefined;
  const found: TaskStreamEvent[] = [];
  for (let cursor = opts.after; ;) {
    const { events, more } = await readBlocks(em, taskId, cursor);
    for (const e of events) {
      if ((opts.type && e.type !== opts.type) || (runs && !('runId' in e && runs.has(e.runId)))) continue;
      found.push(e);
      if (found.length === opts.limit) return found;
    }
    if (!more || events.length === 0) return found;
    cursor = events[events.length - 1].seq!;
  }
}

/** The seq the task's next event gets (1 for a task without events). */
export async function nextEventSeq(em: EntityManager, taskId: string): Promise<number> {
  const q = (name: string) => em.getPlatform().quoteIdentifier(name);
  const [row] = await queryRows<{ seq: number | null }>(em,
    `select max(${q('last_seq')}) as ${q('seq')} from ${tableOf(em, TaskEventBlock.name)} where ${q('task_id')} = ?`, [taskId]);
  return Number(row?.seq ?? 0) + 1;
}
