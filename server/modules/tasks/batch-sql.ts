// The statements a batch writes on the engine's hot path, built here rather than through the unit
// of work: every changed run of the batch in a few UPDATEs (db/batch-sql.ts), its events as blocks
// of JSON (one row per batch, event-log.ts). The unit of work computes a change set per entity,
// which cost more than the database itself at hundreds of runs a second. Values are converted the
// way MikroORM stores them (dates through the platform, JSON as text, booleans as 0/1), so entities
// read them back unchanged. A new task's runs are inserted the same way.
import type { EntityManager } from '@mikro-orm/core';
import { batchUpdate, multiInsert, toDatabase, type Batch } from '../../db/batch-sql.js';
import type { RunChanges } from './batch-plan.js';
import type { EventBlock } from './event-log.js';
import { TaskEventBlock } from './task-event-block.entity.js';
import { TaskRun } from './task-run.entity.js';


/** The UPDATEs of the batch's runs: each changed column set per run id, the others left as they are. */
export function runUpdate(em: EntityManager, changes: ReadonlyMap<string, RunChanges>): Batch[] {
  const converted = new Map<string, Record<string, unknown>>();
  for (const [runId, c] of changes) {
    const row: Record<string, unknown> = {};
    for (const prop in c) row[prop] = toDatabase(em, TaskRun.name, prop, c[prop as keyof RunChanges]);
    converted.set(runId, row);
  }
  return batchUpdate(em, TaskRun.name, converted);
}

/** The batch's event blocks as INSERTs. */
export function blockInserts(em: EntityManager, taskId: string, blocks: readonly EventBlock[]): Batch[] {
  return multiInsert(em, TaskEventBlock.name, ['task', 'lastSeq', 'firstSeq', 'events'], blocks.map((b) => [taskId, b.lastSeq, b.firstSeq, b.text]));
}

/** A new task's runs (the columns that have no default), as multi-row INSERTs. */
export function runInserts(em: EntityManager, taskId: string, runs: readonly TaskRun[]): Batch[] {
  const props = ['id', 'task', 'node', 'nodeName', 'status', 'output', 'outputStreams', 'outputTruncated', 'wave', 'lastSeq'] as const;
  return multiInsert(em, TaskRun.name, [...props], runs.map((r) => [
    r.id, taskId, r.node?.id ?? null, r.nodeName, r.status, r.output, JSON.stringify(r.outputStreams), r.outputTruncated ? 1 : 0, r.wave, r.lastSeq,
  ]));
}
