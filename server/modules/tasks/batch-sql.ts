// The statements a batch writes on the engine's hot path, built here rather than through the unit
// of work: every changed run of the batch in one `UPDATE … CASE id WHEN …`, its events in
// multi-row INSERTs. The unit of work computes a change set per entity, which cost more than the
// database itself at hundreds of runs a second. Values are converted the way MikroORM stores them
// (dates through the platform, JSON as text, booleans as 0/1), so entities read them back unchanged.
// A new task's runs are inserted the same way.
import type { EntityManager } from '@mikro-orm/core';
import type { TaskStreamEvent } from '../../../proto/rest/tasks.js';
import type { RunChanges } from './batch-plan.js';
import { TaskEventRow } from './task-event.entity.js';
import { TaskRun } from './task-run.entity.js';

export interface Statement { sql: string; params: unknown[] }

const JSON_COLUMNS = new Set<keyof RunChanges>(['result', 'outputStreams']);

/** Rows per INSERT, and bytes: a burst of output must stay under MySQL's max_allowed_packet (16 MiB by default). */
const ROWS_PER_INSERT = 1000;
const BYTES_PER_INSERT = 1024 * 1024;

function columnOf(em: EntityManager, entity: string, prop: string): string {
  const field = em.getMetadata().get(entity).properties[prop as never]?.fieldNames?.[0];
  if (!field) throw new Error(`${entity} has no property ${prop}`);
  return em.getPlatform().quoteIdentifier(field);
}

function toDatabase(em: EntityManager, prop: keyof RunChanges, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return em.getPlatform().processDateProperty(value);
  if (JSON_COLUMNS.has(prop)) return JSON.stringify(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}

/** One UPDATE for every run of the batch: each changed column set per run id, the others left as they are. */
export function runUpdate(em: EntityManager, changes: ReadonlyMap<string, RunChanges>): Statement | undefined {
  if (changes.size === 0) return undefined;
  const props = new Set<keyof RunChanges>();
  for (const c of changes.values()) for (const p of Object.keys(c) as (keyof RunChanges)[]) props.add(p);
  const id = columnOf(em, TaskRun.name, 'id');
  const params: unknown[] = [];
  const sets = [...props].map((prop) => {
    const column = columnOf(em, TaskRun.name, prop);
    const whens: string[] = [];
    for (const [runId, c] of changes) {
      if (!(prop in c)) continue;
      whens.push('when ? then ?');
      params.push(runId, toDatabase(em, prop, c[prop]));
    }
    return `${column} = case ${id} ${whens.join(' ')} else ${column} end`;
  });
  const ids = [...changes.keys()];
  params.push(...ids);
  const table = em.getPlatform().quoteIdentifier(em.getMetadata().get(TaskRun.name).tableName);
  return { sql: `update ${table} set ${sets.join(', ')} where ${id} in (${ids.map(() => '?').join(', ')})`, params };
}

/** The events as INSERTs of at most ROWS_PER_INSERT rows and about BYTES_PER_INSERT bytes each. */
export function eventInserts(em: EntityManager, taskId: string, events: readonly TaskStreamEvent[]): Statement[] {
  return inserts(em, TaskEventRow.name, ['task', 'seq', 'runId', 'type', 'body'], events.map((event) => {
    const { type, seq, ...body } = event;
    return [taskId, seq, 'runId' in event ? event.runId : null, type, JSON.stringify(body)];
  }));
}

/** A new task's runs (the columns that have no default), as multi-row INSERTs. */
export function runInserts(em: EntityManager, taskId: string, runs: readonly TaskRun[]): Statement[] {
  const props = ['id', 'task', 'node', 'nodeName', 'status', 'output', 'outputStreams', 'outputTruncated', 'wave', 'lastSeq'] as const;
  return inserts(em, TaskRun.name, [...props], runs.map((r) => [
    r.id, taskId, r.node?.id ?? null, r.nodeName, r.status, r.output, JSON.stringify(r.outputStreams), r.outputTruncated ? 1 : 0, r.wave, r.lastSeq,
  ]));
}

/** Multi-row INSERTs of `entity` rows (values already as the database takes them). */
function inserts(em: EntityManager, entity: string, props: string[], rows: unknown[][]): Statement[] {
  const head = `insert into ${em.getPlatform().quoteIdentifier(em.getMetadata().get(entity).tableName)} (${props.map((p) => columnOf(em, entity, p)).join(', ')}) values `;
  const tuple = `(${props.map(() => '?').join(', ')})`;
  const statements: Statement[] = [];
  let count = 0;
  let params: unknown[] = [];
  let bytes = 0;
  const flush = () => {
    if (count > 0) statements.push({ sql: head + new Array(count).fill(tuple).join(', '), params });
    count = 0;
    params = [];
    bytes = 0;
  };
  for (const row of rows) {
    const size = row.reduce<number>((n, v) => n + (typeof v === 'string' ? v.length * 3 : 8), 0);
    if (count >= ROWS_PER_INSERT || (count > 0 && bytes + size > BYTES_PER_INSERT)) flush();
    params.push(...row);
    count++;
    bytes += size;
  }
  flush();
  return statements;
}
