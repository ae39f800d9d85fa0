// The Redis lease that picks one leader among replicas, against a real Redis (OPS_TEST_REDIS_URL;
// skipped without it): one leader at a time, a successor within the lease when the leader stops,
// dies or freezes, fencing tokens that only grow, and a frozen leader that knows it lost the lease
// the moment it runs again, before Redis or anyone tells it.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger } from '../../lib/log.js';
import { RedisLeader } from '../../server/leadership/redis-leader.js';
import { until } from '../server/harness.js';

const REDIS_URL = process.env.OPS_TEST_REDIS_URL ?? '';
const log = createLogger({ component: 'test', level: 'silent' });
const clients: Redis[] = [];
const client = () => { const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 }); clients.push(r); return r; };
const prefix = () => `opsctl-test:${randomUUID()}:`;

test.after(() => { for (const c of clients) c.disconnect(); });

if (!REDIS_URL) {
  test('Redis leader tests need OPS_TEST_REDIS_URL (skipped)', () => undefined);
} else {
  test('exactly one of three replicas leads; when it stops, another takes over with a larger token', async () => {
    const p = prefix();
    const leaders = ['a', 'b', 'c'].map((id) => new RedisLeader({ redis: client(), replicaId: id, prefix: p, leaseMs: 1500, log }));
    await Promise.all(leaders.map((l) => l.start()));
    await until('a leader', () => leaders.some((l) => l.isLeader()) || undefined, 5000);
    await new Promise((r) => setTimeout(r, 700));
    assert.is(leaders.filter((l) => l.isLeader()).length, 1, 'one leader, still one after renewals');
    const first = leaders.find((l) => l.isLeader())!;
    const firstToken = first.fencingToken()!;
    const holder = await first.holder();
    assert.equal(holder?.serial, firstToken, 'without a fence, the token is the serial Redis names');
    await first.stop();
    assert.is(first.isLeader(), false);
    const rest = leaders.filter((l) => l !== first);
    await until('a successor', () => rest.some((l) => l.isLeader()) || undefined, 5000);
    const second = rest.find((l) => l.isLeader())!;
    assert.ok(second.fencingToken()! > firstToken, 'the successor holds a larger fencing token');
    assert.is(rest.filter((l) => l.isLeader()).length, 1);
    await Promise.all(rest.map((l) => l.stop()));
  });

  test('a leader whose Redis connection dies steps down by its own clock; another leads within the lease', async () => {
    const p = prefix();
    const deadConn = client();
    const a = new RedisLeader({ redis: deadConn, replicaId: 'a', prefix: p, leaseMs: 1500, log });
    await a.start();
    assert.ok(a.isLeader(), 'alone, it leads at once');
    const b = new RedisLeader({ redis: client(), replicaId: 'b', prefix: p, leaseMs: 1500, log });
    await b.start();
    assert.is(b.isLeader(), false);
    const changes: string[] = [];
    a.on('change', (v: boolean) => changes.push(`a:${v}`));
    b.on('change', (v: boolean) => changes.push(`b:${v}`));
    deadConn.disconnect(); // no reconnect: a real lost connection
    await until('b to lead', () => b.isLeader() || undefined, 6000);
    await until('a to step down', () => !a.isLeader() || undefined, 3000);
    assert.equal(changes, ['a:false', 'b:true'], 'the old leader stepped down before the new one took over');
    await b.stop();
    await a.stop();
  });

  test('a frozen leader (SIGSTOP past its lease) is replaced, and after SIGCONT never says it leads with its old token', async () => {
    const p = prefix();
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', 'helpers', 'leader-process.ts'), REDIS_URL, p, 'frozen', '1500'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines: { at: number; leading: boolean; token: number | null }[] = [];
    createInterface({ input: child.stdout! }).on('line', (line) => lines.push(JSON.parse(line)));
    try {
      await until('the child to lead', () => lines.at(-1)?.leading || undefined, 15_000);
      const oldToken = lines.at(-1)!.token!;
      const other = new RedisLeader({ redis: client(), replicaId: 'other', prefix: p, leaseMs: 1500, log });
      await other.start();
      child.kill('SIGSTOP');
      const seen = lines.length;
      await until('the other replica to lead', () => other.isLeader() || undefined, 6000);
      assert.ok(other.fencingToken()! > oldToken, 'a larger token');
      child.kill('SIGCONT');
      await until('the child to report again', () => lines.length > seen + 3 || undefined, 5000);
      const after = lines.slice(seen);
      assert.ok(after.every((l) => !l.leading), `after the pause the child never claims to lead: ${JSON.stringify(after.slice(0, 3))}`);
      assert.ok(other.isLeader(), 'the new leader keeps leading');
      await other.stop();
    } finally {
      child.kill('SIGKILL');
    }
  });
}

test.run();
