// A real InnoDB deadlock: two transactions lock the same two rows in opposite orders. MariaDB ends
// one of them with ER_LOCK_DEADLOCK; under retryDeadlocks that one is run again and both commit.
// Needs OPS_TEST_MYSQL_URL.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createScratchDatabase, dropDatabase } from '../../server/db/mysql-admin.js';
import { databaseTarget, openOrm, type Orm } from '../../server/db/orm.js';
import { isDeadlock, retryDeadlocks } from '../../server/db/retry-deadlock.js';

const MYSQL_URL = process.env.OPS_TEST_MYSQL_URL ?? '';

/** Both transactions hold their first row before either asks for its second. */
function crossed(orm: Orm, retry: boolean): Promise<PromiseSettledResult<number>[]> {
  let holding = 0;
  const bothHold = new Promise<void>((resolve) => {
    const check = setInterval(() => { if (holding >= 2) { clearInterval(check); resolve(); } }, 5);
  });
  let runs = 0;
  const transaction = (first: number, second: number) => async () => {
    runs++;
    await orm.em.fork().transactional(async (tx) => {
      const conn = tx.getConnection();
      await conn.execute('update deadlock_rows set n = n + 1 where id = ?', [first], 'run', tx.getTransactionContext());
      holding++;
      await bothHold;
      await conn.execute('update deadlock_rows set n = n + 1 where id = ?', [second], 'run', tx.getTransactionContext());
    });
    return runs;
  };
  const wrap = (work: () => Promise<number>) => (retry ? retryDeadlocks(work) : work());
  return Promise.allSettled([wrap(transaction(1, 2)), wrap(transaction(2, 1))]);
}

if (!MYSQL_URL) {
  test('deadlock retry tests need OPS_TEST_MYSQL_URL (skipped)', () => undefined);
} else {
  let orm: Orm;
  let db: { url: string; name: string };
  const counts = async () => (await orm.em.fork().getConnection().execute('select n from deadlock_rows order by id') as { n: number }[]).map((r) => Number(r.n));

  test.before(async () => {
    db = await createScratchDatabase(MYSQL_URL, 'opsctl_deadlock');
    orm = await openOrm(databaseTarget(db.url, ''));
    await orm.em.getConnection().execute('create table deadlock_rows (id int primary key, n int not null) engine=InnoDB');
    await orm.em.getConnection().execute('insert into deadlock_rows values (1, 0), (2, 0)');
  });
  test.after(async () => {
    await orm?.close(true);
    if (db) await dropDatabase(MYSQL_URL, db.name);
  });

  test('without a retry, crossed updates lose one transaction to a deadlock and its changes are rolled back', async () => {
    const results = await crossed(orm, false);
    const failed = results.filter((r) => r.status === 'rejected');
    assert.is(failed.length, 1, 'one of the two is the deadlock\'s victim');
    assert.ok(isDeadlock((failed[0] as PromiseRejectedResult).reason), String((failed[0] as PromiseRejectedResult).reason));
    assert.equal(await counts(), [1, 1], 'only the winner\'s two updates are kept');
  });

  test('with retryDeadlocks, the victim runs again and both commit', async () => {
    const results = await crossed(orm, true);
    assert.equal(results.map((r) => r.status), ['fulfilled', 'fulfilled']);
    assert.equal(await counts(), [3, 3], 'both transactions\' updates, once each');
  });

  test('an error that is not a deadlock is not retried', async () => {
    let runs = 0;
    const err = await retryDeadlocks(async () => { runs++; throw Object.assign(new Error('duplicate'), { code: 'ER_DUP_ENTRY', errno: 1062 }); }).catch((e: unknown) => e);
    assert.is((err as Error).message, 'duplicate');
    assert.is(runs, 1);
  });
}

test.run();
