// The migrations of each driver, imported statically so they load the same from the TypeScript
// sources (tsx) and from dist/ — no directory globbing at run time.
import type { MigrationObject } from '@mikro-orm/core';
import { MYSQL_MIGRATIONS } from '../../migrations/mysql/index.js';
import { SQLITE_MIGRATIONS } from '../../migrations/sqlite/index.js';

export type DatabaseKind = 'sqlite' | 'mysql';

export const MIGRATIONS: Record<DatabaseKind, MigrationObject[]> = {
  sqlite: SQLITE_MIGRATIONS,
  mysql: MYSQL_MIGRATIONS,
};
