// Retention deletes in bounded statements: ids first, then a DELETE by id. Portable (MariaDB and
// SQLite differ on DELETE ... LIMIT) and no statement holds locks on more than `batch` rows.
import type { EntityName, FilterQuery, MikroORM } from '@mikro-orm/core';

export interface BatchedDelete { deleted: number; statements: number }

export async function deleteBatched<T extends { id: string | number }>(orm: MikroORM, entity: EntityName<T>, where: FilterQuery<T>, batch: number): Promise<BatchedDelete> {
  const result: BatchedDelete = { deleted: 0, statements: 0 };
  for (;;) {
    const em = orm.em.fork();
    const rows = await em.find(entity, where, { fields: ['id'] as never, limit: batch, orderBy: { id: 'asc' } as never, disableIdentityMap: true });
    if (rows.length === 0) return result;
    result.deleted += await em.nativeDelete(entity, { id: { $in: rows.map((r) => r.id) } } as unknown as FilterQuery<T>);
    result.statements += 1;
    if (rows.length < batch) return result;
  }
}
