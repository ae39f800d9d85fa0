// GET /nodes/live on a real database: refusals before the stream starts (bad selector, no
// credentials), the snapshot, samples and status changes, nodes that connect or go later, the
// selector and the caller's scope.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Node } from '../../server/modules/nodes/node.entity.js';
import { openLive, type LiveClient } from '../helpers/live-stream.js';
import { DB_KINDS, makeHarness, type Harness } from './harness.js';

function sample(cpuPercent: number) {
  return { atMs: Date.now(), cpuPercent, memUsedBytes: 1e9, memTotalBytes: 4e9, load1: 0.5, load5: 0.4, load15: 0.3, disks: [{ mount: '/', sizeBytes: 1e11, usedBytes: 5e10 }], netRxBytes: 1000, netTxBytes: 42 };
}

for (const kind of DB_KINDS) {
  const test = suite<{ h: Harness; url: string; web: string; db: string; open: LiveClient[] }>(`live stream on ${kind}`);
  test.before(async (ctx) => {
    ctx.h = await makeHarness(kind);
    ctx.url = await ctx.h.app.listen({ host: '127.0.0.1', port: 0 });
    ctx.web = await ctx.h.enroll('web-1', { env: 'prod' }, ['web']);
    ctx.db = await ctx.h.enroll('db-1', { env: 'prod' }, ['db']);
    await ctx.h.connect(ctx.web, 'web-1');
    await ctx.h.connect(ctx.db, 'db-1');
    await ctx.h.services.hostLink.onMetrics(ctx.web, sample(10));
    ctx.open = [];
  });
  test.after.each((ctx) => { for (const c of ctx.open.splice(0)) c.close(); });
  test.after(async (ctx) => { await ctx.h?.close(); });

  const watch = async (ctx: { url: string; open: LiveClient[] }, token: string, query = '') => {
    const client = await openLive(ctx.url, token, query);
    ctx.open.push(client);
    return client;
  };

  test('a bad selector is 1001 and no credentials 401, as JSON before any stream', async ({ h }) => {
    for (const q of ['labels=env%20in%20(prod', 'names=web%201', 'labels=%3Dprod', 'nope=1']) {
      const r = await h.api('GET', `/nodes/live?${q}`);
      assert.is(r.status, 400, q);
      assert.is(r.body.code, 1001, q);
    }
    assert.match((await h.api('GET', '/nodes/live?labels=env%20in%20(prod')).body.message, /selector: unbalanced/);
    const anonymous = await h.api('GET', '/nodes/live', undefined, null);
    assert.is(anonymous.status, 401);
    assert.is(anonymous.body.code, 1002);
  });

  test('a viewer gets the snapshot, then samples and status changes (each change once)', async (ctx) => {
    const { h, web } = ctx;
    const live = await watch(ctx, await h.user('watcher', 'viewer'));
    const snapshot = await live.next('snapshot', (e) => e.type === 'snapshot');
    assert.is(live.events[0].type, 'snapshot');
    assert.equal(snapshot.data.nodes.map((n: { name: string }) => n.name), ['db-1', 'web-1']);
    const w = snapshot.data.nodes[1];
    assert.is(w.status, 'online');
    assert.equal(w.labels, { env: 'prod' });
    assert.is(w.metrics.cpuPercent, 10);
    assert.is(snapshot.data.nodes[0].metrics, null);

    await h.services.hostLink.onMetrics(web, sample(55));
    const s = await live.next('sample', (e) => e.type === 'sample');
    assert.is(s.data.node, 'web-1');
    assert.is(s.data.metrics.cpuPercent, 55);
    assert.is(s.data.metrics.netRxBytes, 1000);
    assert.equal(Object.keys(s.data).sort(), ['metrics', 'node']);

    // Heartbeats repeat the status: only the change is told.
    const from = live.events.length;
    await h.services.hostLink.onHeartbeat(web, 'healthy', '0.1.0');
    await h.services.hostLink.onHeartbeat(web, 'unhealthy', '0.1.0');
    await h.services.hostLink.onHeartbeat(web, 'unhealthy', '0.1.0');
    await h.services.hostLink.onHeartbeat(web, 'healthy', '0.1.0');
    await live.next('back online', (e) => e.type === 'status' && e.data.status === 'online', { from });
    assert.equal(live.events.slice(from).map((e) => [e.type, e.data.node, e.data.status]), [['status', 'web-1', 'degraded'], ['status', 'web-1', 'online']]);
  });

  test('disconnect, the offline sweep and reconnect are status events', async (ctx) => {
    const { h, db } = ctx;
    const live = await watch(ctx, h.token, 'names=db-*');
    await live.next('snapshot', (e) => e.type === 'snapshot');
    const session = h.sessions.get(db)!;
    await h.services.hostLink.onDisconnected(session);
    await live.next('offline', (e) => e.type === 'status' && e.data.status === 'offline');
    const again = await h.connect(db, 'db-1');
    await live.next('online again', (e) => e.type === 'status' && e.data.status === 'online');
    await h.orm.em.fork().nativeUpdate(Node, { id: db }, { lastSeenAt: new Date(Date.now() - 3600_000) });
    const from = live.events.length;
    assert.is(await h.services.nodes.sweepOffline(), 1);
    await live.next('swept offline', (e) => e.type === 'status' && e.data.status === 'offline', { from });
    assert.ok(live.events.every((e) => e.type === 'snapshot' || e.data.node === 'db-1'), 'only the selected node');
    assert.ok(again);
  });

  test('the selector and the caller\'s scope choose the nodes, also for samples', async (ctx) => {
    const { h, web, db } = ctx;
    const scoped = await watch(ctx, await h.user('web-only', 'viewer', ['web']));
    const byLabel = await watch(ctx, h.token, 'labels=env%3Dprod&groups=db');
    assert.equal((await scoped.next('snapshot', (e) => e.type === 'snapshot')).data.nodes.map((n: { name: string }) => n.name), ['web-1']);
    assert.equal((await byLabel.next('snapshot', (e) => e.type === 'snapshot')).data.nodes.map((n: { name: string }) => n.name), ['db-1']);
    await h.services.hostLink.onMetrics(db, sample(1));
    await h.services.hostLink.onMetrics(web, sample(2));
    await scoped.next('web sample', (e) => e.type === 'sample');
    await byLabel.next('db sample', (e) => e.type === 'sample');
    // Both samples were published before the second one arrived at either: nothing else came.
    assert.equal(scoped.events.filter((e) => e.type === 'sample').map((e) => e.data.node), ['web-1']);
    assert.equal(byLabel.events.filter((e) => e.type === 'sample').map((e) => e.data.node), ['db-1']);
  });

  test('a matching node that enrolls and connects after the snapshot appears; a deleted one goes', async (ctx) => {
    const { h } = ctx;
    const live = await watch(ctx, h.token, 'names=web-*');
    const scoped = await watch(ctx, await h.user('db-only', 'viewer', ['db']));
    await live.next('snapshot', (e) => e.type === 'snapshot');
    await scoped.next('snapshot', (e) => e.type === 'snapshot');
    const id = await h.enroll('web-2', { env: 'dev' }, ['web']);
    await h.connect(id, 'web-2');
    const added = await live.next('node', (e) => e.type === 'node');
    assert.is(added.data.name, 'web-2');
    assert.is(added.data.status, 'online');
    assert.equal(added.data.groups, ['web']);
    assert.ok('metrics' in added.data);
    await h.services.hostLink.onMetrics(id, sample(77));
    assert.is((await live.next('its sample', (e) => e.type === 'sample')).data.node, 'web-2');
    assert.is((await h.api('DELETE', '/nodes/web-2')).status, 200);
    assert.equal((await live.next('removed', (e) => e.type === 'removed')).data, { node: 'web-2' });
    // Outside the db-only user's scope: never told.
    assert.ok(scoped.events.every((e) => e.type === 'snapshot'), JSON.stringify(scoped.events));
  });

  test.run();
}
