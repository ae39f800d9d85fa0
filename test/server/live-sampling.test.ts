// Sampling follows watchers, on a real database with fake host streams: SetSampling on a node's
// first watcher and after a reconnect, renewals within the TTL, the release after the last
// watcher left (debounced), a client that vanishes releasing its watch, and the history storing
// one sample per window while every sample still reaches the watchers.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connect } from 'node:net';
import type { ManagerMessage } from '../../proto/hostlink.js';
import { MetricSample } from '../../server/modules/nodes/metric-sample.entity.js';
import { openLive, type LiveClient } from '../helpers/live-stream.js';
import { DB_KINDS, makeHarness, until, type FakeSession, type Harness } from './harness.js';

const settings = (s: FakeSession) => s.sent.flatMap((m: ManagerMessage) => (m.setSampling ? [m.setSampling] : []));

function sample(cpuPercent: number) {
  return { atMs: Date.now(), cpuPercent, memUsedBytes: 1e9, memTotalBytes: 4e9, load1: 0.5, load5: 0.4, load15: 0.3, disks: [], netRxBytes: 1000, netTxBytes: 42 };
}

for (const kind of DB_KINDS) {
  const test = suite<{ h: Harness; url: string; open: LiveClient[] }>(`live sampling on ${kind}`);
  test.before(async (ctx) => {
    ctx.h = await makeHarness(kind, { nodes: { ttlSeconds: 2, releaseDelayMs: 2000, tickMs: 50 } });
    ctx.url = await ctx.h.app.listen({ host: '127.0.0.1', port: 0 });
    ctx.open = [];
  });
  test.after.each((ctx) => { for (const c of ctx.open.splice(0)) c.close(); });
  test.after(async (ctx) => { await ctx.h?.close(); });

  const watch = async (ctx: { url: string; h: Harness; open: LiveClient[] }, query: string) => {
    const client = await openLive(ctx.url, ctx.h.token, query);
    ctx.open.push(client);
    await client.next('snapshot', (e) => e.type === 'snapshot');
    return client;
  };

  test('the first watcher speeds the host up, renewals follow within the TTL, the last one leaving slows it down', async (ctx) => {
    const { h } = ctx;
    const id = await h.enroll('s-1');
    const session = await h.connect(id, 's-1');
    assert.equal(settings(session), [], 'nobody watches yet');
    const first = await watch(ctx, 'names=s-1');
    await until('SetSampling', () => settings(session).length > 0);
    assert.equal(settings(session)[0], { intervalSeconds: 2, ttlSeconds: 2 });
    const second = await watch(ctx, 'names=s-*');
    // Renewed every ttl/2 (1 s): wait for two renewals, which the second watcher did not add to.
    await until('two renewals', () => settings(session).length >= 3, 10_000);
    assert.ok(settings(session).every((s) => s.intervalSeconds === 2));
    first.close();
    second.close();
    await until('back to the configured interval', () => settings(session).at(-1)?.intervalSeconds === 0, 10_000);
    assert.is(h.services.liveHub.isWatched(id), false);
  });

  test('a watcher that leaves and another that comes within the release delay cost no message', async (ctx) => {
    const { h } = ctx;
    const id = await h.enroll('s-2');
    const session = await h.connect(id, 's-2');
    const a = await watch(ctx, 'names=s-2');
    await until('SetSampling', () => settings(session).length === 1);
    a.close();
    await until('the watch released', () => !h.services.liveHub.isWatched(id));
    await watch(ctx, 'names=s-2');
    await until('watched again', () => h.services.liveHub.isWatched(id));
    assert.ok(settings(session).every((s) => s.intervalSeconds === 2), JSON.stringify(settings(session)));
  });

  test('a host that reconnects while watched is told again after its welcome', async (ctx) => {
    const { h } = ctx;
    const id = await h.enroll('s-3');
    await h.connect(id, 's-3');
    await watch(ctx, 'names=s-3');
    const again = await h.connect(id, 's-3');
    assert.equal(settings(again)[0], { intervalSeconds: 2, ttlSeconds: 2 });
  });

  test('a client that vanishes (socket destroyed) releases its watch', async (ctx) => {
    const { h, url } = ctx;
    const id = await h.enroll('s-4');
    const session = await h.connect(id, 's-4');
    const socket = connect(Number(new URL(url).port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`GET /api/v1/nodes/live?names=s-4 HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${h.token}\r\n\r\n`);
    await until('watched', () => h.services.liveHub.isWatched(id));
    socket.destroy();
    await until('released', () => !h.services.liveHub.isWatched(id));
    await until('told to slow down', () => settings(session).at(-1)?.intervalSeconds === 0);
  });

  test('while watched the history keeps one sample per window; every sample reaches the watcher', async (ctx) => {
    const { h } = ctx;
    const id = await h.enroll('s-5');
    await h.connect(id, 's-5');
    await h.services.hostLink.onMetrics(id, sample(1));
    await h.services.nodes.reports.flush();
    const live = await watch(ctx, 'names=s-5');
    for (let i = 2; i <= 6; i++) await h.services.hostLink.onMetrics(id, sample(i));
    await h.services.nodes.reports.flush();
    await live.next('the last sample', (e) => e.type === 'sample' && e.data.metrics.cpuPercent === 6);
    assert.equal(live.events.filter((e) => e.type === 'sample').map((e) => e.data.metrics.cpuPercent), [2, 3, 4, 5, 6]);
    // The one from before the watch; the five after fall within hostlink.metricsSeconds (60 s) of it.
    assert.is(await h.orm.em.fork().count(MetricSample, { node: id }), 1);
    live.close();
    await until('released', () => !h.services.liveHub.isWatched(id));
    await h.services.hostLink.onMetrics(id, sample(7));
    await h.services.nodes.reports.flush();
    assert.is(await h.orm.em.fork().count(MetricSample, { node: id }), 2, 'unwatched: stored as before');
  });

  test.run();
}
