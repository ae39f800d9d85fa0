// The manager's SQLite WAL is checkpointed by a worker thread (server/db/sqlite-checkpoints.ts):
// the manager's connection never checkpoints while the worker runs, the pages reach the database
// file anyway, the file holds everything after stop(), and a worker that dies hands checkpointing
// back to the connection.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger } from '../../lib/log.js';
import { databaseTarget, openOrm, type Orm } from '../../server/db/orm.js';
import { SqliteCheckpoints } from '../../server/db/sqlite-checkpoints.js';

const log = createLogger({ component: 'test', level: 'error' });
const read = async (orm: Orm, pragma: string) => Object.values((await orm.em.getConnection().execute<Record<string, number>[]>(`pragma ${pragma}`))[0])[0];
const size = (path: string) => { try { return statSync(path).size; } catch { return 0; } };

async function until(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** ~4 MiB of rows in 20 commits (each far under the 1,000-page threshold a connection checkpoints at). */
async function write(orm: Orm): Promise<void> {
  const conn = orm.em.getConnection();
  await conn.execute('create table if not exists filler (id integer primary key, body text not null)');
  for (let i = 0; i < 20; i++) await conn.execute(`insert into filler (body) select printf('%.200c', 'x') from (with recursive n(k) as (select 1 union all select k + 1 from n where k < 1000) select k from n)`);
}

async function stack() {
  const dir = mkdtempSync(join(tmpdir(), 'ops-sqlite-ckpt-'));
  const target = databaseTarget('', dir);
  const orm = await openOrm(target);
  return { dir, db: target.dbName, orm, done: async () => { await orm.close(true); rmSync(dir, { recursive: true, force: true }); } };
}

test('the worker checkpoints: the connection does not, and the database file takes the pages', async () => {
  const s = await stack();
  try {
    const checkpoints = (await SqliteCheckpoints.start(s.orm, s.db, log, 50))!;
    assert.is(await read(s.orm, 'wal_autocheckpoint'), 0);
    const before = size(s.db);
    await write(s.orm);
    await until('the database file to hold the rows', () => size(s.db) > before + 3 * 1024 * 1024);
    await checkpoints.stop();
  } finally {
    await s.done();
  }
});

test('without the worker nothing checkpoints the WAL in between (the measure above is not the connection)', async () => {
  const s = await stack();
  try {
    await s.orm.em.getConnection().execute('pragma wal_autocheckpoint = 0');
    const before = size(s.db);
    await write(s.orm);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(size(s.db) < before + 1024 * 1024, `database file ${size(s.db)} bytes, ${before} before`);
    assert.ok(size(`${s.db}-wal`) > 3 * 1024 * 1024);
  } finally {
    await s.done();
  }
});

test('stop(): a last checkpoint; every row is in the database file once the database is closed', async () => {
  const s = await stack();
  try {
    const checkpoints = (await SqliteCheckpoints.start(s.orm, s.db, log, 60_000))!;
    await write(s.orm);
    await checkpoints.stop();
    assert.ok(size(s.db) > 3 * 1024 * 1024, `database file ${size(s.db)} bytes`);
    assert.is(Number(await read(s.orm, 'wal_autocheckpoint')), 0);
    const [row] = await s.orm.em.getConnection().execute<{ n: number }[]>('select count(*) as n from filler');
    assert.is(Number(row.n), 20_000);
  } finally {
    await s.done();
  }
});

test('a worker that dies: the connection checkpoints itself again', async () => {
  const s = await stack();
  try {
    const checkpoints = (await SqliteCheckpoints.start(s.orm, s.db, log, 60_000))!;
    assert.is(await read(s.orm, 'wal_autocheckpoint'), 0);
    await (checkpoints as unknown as { worker: Worker }).worker.terminate();
    await until('autocheckpoint restored', async () => Number(await read(s.orm, 'wal_autocheckpoint')) === 1000);
    await checkpoints.stop();
  } finally {
    await s.done();
  }
});

test('a worker that cannot open the file: logged, and the connection goes on checkpointing', async () => {
  const s = await stack();
  try {
    assert.is(await SqliteCheckpoints.start(s.orm, join(s.dir, 'missing', 'manager.db'), log), undefined);
    assert.is(Number(await read(s.orm, 'wal_autocheckpoint')), 1000);
  } finally {
    await s.done();
  }
});

test.run();
