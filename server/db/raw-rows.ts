// Reading plain rows through the driver, for reads of thousands of rows (a task's event log, the
// nodes a selector scans): no entities, no identity map, no references — each of those cost more
// than the database itself at 10,000 rows.
import { JsonType, type EntityManager } from '@mikro-orm/core';

/** The rows of `sql` (placeholders `?`), in `em`'s transaction when it has one. */
export async function queryRows<T>(em: EntityManager, sql: string, params: readonly unknown[]): Promise<T[]> {
  return await em.getConnection().execute(sql, [...params], 'all', em.getTransactionContext()) as T[];
}

/** A JSON column as read: MySQL hands back the value, SQLite and MariaDB the text. */
export function jsonColumn<T>(value: unknown): T | null {
  if (value === null || value === undefined) return null;
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

/**
 * `entity` rows as plain objects through the driver: properties by their names, dates converted,
 * JSON columns parsed — what em.find gives without an entity, a reference or the identity map per
 * row (a periodic pass over 10,000 nodes cost a second of CPU as entities).
 */
export async function plainRows<T extends object>(
  em: EntityManager, entity: { name: string }, where: Record<string, unknown>, fields: readonly (keyof T & string)[],
  orderBy?: Partial<Record<keyof T & string, 'asc' | 'desc'>>,
): Promise<T[]> {
  const meta = em.getMetadata().get(entity.name);
  const json = fields.filter((f) => meta.properties[f as never]?.customType instanceof JsonType);
  const rows = await em.getDriver().find(entity.name, where, {
    fields: [...fields] as never[], ...(orderBy ? { orderBy: [orderBy] as never } : {}), ctx: em.getTransactionContext(),
  }) as Record<string, unknown>[];
  for (const row of rows) for (const f of json) row[f] = jsonColumn(row[f]);
  return rows as T[];
}
