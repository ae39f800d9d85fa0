// Creating and dropping MySQL/MariaDB databases, for the migration generator and the test suites
// (each run gets its own scratch database and drops it afterwards).
import { randomBytes } from 'node:crypto';
import { databaseTarget, openOrm } from './orm.js';

const SAFE_NAME = /^[A-Za-z0-9_]+$/;

async function onServer<T>(serverUrl: string, fn: (execute: (sql: string) => Promise<unknown>) => Promise<T>): Promise<T> {
  const orm = await openOrm(databaseTarget(serverUrl, ''));
  try {
    return await fn((sql) => orm.em.getConnection().execute(sql));
  } finally {
    await orm.close(true);
  }
}

/** Creates `<prefix>_<random>` on the server of `serverUrl` (which must name an existing database); returns its URL. */
export async function createScratchDatabase(serverUrl: string, prefix: string): Promise<{ url: string; name: string }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  if (!SAFE_NAME.test(name)) throw new Error(`invalid database name "${name}"`);
  await onServer(serverUrl, (execute) => execute(`create database \`${name}\` character set utf8mb4 collate utf8mb4_unicode_ci`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), name };
}

export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  if (!SAFE_NAME.test(name)) throw new Error(`invalid database name "${name}"`);
  await onServer(serverUrl, (execute) => execute(`drop database if exists \`${name}\``));
}

/** Creates database `name` on the server of `serverUrl` unless it exists; returns its URL. */
export async function createDatabaseIfMissing(serverUrl: string, name: string): Promise<string> {
  if (!SAFE_NAME.test(name)) throw new Error(`invalid database name "${name}"`);
  await onServer(serverUrl, (execute) => execute(`create database if not exists \`${name}\` character set utf8mb4 collate utf8mb4_unicode_ci`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
