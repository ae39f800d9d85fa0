// Replicas starting together on one new MySQL database: both run the migrations at once; one
// migrates, the other waits for its lock and then finds nothing to do. Needs OPS_TEST_MYSQL_URL.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createScratchDatabase, dropDatabase } from '../../server/db/mysql-admin.js';
import { databaseTarget, openOrm, runMigrations } from '../../server/db/orm.js';

const MYSQL_URL = process.env.OPS_TEST_MYSQL_URL ?? '';

if (!MYSQL_URL) {
  test('migration lock tests need OPS_TEST_MYSQL_URL (skipped)', () => undefined);
} else {
  test('two managers migrating one new database at once: one applies everything, the other nothing, neither fails', async () => {
    const db = await createScratchDatabase(MYSQL_URL, 'opsctl_migrate');
    const orms = await Promise.all([0, 1].map(() => openOrm(databaseTarget(db.url, ''))));
    try {
      const applied = await Promise.all(orms.map((orm) => runMigrations(orm)));
      const counts = applied.map((a) => a.length).sort((x, y) => x - y);
      assert.is(counts[0], 0, 'the second found the schema current');
      assert.ok(counts[1] > 5, `the first applied every migration (${counts[1]})`);
    } finally {
      await Promise.all(orms.map((orm) => orm.close(true)));
      await dropDatabase(MYSQL_URL, db.name);
    }
  });
}

test.run();
