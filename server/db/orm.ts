// Opens the manager's database: SQLite (libsql) under dataDir by default, MySQL/MariaDB when
// database.url is a mysql:// URL. The same entities and code run on both; each driver has its own
// migrations (migrations/sqlite, migrations/mysql), applied at start — never schema:update.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { MikroORM, Options } from '@mikro-orm/core';
import type { Logger } from '../../lib/log.js';
import { managerEntities } from './entities.js';
import type { DatabaseKind } from './migrations-list.js';

export type Orm = MikroORM;

/** SQLite's page cache (KiB): it grows only as pages are used, up to this. */
const SQLITE_CACHE_KIB = 64 * 1024;

export interface DatabaseTarget {
  kind: DatabaseKind;
  /** SQLite file path, or the MySQL database name. */
  dbName: string;
  /** MySQL only. */
  clientUrl?: string;
}

/** Reads database.url: '' → SQLite in dataDir; mysql://user:pass@host:port/db → MySQL/MariaDB. */
export function databaseTarget(url: string, dataDir: string): DatabaseTarget {
  if (url === '') return { kind: 'sqlite', dbName: join(dataDir, 'manager.db') };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error('database.url is not a valid URL (want mysql://user:pass@host:port/db)');
  }
  if (parsed.protocol !== 'mysql:' && parsed.protocol !== 'mariadb:') {
    throw new Error(`database.url: unsupported scheme "${parsed.protocol}" (want mysql://)`);
  }
  const dbName = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!dbName) throw new Error('database.url must name a database: mysql://user:pass@host:port/db');
  parsed.protocol = 'mysql:';
  return { kind: 'mysql', dbName, clientUrl: parsed.toString() };
}

export async function ormOptions(target: DatabaseTarget, log?: Logger): Promise<Options> {
  const common: Options = {
    entities: await managerEntities(),
    discovery: { warnWhenNoEntities: true },
    forceUtcTimezone: true,
    // Services always say which EntityManager they use (a request's fork or their own).
    allowGlobalContext: false,
    // OPS_DEBUG_SQL=1 prints every statement to stderr (to see what a change costs in queries).
    debug: process.env.OPS_DEBUG_SQL === '1' ? ['query'] : false,
    logger: (message) => (process.env.OPS_DEBUG_SQL === '1' ? console.error(message) : log?.debug({ orm: true }, message)),
    migrations: {
      tableName: 'mikro_orm_migrations',
      // MySQL commits DDL implicitly, so wrapping migrations in a transaction only misleads there.
      transactional: target.kind === 'sqlite',
      allOrNothing: target.kind === 'sqlite',
      snapshot: false,
      silent: true,
    },
  };
  if (target.kind === 'sqlite') {
    return {
      ...common, dbName: target.dbName,
      // A new SQLite connection starts with the defaults: set the per-connection pragmas on every
      // one the pool opens (synchronous is per connection: FULL would fsync every commit).
      pool: {
        afterCreate: (conn: { exec(sql: string): void; __created?: number }, done: (err: Error | null, conn: unknown) => void) => {
          try {
            conn.exec('pragma synchronous = normal');
            conn.exec('pragma busy_timeout = 5000');
            // The default page cache is 2 MiB; a manager with 10,000 hosts has a database of
            // hundreds of MiB, and a fan-out touched pages faster than that cache kept them.
            conn.exec(`pragma cache_size = -${SQLITE_CACHE_KIB}`);
            // The libsql dialect retires a connection 10 s after \`__created\` (meant for remote
            // databases). A local file needs no retiring, and each new connection started with a
            // cold page cache and had to prepare every hot-path statement again: keep it.
            conn.__created = Number.POSITIVE_INFINITY;
            done(null, conn);
          } catch (err) {
            done(err as Error, conn);
          }
        },
      },
    };
  }
  return {
    ...common, clientUrl: target.clientUrl, dbName: target.dbName, timezone: '+00:00', pool: { min: 1, max: 10 },
    // The database away: a request fails within seconds (503, server/http/errors.ts) instead of
    // waiting a minute for a connection; the pool connects again by itself when it is back.
    driverOptions: { acquireConnectionTimeout: 10_000, connection: { connectTimeout: 5000 } },
  };
}

/** Opens the ORM for the target (creating the SQLite directory) without touching the schema. */
export async function openOrm(target: DatabaseTarget, log?: Logger, migrations?: Options['migrations']): Promise<Orm> {
  const options = await ormOptions(target, log);
  // Loaded lazily so the migration generator can run while an index points at a removed file.
  const migrationsList = migrations?.migrationsList ?? (await import('./migrations-list.js')).MIGRATIONS[target.kind];
  options.migrations = { ...options.migrations, ...migrations, migrationsList };
  const { Migrator } = await import('@mikro-orm/migrations');
  try {
    if (target.kind === 'sqlite') {
      mkdirSync(dirname(target.dbName), { recursive: true });
      const { MikroORM } = await import('@mikro-orm/libsql');
      const orm = await MikroORM.init({ ...options, extensions: [Migrator] } as Parameters<typeof MikroORM.init>[0]);
      // WAL: readers do not wait for the writer, and a commit costs one append instead of a
      // journal rewrite; NORMAL sync (set on every connection, above) is still crash-safe for the
      // database in WAL mode. The journal mode is kept in the file.
      await orm.em.getConnection().execute('pragma journal_mode = wal');
      return orm;
    }
    const { MikroORM } = await import('@mikro-orm/mysql');
    return await MikroORM.init({ ...options, extensions: [Migrator] } as Parameters<typeof MikroORM.init>[0]);
  } catch (err) {
    const where = target.kind === 'sqlite' ? target.dbName : `MySQL database ${target.dbName}`;
    throw new Error(`opening the database (${where}): ${(err as Error).message}`, { cause: err });
  }
}

/** Applies pending migrations; returns the names applied. */
export async function runMigrations(orm: Orm): Promise<string[]> {
  // Replicas starting together on one MySQL database: one migrates, the others wait for it (a named
  // lock held by a connection of its own, so the migrator's connections are free to work).
  const unlock = isMysql(orm) ? await mysqlLock(orm, 'opsctl_migrations', 300) : undefined;
  try {
    const applied = await orm.getMigrator().up();
    return applied.map((m) => m.name);
  } catch (err) {
    throw new Error(`running database migrations: ${(err as Error).message}`, { cause: err });
  } finally {
    await unlock?.();
  }
}

function isMysql(orm: Orm): boolean {
  return orm.config.getDriver().constructor.name.toLowerCase().includes('mysql');
}

interface PooledClient { acquireConnection(): Promise<unknown>; releaseConnection(c: unknown): Promise<void>; query(c: unknown, q: { sql: string; bindings: unknown[] }): Promise<{ response: unknown }> }

/** MySQL's GET_LOCK on one pooled connection, held until the returned function releases it. */
async function mysqlLock(orm: Orm, name: string, timeoutSeconds: number): Promise<() => Promise<void>> {
  const client = (orm.em.getConnection() as unknown as { getKnex(): { client: PooledClient } }).getKnex().client;
  const conn = await client.acquireConnection();
  const rows = (await client.query(conn, { sql: 'select get_lock(?, ?) as got', bindings: [name, timeoutSeconds] })).response as [{ got: number | null }[]];
  if (Number(rows[0]?.[0]?.got) !== 1) {
    await client.releaseConnection(conn);
    throw new Error(`running database migrations: another manager held the migration lock for ${timeoutSeconds} s`);
  }
  return async () => {
    await client.query(conn, { sql: 'select release_lock(?)', bindings: [name] }).catch(() => undefined);
    await client.releaseConnection(conn);
  };
}
