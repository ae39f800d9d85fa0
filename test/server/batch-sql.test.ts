// The hot path's batched statements on a real database: rows given the same values share one
// statement (SQLite: `id in (…)`), rows with their own values get theirs, and the rows not named
// are left alone; hosts connecting at once are written in gathered batches.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { batchUpdate, executeAll, toDatabase } from '../../server/db/batch-sql.js';
import { Node } from '../../server/modules/nodes/node.entity.js';
import { DB_KINDS, FakeSession, hello, makeHarness, type Harness } from './harness.js';

for (const kind of DB_KINDS) {
  const test = suite<{ h: Harness; ids: string[] }>(`batched statements on ${kind}`);
  test.before(async (ctx) => {
    ctx.h = await makeHarness(kind);
    ctx.ids = [];
    for (let i = 0; i < 30; i++) ctx.ids.push(await ctx.h.enroll(`batch-${String(i).padStart(2, '0')}`));
  });
  test.after(async (ctx) => { await ctx.h?.close(); });

  test('shared values and own values in one batch; other rows untouched', async ({ h, ids }) => {
    const em = h.orm.em.fork();
    const at = new Date('2026-01-02T03:04:05.678Z');
    const changes = new Map<string, Record<string, unknown>>();
    // 20 rows with the same new values, 5 with their own, 5 not named.
    for (const id of ids.slice(0, 20)) changes.set(id, { agentVersion: 'shared', lastSeenAt: toDatabase(em, Node.name, 'lastSeenAt', at) });
    ids.slice(20, 25).forEach((id, i) => changes.set(id, { agentVersion: `own-${i}`, lastSeenAt: toDatabase(em, Node.name, 'lastSeenAt', at) }));
    const statements = batchUpdate(em, Node.name, changes);
    if (kind === 'sqlite') assert.ok(statements.some((s) => s.sql.includes(' in (')), 'the shared rows go in one statement');
    await em.transactional((tx) => executeAll(tx, statements));
    const rows = await h.orm.em.fork().find(Node, { id: { $in: ids } }, { orderBy: { name: 'asc' } });
    rows.slice(0, 20).forEach((n) => { assert.is(n.agentVersion, 'shared'); assert.equal(n.lastSeenAt, at); });
    rows.slice(20, 25).forEach((n, i) => assert.is(n.agentVersion, `own-${i}`));
    rows.slice(25).forEach((n) => assert.is.not(n.agentVersion, 'shared'));
  });

  test('a batch that starts with rows of their own values: every row stored, shared ones too', async ({ h, ids }) => {
    const em = h.orm.em.fork();
    const changes = new Map<string, Record<string, unknown>>();
    ids.slice(0, 3).forEach((id, i) => changes.set(id, { agentVersion: `first-${i}` }));
    for (const id of ids.slice(3, 20)) changes.set(id, { agentVersion: 'later-shared' });
    await em.transactional((tx) => executeAll(tx, batchUpdate(tx, Node.name, changes)));
    const rows = await h.orm.em.fork().find(Node, { id: { $in: ids.slice(0, 20) } }, { orderBy: { name: 'asc' } });
    rows.slice(0, 3).forEach((n, i) => assert.is(n.agentVersion, `first-${i}`));
    rows.slice(3).forEach((n) => assert.is(n.agentVersion, 'later-shared'));
  });

  test('hosts connecting at once: every one stored online with its own facts', async ({ h, ids }) => {
    await Promise.all(ids.map((id, i) => h.services.hostLink.onConnected(
      new FakeSession(id, `batch-${String(i).padStart(2, '0')}`, `10.1.0.${i}`), { ...hello(`batch-${i}`), hostdVersion: `9.9.${i}` },
    )));
    const rows = await h.orm.em.fork().find(Node, { id: { $in: ids } }, { orderBy: { name: 'asc' } });
    rows.forEach((n, i) => {
      assert.is(n.status, 'online');
      assert.is(n.hostdVersion, `9.9.${i}`);
      assert.is(n.address, `10.1.0.${i}`);
      assert.is(n.facts?.hostname, `batch-${i}`);
    });
  });

  test('certificate look-ups made at once: each answered for its own node', async ({ h, ids }) => {
    // The harness records certificate ffff… for every node it enrolls.
    const good = 'f'.repeat(64);
    const found = await Promise.all([
      h.services.nodes.authenticate(ids[0], good), h.services.nodes.authenticate(ids[1], good.toUpperCase()),
      h.services.nodes.authenticate(ids[2], 'e'.repeat(64)), h.services.nodes.authenticate('00000000-0000-0000-0000-000000000000', good),
    ]);
    assert.equal(found, [{ nodeId: ids[0], nodeName: 'batch-00' }, { nodeId: ids[1], nodeName: 'batch-01' }, null, null]);
  });

  test.run();
}
