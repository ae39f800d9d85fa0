// Fencing a leader's writes in the database (server/replicas/leader-epochs.ts), against a real
// MariaDB (OPS_TEST_MYSQL_URL) and Redis (OPS_TEST_REDIS_URL); skipped without them. Epochs only
// grow; a write under an outgrown epoch is rolled back whole; and a leader whose lease Redis lost
// (a Redis restart empties it, and its serial counter starts again) cannot write once a newer
// leader took over, even while its own clock still says it leads.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger } from '../../lib/log.js';
import { createScratchDatabase, dropDatabase } from '../../server/db/mysql-admin.js';
import { databaseTarget, openOrm, runMigrations, type Orm } from '../../server/db/orm.js';
import { NotLeaderError } from '../../server/leadership/leader.js';
import { RedisLeader } from '../../server/leadership/redis-leader.js';
import { SharedSecret } from '../../server/modules/cluster/shared-secret.entity.js';
import { LeaderEpochs } from '../../server/replicas/leader-epochs.js';
import { until } from '../server/harness.js';

const MYSQL_URL = process.env.OPS_TEST_MYSQL_URL ?? '';
const REDIS_URL = process.env.OPS_TEST_REDIS_URL ?? '';
const log = createLogger({ component: 'test', level: 'silent' });

/** An em holding one new row: what a leader's step would write. */
function pendingWrite(orm: Orm, name: string) {
  const em = orm.em.fork();
  em.create(SharedSecret, { name, sealed: 'x', createdAt: new Date() });
  return em;
}

const stored = async (orm: Orm, name: string) => (await orm.em.fork().findOne(SharedSecret, { name })) !== null;

if (!MYSQL_URL || !REDIS_URL) {
  test('leader fence tests need OPS_TEST_MYSQL_URL and OPS_TEST_REDIS_URL (skipped)', () => undefined);
} else {
  let db: { name: string; url: string };
  let orm: Orm;
  const clients: Redis[] = [];
  test.before(async () => {
    db = await createScratchDatabase(MYSQL_URL, 'opsctl_fence');
    orm = await openOrm(databaseTarget(db.url, ''));
    await runMigrations(orm);
  });
  test.after(async () => {
    for (const c of clients) c.disconnect();
    await orm?.close(true);
    if (db) await dropDatabase(MYSQL_URL, db.name);
  });

  test('epochs only grow; a write under an outgrown epoch leaves nothing, under the newest it is stored', async () => {
    const epochs = new LeaderEpochs(orm);
    const first = await epochs.take('a');
    const second = await epochs.take('b');
    assert.ok(second > first, `${second} > ${first}`);
    try {
      await epochs.flushFenced(pendingWrite(orm, 'stale'), first);
      assert.unreachable('an outgrown epoch must not write');
    } catch (err) {
      assert.instance(err, NotLeaderError);
    }
    assert.is(await stored(orm, 'stale'), false, 'rolled back whole');
    await epochs.flushFenced(pendingWrite(orm, 'current'), second);
    assert.is(await stored(orm, 'current'), true);
  });

  test('Redis restarted empty under a leader: the next leader gets serial 1 again but a larger epoch, and the old one cannot write', async () => {
    const prefix = `opsctl-test:${randomUUID()}:`;
    const redis = () => { const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 }); clients.push(r); return r; };
    const fence = new LeaderEpochs(orm);
    // A long lease, renewed rarely: the old leader's clock keeps saying it leads for seconds after
    // Redis forgot it, and no renewal tells it before it tries to write.
    const a = new RedisLeader({ redis: redis(), replicaId: 'a', prefix, leaseMs: 20_000, renewEveryMs: 60_000, fence, log });
    await a.start();
    assert.ok(a.isLeader(), 'alone, a leads');
    const aToken = a.fencingToken()!;
    // What a restart of Redis (no persistence) does to the lease and its counter.
    await redis().del(`${prefix}leader`, `${prefix}leader:fence`);
    const b = new RedisLeader({ redis: redis(), replicaId: 'b', prefix, leaseMs: 9000, fence, log });
    await b.start();
    await until('b to lead', () => b.isLeader() || undefined, 5000);
    assert.is((await b.holder())?.serial, 1, 'the serial started again with Redis');
    assert.ok(b.fencingToken()! > aToken, `b's epoch ${b.fencingToken()} outgrows a's ${aToken}`);
    assert.ok(a.isLeader(), 'a has not noticed yet: its clock still says it leads');
    try {
      await a.flushAsLeader(pendingWrite(orm, 'from-a'));
      assert.unreachable('the old leader must not write');
    } catch (err) {
      assert.instance(err, NotLeaderError);
    }
    await b.flushAsLeader(pendingWrite(orm, 'from-b'));
    assert.is(await stored(orm, 'from-a'), false);
    assert.is(await stored(orm, 'from-b'), true);
    await a.stop();
    await b.stop();
  });
}

test.run();
