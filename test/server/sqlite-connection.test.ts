// SQLite's per-connection pragmas (synchronous = NORMAL, busy_timeout, cache_size) are set by the
// pool on every connection it opens (server/db/orm.ts), not once: a connection opened later, when
// the first is gone, must have them too — with the default FULL, every commit fsyncs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { databaseTarget, openOrm } from '../../server/db/orm.js';

test('synchronous = NORMAL, busy_timeout and cache_size hold on a connection opened after the first is closed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ops-sqlite-conn-'));
  const orm = await openOrm(databaseTarget('', dir));
  try {
    const read = async (pragma: string) => Object.values((await orm.em.getConnection().execute<Record<string, number>[]>(`pragma ${pragma}`))[0])[0];
    assert.is(await read('synchronous'), 1);
    await orm.close(true);
    await orm.connect();
    assert.is(await read('synchronous'), 1, 'synchronous on the new connection');
    assert.is(await read('busy_timeout'), 5000);
    assert.is(await read('cache_size'), -64 * 1024);
    assert.is(await read('journal_mode'), 'wal' as unknown as number);
  } finally {
    await orm.close(true);
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
