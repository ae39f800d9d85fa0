// A task's event log stored in blocks (one row per batch), on a real database: blocks are cut at
// their size, an event bigger than a block gets one of its own, reads page across and inside
// blocks with `after`, `limit`, a type and runs, and a database written before blocks (an event per
// row) is migrated into blocks that read back the same.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { TaskStreamEvent } from '../../proto/rest/tasks.js';
import { executeAll } from '../../server/db/batch-sql.js';
import { createScratchDatabase, dropDatabase } from '../../server/db/mysql-admin.js';
import { databaseTarget, openOrm, runMigrations, type Orm } from '../../server/db/orm.js';
import { blockInserts } from '../../server/modules/tasks/batch-sql.js';
import { BLOCK_CHARS, nextEventSeq, readEvents, toBlocks } from '../../server/modules/tasks/event-log.js';
import { Task } from '../../server/modules/tasks/task.entity.js';
import { DB_KINDS } from './harness.js';

const MYSQL_URL = process.env.OPS_TEST_MYSQL_URL ?? '';
/** The last migration with an event per row. */
const BEFORE_BLOCKS = 'Migration20261126203937_task_fk_indexes';

function events(from: number, count: number, runs: string[]): TaskStreamEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const runId = runs[i % runs.length];
    const seq = from + i;
    return (i % 2 === 0
      ? { type: 'run', runId, node: `n-${runId}`, status: 'dispatched', seq }
      : { type: 'output', runId, node: `n-${runId}`, stream: 'stdout', data: `line ${seq} ${'x'.repeat(200)}\n`, seq }) as TaskStreamEvent;
  });
}

{
  const test = suite('event blocks');
  test('blocks are cut at their size, in order and without gaps; each event keeps its own JSON text', () => {
    const all = events(1, 20_000, ['a', 'b', 'c']);
    const { blocks, texts } = toBlocks(all);
    assert.ok(blocks.length > 1, `${blocks.length} blocks`);
    assert.is(texts.length, all.length);
    assert.is(texts[7], JSON.stringify(all[7]));
    let next = 1;
    for (const b of blocks) {
      assert.ok(b.text.length <= BLOCK_CHARS + 2, `block of ${b.text.length} chars`);
      const parsed = JSON.parse(b.text) as TaskStreamEvent[];
      assert.is(b.firstSeq, next);
      assert.is(parsed[0].seq, b.firstSeq);
      assert.is(parsed.at(-1)!.seq, b.lastSeq);
      next = b.lastSeq + 1;
    }
    assert.is(next, 20_001);
  });

  test('an event bigger than a block gets a block of its own; none is empty', () => {
    const big = { type: 'output', runId: 'a', node: 'n', stream: 'stdout', data: 'x'.repeat(BLOCK_CHARS + 10), seq: 2 } as TaskStreamEvent;
    const { blocks } = toBlocks([{ ...events(1, 1, ['a'])[0] }, big, { ...events(3, 1, ['a'])[0] }]);
    assert.equal(blocks.map((b) => [b.firstSeq, b.lastSeq]), [[1, 1], [2, 2], [3, 3]]);
    assert.equal(toBlocks([]).blocks, []);
  });
  test.run();
}

async function taskRow(orm: Orm): Promise<string> {
  const em = orm.em.fork();
  const task = em.create(Task, { id: randomUUID(), script: 'true', interpreter: 'sh', timeoutSeconds: 60, selector: { all: true }, createdBy: 'test' } as never);
  await em.flush();
  return (task as Task).id;
}

async function withDatabase(kind: string, fn: (orm: Orm, migrate: (to?: string) => Promise<void>) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ops-event-log-'));
  const scratch = kind === 'mysql' ? await createScratchDatabase(MYSQL_URL, 'opsctl_eventlog') : undefined;
  const orm = await openOrm(databaseTarget(scratch?.url ?? '', dir));
  try {
    await fn(orm, async (to) => { await orm.getMigrator().up(to ? { to } : undefined); });
  } finally {
    await orm.close(true);
    if (scratch) await dropDatabase(MYSQL_URL, scratch.name);
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const kind of DB_KINDS) {
  const test = suite(`event log on ${kind}`);

  test('reads page across and inside blocks: after, limit, a type, some runs', () => withDatabase(kind, async (orm) => {
    await runMigrations(orm);
    const taskId = await taskRow(orm);
    const all = events(1, 30_000, ['r1', 'r2', 'r3']);
    const { blocks } = toBlocks(all);
    assert.ok(blocks.length > 8, `more blocks than one read takes (${blocks.length})`);
    await orm.em.fork().transactional((tx) => executeAll(tx, blockInserts(tx, taskId, blocks)));
    const em = orm.em.fork();

    // Every event once, in order, in pages that end inside blocks.
    const seen: number[] = [];
    for (let after = 0; ;) {
      const page = await readEvents(em, taskId, { after, limit: 777 });
      seen.push(...page.map((e) => e.seq!));
      if (page.length < 777) break;
      after = page.at(-1)!.seq!;
    }
    assert.equal(seen, all.map((e) => e.seq));

    const outputs = await readEvents(em, taskId, { after: 10, limit: 5, type: 'output' });
    assert.equal(outputs.map((e) => e.seq), [12, 14, 16, 18, 20]);
    const ofR2 = await readEvents(em, taskId, { after: 0, limit: 4, runIds: ['r2'] });
    assert.equal(ofR2.map((e) => e.seq), [2, 5, 8, 11]);
    assert.equal(await readEvents(em, taskId, { after: 0, limit: 10, runIds: [] }), []);
    assert.equal(await readEvents(em, taskId, { after: 30_000, limit: 10 }), []);
    assert.is(await nextEventSeq(em, taskId), 30_001);
    assert.is(await nextEventSeq(em, randomUUID()), 1);
  }));

  test('a database with an event per row: its events become blocks that read back the same', () => withDatabase(kind, async (orm, migrate) => {
    await migrate(BEFORE_BLOCKS);
    const taskId = await taskRow(orm);
    const conn = orm.em.getConnection();
    const old = [
      { seq: 1, runId: 'r1', type: 'run', body: { runId: 'r1', node: 'web-1', status: 'dispatched' } },
      { seq: 2, runId: 'r1', type: 'output', body: { runId: 'r1', node: 'web-1', stream: 'stdout', data: 'héllo "quoted"\n' } },
      { seq: 3, runId: null, type: 'done', body: { taskId, status: 'succeeded', counts: { succeeded: 1 }, stopReason: null } },
    ];
    for (const e of old) {
      await conn.execute('insert into `task_events` (`task_id`, `seq`, `run_id`, `type`, `body`) values (?, ?, ?, ?, ?)', [taskId, e.seq, e.runId, e.type, JSON.stringify(e.body)]);
    }
    await migrate();
    const read = await readEvents(orm.em.fork(), taskId, { after: 0, limit: 100 });
    assert.equal(read, old.map((e) => ({ ...e.body, type: e.type, seq: e.seq })));
    assert.is(await nextEventSeq(orm.em.fork(), taskId), 4);
  }));

  test.run();
}
