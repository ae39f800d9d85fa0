// The libsql pool would replace its SQLite connection once it is 10 s old (server/db/orm.ts keeps
// it); the per-connection pragmas (synchronous = NORMAL, busy_timeout, cache_size) must hold after
// that time too — with the default FULL, every commit fsyncs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { databaseTarget, openOrm } from '../../server/db/orm.js';

test('synchronous = NORMAL and busy_timeout hold on a connection the pool opened later', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ops-sqlite-conn-'));
  const orm = await openOrm(databaseTarget('', dir));
  try {
    const read = async (pragma: string) => Object.values((await orm.em.getConnection().execute<Record<string, number>[]>(`pragma ${pragma}`))[0])[0];
    assert.is(await read('synchronous'), 1);
    await new Promise((resolve) => setTimeout(resolve, 10_500));
    assert.is(await read('synchronous'), 1, 'synchronous on the replaced connection');
    assert.is(await read('busy_timeout'), 5000);
    assert.is(await read('cache_size'), -64 * 1024);
    assert.is(await read('journal_mode'), 'wal' as unknown as number);
  } finally {
    await orm.close(true);
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
