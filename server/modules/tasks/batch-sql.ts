// The statements a batch writes on the engine's hot path, built here rather than through the unit
// of work: every changed run of the batch in one `UPDATE … CASE id WHEN …`, its events in
// multi-row INSERTs. The unit of work computes a change set per entity, which cost more than the
// database itself at hundreds of runs a second. Values are converted the way MikroORM stores them
// (dates through the platform, JSON as text, booleans as 0/1), so entities read them back unchanged.
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
  const meta = em.getMetadata().get(TaskEventRow.name);
  const q = (name: string) => em.getPlatform().quoteIdentifier(name);
  const head = `insert into ${q(meta.tableName)} (${['task', 'seq', 'runId', 'type', 'body'].map((p) => columnOf(em, TaskEventRow.name, p)).join(', ')}) values `;
  const statements: Statement[] = [];
  let rows: string[] = [];
  let params: unknown[] = [];
  let bytes = 0;
  const flush = () => {
    if (rows.length) statements.push({ sql: head + rows.join(', '), params });
    rows = [];
    params = [];
    bytes = 0;
  };
  for (const event of events) {
    const { type, seq, ...rest } = event;
    const body = JSON.stringify(rest);
    if (rows.length >= ROWS_PER_INSERT || (rows.length > 0 && bytes + body.length * 3 > BYTES_PER_INSERT)) flush();
    rows.push('(?, ?, ?, ?, ?)');
    params.push(taskId, seq, 'runId' in event ? event.runId : null, type, body);
    bytes += body.length * 3;
  }
  flush();
  return statements;
}
