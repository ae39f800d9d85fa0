// Statements for the hot paths, built here rather than through the unit of work: many rows'
// changes in one `UPDATE … CASE id WHEN …`, many rows in multi-row INSERTs. The unit of work
// computes a change set per entity, which costs more than the database itself at hundreds of rows
// a second (task runs, host heartbeats, metrics samples). Values go in as the database takes them;
// `toDatabase` converts the way MikroORM stores them, so entities read them back unchanged.
import { JsonType, type EntityManager } from '@mikro-orm/core';

export interface Statement { sql: string; params: unknown[] }

/** Rows per INSERT, and bytes: a burst must stay under MySQL's max_allowed_packet (16 MiB by default). */
const ROWS_PER_INSERT = 1000;
const BYTES_PER_INSERT = 1024 * 1024;
/** Rows per UPDATE: each row costs its CASE arms' parameters, and SQLite allows 32,766 per statement. */
export const ROWS_PER_UPDATE = 500;

export function tableOf(em: EntityManager, entity: string): string {
  return em.getPlatform().quoteIdentifier(em.getMetadata().get(entity).tableName);
}

export function columnOf(em: EntityManager, entity: string, prop: string): string {
  const field = em.getMetadata().get(entity).properties[prop as never]?.fieldNames?.[0];
  if (!field) throw new Error(`${entity} has no property ${prop}`);
  return em.getPlatform().quoteIdentifier(field);
}

/** A value as MikroORM would store it in `entity.prop`: dates through the platform, JSON as text, booleans as 0/1. */
export function toDatabase(em: EntityManager, entity: string, prop: string, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return em.getPlatform().processDateProperty(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  const meta = em.getMetadata().get(entity).properties[prop as never] as { customType?: unknown } | undefined;
  if (meta?.customType instanceof JsonType) return JSON.stringify(value);
  return value;
}

/**
 * One UPDATE for every row in `changes` (at most ROWS_PER_UPDATE of them): each changed column
 * set per id, the others left as they are. Values are already as the database takes them.
 */
export function caseUpdate(em: EntityManager, entity: string, changes: ReadonlyMap<string, Record<string, unknown>>): Statement | undefined {
  if (changes.size === 0) return undefined;
  const props = new Set<string>();
  for (const c of changes.values()) for (const p of Object.keys(c)) props.add(p);
  const id = columnOf(em, entity, 'id');
  const params: unknown[] = [];
  const sets = [...props].map((prop) => {
    const column = columnOf(em, entity, prop);
    const whens: string[] = [];
    for (const [rowId, c] of changes) {
      if (!(prop in c)) continue;
      whens.push('when ? then ?');
      params.push(rowId, c[prop]);
    }
    return `${column} = case ${id} ${whens.join(' ')} else ${column} end`;
  });
  const ids = [...changes.keys()];
  params.push(...ids);
  return { sql: `update ${tableOf(em, entity)} set ${sets.join(', ')} where ${id} in (${ids.map(() => '?').join(', ')})`, params };
}

/** Multi-row INSERTs of `entity` rows (values already as the database takes them), bounded in rows and bytes. */
export function multiInsert(em: EntityManager, entity: string, props: readonly string[], rows: readonly unknown[][], suffix = ''): Statement[] {
  const head = `insert into ${tableOf(em, entity)} (${props.map((p) => columnOf(em, entity, p)).join(', ')}) values `;
  const tuple = `(${props.map(() => '?').join(', ')})`;
  const statements: Statement[] = [];
  let count = 0;
  let params: unknown[] = [];
  let bytes = 0;
  const flush = () => {
    if (count > 0) statements.push({ sql: head + new Array(count).fill(tuple).join(', ') + suffix, params });
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

/** Runs statements inside `em`'s transaction. */
export async function executeAll(em: EntityManager, statements: Iterable<Statement | undefined>): Promise<void> {
  const connection = em.getConnection();
  for (const st of statements) if (st) await connection.execute(st.sql, st.params, 'run', em.getTransactionContext());
}
