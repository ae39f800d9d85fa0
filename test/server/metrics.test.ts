// Metrics history on a real database: samples in → 1m/1h rollups (min/avg/max, rates from counters
// with a reset), the query's choice of series, bad input, and retention deleting in batches.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { MetricsHistory } from '../../proto/rest/metrics.js';
import { figuresOf, MetricRollup } from '../../server/modules/metrics/metric-rollup.entity.js';
import { RollupWriter } from '../../server/modules/metrics/rollups.js';
import type { MetricName } from '../../server/modules/metrics/values.js';
import { MetricSample } from '../../server/modules/nodes/metric-sample.entity.js';
import { DB_KINDS, makeHarness, type Harness } from './harness.js';

const HOUR = 3600_000;
const MIN = 60_000;

function sample(atMs: number, cpuPercent: number, netRxBytes: number, netTxBytes = 0) {
  return {
    atMs, cpuPercent, memUsedBytes: 1e9, memTotalBytes: 4e9, load1: cpuPercent / 10, load5: 0, load15: 0,
    disks: [{ mount: '/', sizeBytes: 1e11, usedBytes: 2e10 }, { mount: '/var', sizeBytes: 1e10, usedBytes: 9e9 }],
    netRxBytes, netTxBytes,
  };
}

async function rollup(h: Harness, nodeId: string, stepSeconds: number, metric: MetricName, at: number) {
  const row = await h.orm.em.fork().findOne(MetricRollup, { node: nodeId, stepSeconds, at: new Date(at) });
  return row && figuresOf(row, metric);
}

for (const kind of DB_KINDS) {
  const test = suite<{ h: Harness; id: string; t0: number }>(`metrics history on ${kind}`);
  test.before(async (ctx) => {
    ctx.h = await makeHarness(kind, { metrics: { deleteBatch: 3, pruneEveryMs: 3600_000 } });
    ctx.id = await ctx.h.enroll('m-1', {}, ['web']);
    // Two hours back, on an hour boundary: the three samples share an hour bucket and span two minutes.
    ctx.t0 = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
    const { h, id, t0 } = ctx;
    await h.services.hostLink.onMetrics(id, sample(t0, 10, 1000, 500));
    await h.services.hostLink.onMetrics(id, sample(t0 + 20_000, 30, 3000, 700));
    // The rx counter went back (interface reset): the 40 s delta is the new value, 600 B.
    await h.services.hostLink.onMetrics(id, sample(t0 + 60_000, 50, 600, 1500));
    await h.services.nodes.reports.flush();
  });
  test.after(async (ctx) => { await ctx.h?.close(); });

  test('samples in: 1m and 1h buckets keep min, max, sum and count', async ({ h, id, t0 }) => {
    assert.equal(await rollup(h, id, 60, 'cpu', t0), { min: 10, max: 30, sum: 40, count: 2 });
    assert.equal(await rollup(h, id, 60, 'cpu', t0 + MIN), { min: 50, max: 50, sum: 50, count: 1 });
    assert.equal(await rollup(h, id, 3600, 'cpu', t0), { min: 10, max: 50, sum: 90, count: 3 });
    assert.equal(await rollup(h, id, 60, 'mem', t0), { min: 25, max: 25, sum: 50, count: 2 });
    // The busiest disk: /var at 90 %, not / at 20 %.
    assert.equal(await rollup(h, id, 3600, 'disk', t0), { min: 90, max: 90, sum: 270, count: 3 });
    assert.equal(await rollup(h, id, 3600, 'load1', t0), { min: 1, max: 5, sum: 9, count: 3 });
  });

  test('network rates come from counter deltas; a counter reset counts from 0', async ({ h, id, t0 }) => {
    // The first sample has nothing to diff against: one rate in the first minute.
    assert.equal(await rollup(h, id, 60, 'netRx', t0), { min: 100, max: 100, sum: 100, count: 1 });
    assert.equal(await rollup(h, id, 60, 'netRx', t0 + MIN), { min: 15, max: 15, sum: 15, count: 1 });
    assert.equal(await rollup(h, id, 3600, 'netTx', t0), { min: 10, max: 20, sum: 30, count: 2 });
  });

  test('the query picks raw, 1m or 1h by since and step and returns min/avg/max points', async ({ h, t0 }) => {
    const get = async (qs: string) => {
      const r = await h.api<MetricsHistory>('GET', `/nodes/m-1/metrics?${qs}`);
      assert.is(r.status, 200, JSON.stringify(r.body));
      return r.body.data;
    };
    const raw = await get('since=3h&step=10s&metric=cpu');
    assert.is(raw.source, 'raw');
    assert.equal(raw.metrics.map((m) => m.metric), ['cpu']);
    assert.equal(raw.metrics[0].points.map((p) => [p.at, p.avg]), [
      [new Date(t0).toISOString(), 10], [new Date(t0 + 20_000).toISOString(), 30], [new Date(t0 + MIN).toISOString(), 50],
    ]);
    const minute = await get('since=3h');
    assert.is(minute.source, '1m');
    assert.is(minute.stepSeconds, 60);
    assert.equal(minute.metrics.map((m) => m.metric), ['cpu', 'mem', 'load1', 'disk', 'netRx', 'netTx']);
    assert.equal(minute.metrics[0].points[0], { at: new Date(t0).toISOString(), min: 10, avg: 20, max: 30 });
    const hourly = await get('since=3h&step=1h&metric=cpu');
    assert.is(hourly.source, '1h');
    assert.equal(hourly.metrics[0].points, [{ at: new Date(t0).toISOString(), min: 10, avg: 30, max: 50 }]);
    // 7 days: too many minutes for a chart, so hourly points.
    const week = await get('since=7d&metric=netRx');
    assert.is(week.source, '1h');
    assert.equal(week.metrics[0].points, [{ at: new Date(t0).toISOString(), min: 15, avg: 57.5, max: 100 }]);
    // Older than raw retention (48h): minutes even for a short step.
    const days = await get('since=3d&step=5m&metric=cpu');
    assert.is(days.source, '1m');
    const iso = await get(`since=${encodeURIComponent(new Date(t0 - MIN).toISOString())}&step=2m&metric=cpu`);
    assert.equal(iso.metrics[0].points, [{ at: new Date(t0).toISOString(), min: 10, avg: 30, max: 50 }]);
  });

  test('bad input is refused with a clear message', async ({ h }) => {
    const bad = async (qs: string, status: number, message: RegExp) => {
      const r = await h.api('GET', `/nodes/m-1/metrics?${qs}`);
      assert.is(r.status, status, qs);
      assert.match(r.body.message, message);
    };
    await bad(`since=${new Date(Date.now() + HOUR).toISOString()}`, 400, /is not in the past/);
    await bad('since=400d', 400, /beyond the longest retention \(365d\)/);
    await bad('since=yesterday', 400, /must be a duration \(6h, 7d\) or an ISO time/);
    await bad('metric=bogus', 400, /unknown metric "bogus": use one of cpu, mem, load1, disk, netRx, netTx/);
    await bad('step=abc', 400, /step "abc" must be a duration longer than 0/);
    await bad('step=0', 400, /step "0" must be a duration longer than 0/);
    await bad('since=1h&step=2h', 400, /longer than the span/);
    await bad('since=60d&step=1m', 400, /kept per 1h, so step must be a multiple of 1h/);
    const missing = await h.api('GET', '/nodes/nope/metrics');
    assert.is(missing.status, 404);
    assert.match(missing.body.message, /node "nope" not found/);
    // Outside the caller's scope reads as missing too.
    const db = await h.user('dbviewer', 'viewer', ['db']);
    assert.is((await h.api('GET', '/nodes/m-1/metrics', undefined, db)).status, 404);
    const web = await h.user('webviewer', 'viewer', ['web']);
    assert.is((await h.api('GET', '/nodes/m-1/metrics', undefined, web)).status, 200);
  });

  test('retention deletes expired raw samples and rollups in bounded batches', async ({ h }) => {
    const id = await h.enroll('m-old');
    const now = Date.now();
    for (let i = 0; i < 10; i++) await h.services.hostLink.onMetrics(id, sample(now - 72 * HOUR + i * MIN, 5, 0));
    await h.services.hostLink.onMetrics(id, sample(now - 40 * 24 * HOUR, 5, 0));
    await h.services.nodes.reports.flush();
    const em = () => h.orm.em.fork();
    assert.is(await em().count(MetricSample, { node: id }), 11);
    const result = await h.services.metrics.prune(new Date(now));
    assert.ok(result.raw >= 11);
    // Batches of 3: at least four statements for the eleven raw rows alone.
    assert.ok(result.statements >= 4 + 1, `statements ${result.statements}`);
    assert.is(await em().count(MetricSample, { node: id }), 0);
    // The 40-day-old minute rollups are gone, its hour rollups (kept a year) and the 3-day-old minutes stay.
    assert.is(await em().count(MetricRollup, { node: id, stepSeconds: 60, at: { $lt: new Date(now - 30 * 24 * HOUR) } }), 0);
    assert.ok(await em().count(MetricRollup, { node: id, stepSeconds: 3600, at: { $lt: new Date(now - 30 * 24 * HOUR) } }) > 0);
    assert.ok(await em().count(MetricRollup, { node: id, stepSeconds: 60 }) > 0);
    // The recent samples of m-1 are untouched.
    assert.is(await em().count(MetricSample, { node: { name: 'm-1' } }), 3);
  });

  test('a batch whose transaction is run again (a deadlock\'s victim) gets the rates it got the first time', async ({ h }) => {
    const id = await h.enroll('m-retry');
    const rollups = new RollupWriter();
    const t = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;
    const stored = (atMs: number, netRxBytes: number) => {
      const { atMs: _, ...m } = sample(atMs, 5, netRxBytes);
      return { nodeId: id, metrics: { ...m, at: new Date(atMs).toISOString() }, at: new Date(atMs) };
    };
    await h.orm.em.fork().transactional((tx) => rollups.record(tx, [stored(t, 1000)]));
    const next = [stored(t + MIN, 4000)];
    const lost = await h.orm.em.fork().transactional(async (tx) => {
      await rollups.record(tx, next);
      throw new Error('deadlock victim');
    }).catch((err: Error) => err.message);
    assert.is(lost, 'deadlock victim');
    await h.orm.em.fork().transactional((tx) => rollups.record(tx, next));
    // 3,000 B in 60 s, once: the rolled-back attempt left nothing.
    assert.equal(await rollup(h, id, 60, 'netRx', t + MIN), { min: 50, max: 50, sum: 50, count: 1 });
    assert.is((await rollup(h, id, 60, 'cpu', t + MIN))?.count, 1);
  });

  test.run();
}
