// Statements for the hot paths, built here rather than through the unit of work. On MySQL, many
// rows' changes go in an UPDATE joined to their new values and many rows in multi-row INSERTs. On
// SQLite, one single-row statement is prepared once per connection and run for every row through
// the driver, with bound parameters: SQLite compiles a 1,000-row VALUES list into a program as long
// as the list, and MikroORM's execute() first quotes every value into the SQL text; both were the
// largest items of a 10,000-host fan-out's CPU profile. The unit of work
// computes a change set per entity, which costs more than the database itself at hundreds of rows
// a second (task runs, host heartbeats, metrics samples). Values go in as the database takes them;
// `toDatabase` converts the way MikroORM stores them, so entities read them back unchanged.
import { JsonType, type EntityManager } from '@mikro-orm/core';
import { dialectOf } from './dialect.js';

export interface Statement { sql: string; params: unknown[] }

/** One single-row statement, run once per row (SQLite). */
export interface RowStatement { sql: string; rows: unknown[][] }

export type Batch = Statement | RowStatement;

/** Rows per INSERT, and bytes: a burst must stay under MySQL's max_allowed_packet (16 MiB by default). */
const ROWS_PER_INSERT = 1000;
const BYTES_PER_INSERT = 1024 * 1024;
/** Rows per UPDATE: SQLite allows 32,766 parameters per statement. */
export const ROWS_PER_UPDATE = 500;
/** SQLite: rows with the same new values share an `id in (…)` statement from this many on. */
const SHARED_UPDATE_MIN_ROWS = 8;

export function tableOf(em: EntityManager, entity: string): string {
  return em.getPlatform().quoteIdentifier(em.getMetadata().get(entity).tableName);
}

export function columnOf(em: EntityManager, entity: string, prop: string): string {
  const field = em.getMetadata().get(entity).properties[prop as never]?.fieldNames?.[0];
  if (!field) throw new Error(`${entity} has no property ${prop}`);
  return em.getPlatform().quoteIdentifier(field);
}

/** Whether `entity.prop` is a JSON column, by "entity.prop" (the metadata lookup cost more than the conversion). */
const jsonColumns = new Map<string, boolean>();

/** A value as MikroORM would store it in `entity.prop`: dates through the platform, JSON as text, booleans as 0/1. */
export function toDatabase(em: EntityManager, entity: string, prop: string, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return em.getPlatform().processDateProperty(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  const key = `${entity}.${prop}`;
  let json = jsonColumns.get(key);
  if (json === undefined) {
    const meta = em.getMetadata().get(entity).properties[prop as never] as { customType?: unknown } | undefined;
    jsonColumns.set(key, json = meta?.customType instanceof JsonType);
  }
  return json ? JSON.stringify(value) : value;
}

/**
 * UPDATEs for every row in `changes` (each changed column set per id, the others left as they
 * are): rows that change the same columns share statements, of at most ROWS_PER_UPDATE rows, each
 * joining the table to the new values by id. (A `CASE id WHEN … THEN …` per column was quadratic:
 * every row walked every arm, and 1,000 runs of a fan-out cost SQLite 10 ms.) Values are already
 * as the database takes them.
 */
export function batchUpdate(em: EntityManager, entity: string, changes: ReadonlyMap<string, Record<string, unknown>>): Batch[] {
  const bySignature = new Map<string, [string, Record<string, unknown>][]>();
  for (const [rowId, c] of changes) {
    const signature = Object.keys(c).sort().join(',');
    if (signature === '') continue;
    let rows = bySignature.get(signature);
    if (!rows) bySignature.set(signature, rows = []);
    rows.push([rowId, c]);
  }
  const statements: Batch[] = [];
  const sqlite = dialectOf(em) === 'sqlite';
  for (const [signature, rows] of bySignature) {
    const props = signature.split(',');
    if (sqlite) {
      statements.push(...sqliteUpdates(em, entity, props, rows));
      continue;
    }
    // By id: two transactions updating overlapping rows then lock them in the same order, and do not
    // deadlock (InnoDB locks each row as the join reaches it; db/retry-deadlock.ts for the rest).
    rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (let i = 0; i < rows.length; i += ROWS_PER_UPDATE) statements.push(joinUpdate(em, entity, props, rows.slice(i, i + ROWS_PER_UPDATE)));
  }
  return statements;
}

/**
 * SQLite: rows given the same values (a wave's runs all `dispatched` at one instant) share one
 * `… where id in (…)` per ROWS_PER_UPDATE rows; the others run the single-row statement each.
 * Rows are grouped by their values only when the first two have the same: runs ending carry
 * their own times and never share, and keying each of them cost a JSON text per row.
 */
function sqliteUpdates(em: EntityManager, entity: string, props: string[], rows: [string, Record<string, unknown>][]): RowStatement[] {
  const sets = props.map((p) => `${columnOf(em, entity, p)} = ?`).join(', ');
  const head = `update ${tableOf(em, entity)} set ${sets} where ${columnOf(em, entity, 'id')}`;
  const valuesOf = (c: Record<string, unknown>) => props.map((p) => c[p]);
  const sharing = rows.length >= SHARED_UPDATE_MIN_ROWS && props.every((p) => rows[0][1][p] === rows[1][1][p]);
  const groups: { values: unknown[]; ids: string[] }[] = [];
  if (sharing) {
    const byValues = new Map<string, { values: unknown[]; ids: string[] }>();
    for (const [rowId, c] of rows) {
      const values = valuesOf(c);
      const key = JSON.stringify(values);
      const group = byValues.get(key);
      if (group) group.ids.push(rowId);
      else byValues.set(key, { values, ids: [rowId] });
    }
    groups.push(...byValues.values());
  } else {
    for (const [rowId, c] of rows) groups.push({ values: valuesOf(c), ids: [rowId] });
  }
  const single: unknown[][] = [];
  const statements: RowStatement[] = [];
  for (const { values, ids } of groups) {
    if (ids.length < SHARED_UPDATE_MIN_ROWS) {
      for (const id of ids) single.push([...values, id]);
      continue;
    }
    for (let i = 0; i < ids.length; i += ROWS_PER_UPDATE) {
      const chunk = ids.slice(i, i + ROWS_PER_UPDATE);
      statements.push({ sql: `${head} in (${chunk.map(() => '?').join(', ')})`, rows: [[...values, ...chunk]] });
    }
  }
  if (single.length > 0) statements.push({ sql: `${head} = ?`, rows: single });
  return statements;
}

/** MySQL: the rows' new values as a derived table, joined by id. */
function joinUpdate(em: EntityManager, entity: string, props: string[], rows: [string, Record<string, unknown>][]): Statement {
  const q = (name: string) => em.getPlatform().quoteIdentifier(name);
  const table = tableOf(em, entity);
  const id = columnOf(em, entity, 'id');
  const columns = props.map((p) => columnOf(em, entity, p));
  const params: unknown[] = [];
  for (const [rowId, c] of rows) params.push(rowId, ...props.map((p) => c[p]));
  // MySQL and MariaDB spell a VALUES table differently; a UNION ALL of SELECTs is the same on both.
  const first = `select ? as ${q('id')}, ${columns.map((_, k) => `? as ${q(`v${k}`)}`).join(', ')}`;
  const more = rows.slice(1).map(() => `select ${['?', ...props.map(() => '?')].join(', ')}`);
  return {
    sql: `update ${table} t join (${[first, ...more].join(' union all ')}) v on t.${id} = v.${q('id')} set ${columns.map((col, k) => `t.${col} = v.${q(`v${k}`)}`).join(', ')}`,
    params,
  };
}

/** INSERTs of `entity` rows (values already as the database takes them): multi-row on MySQL, bounded in rows and bytes. */
export function multiInsert(em: EntityManager, entity: string, props: readonly string[], rows: readonly unknown[][], suffix = ''): Batch[] {
  const head = `insert into ${tableOf(em, entity)} (${props.map((p) => columnOf(em, entity, p)).join(', ')}) values `;
  const tuple = `(${props.map(() => '?').join(', ')})`;
  if (dialectOf(em) === 'sqlite') return rows.length > 0 ? [{ sql: head + tuple + suffix, rows: [...rows] }] : [];
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

interface NativeStatement { run(params: unknown[]): unknown }
interface NativeConnection { prepare(sql: string): NativeStatement }
interface KnexLike { client: { acquireConnection(): Promise<NativeConnection>; releaseConnection(c: NativeConnection): Promise<void> } }

/** Prepared single-row statements per SQLite connection (the pool may open a new one). */
const prepared = new WeakMap<NativeConnection, Map<string, NativeStatement>>();

/** Runs the batches in `em`'s transaction (or on their own when it has none). */
export async function executeAll(em: EntityManager, statements: Iterable<Batch | undefined>): Promise<void> {
  const connection = em.getConnection();
  for (const st of statements) {
    if (!st) continue;
    if ('params' in st) {
      await connection.execute(st.sql, st.params, 'run', em.getTransactionContext());
      continue;
    }
    // The driver's own connection: the transaction's when there is one (knex hands it back as is).
    const knex = (em.getTransactionContext() ?? (connection as unknown as { getKnex(): unknown }).getKnex()) as KnexLike;
    const native = await knex.client.acquireConnection();
    try {
      let cache = prepared.get(native);
      if (!cache) prepared.set(native, cache = new Map());
      let statement = cache.get(st.sql);
      if (!statement) cache.set(st.sql, statement = native.prepare(st.sql));
      for (const row of st.rows) statement.run(row);
    } finally {
      await knex.client.releaseConnection(native);
    }
  }
}
