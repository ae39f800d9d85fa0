// opsctl nodes metrics against a real manager: the chart on a terminal (Unicode blocks) and piped
// (ASCII), --json equal to the API's points, and the manager's refusals passed on.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { MetricsHistory } from '../../proto/rest/metrics.js';
import { enrollHost, startManager, type TestManager } from './manager.js';
import { ConfigHome, ensureBuilt, opsctl, type RunOptions } from './run-opsctl.js';

const home = new ConfigHome();
let m: TestManager;
const run = (args: string[], opts: RunOptions = {}) => opsctl(home, args, { ...opts, env: { OPSCTL_SERVER: m.url, OPSCTL_TOKEN: m.token, ...opts.env } });
const MIN = 60_000;

test.before(async () => {
  ensureBuilt();
  m = await startManager();
  const id = await enrollHost(m, 'chart-1', '10.0.0.31', new Date(Date.now() + 86400_000));
  // An hour of samples, a minute apart: CPU climbing 0 → 59 %, rx at 1 KiB/s.
  const start = Math.floor(Date.now() / MIN) * MIN - 60 * MIN;
  for (let i = 0; i < 60; i++) {
    await m.manager.services.hostLink.onMetrics(id, {
      atMs: start + i * MIN, cpuPercent: i, memUsedBytes: 2e9, memTotalBytes: 8e9, load1: 1, load5: 1, load15: 1,
      disks: [{ mount: '/', sizeBytes: 100e9, usedBytes: 40e9 }], netRxBytes: i * 60 * 1024, netTxBytes: 0,
    });
  }
  await m.manager.services.nodes.reports.flush();
});
test.after(async () => {
  await m?.stop();
  home.remove();
});

test('on a terminal: one block chart per metric with min/avg/max, within 80 columns', async () => {
  const r = await run(['nodes', 'metrics', 'chart-1', '--since', '2h'], { tty: true });
  assert.is(r.code, 0, r.stdout);
  for (const heading of ['CPU  min 0.0 %  avg 29.5 %  max 59.0 %', 'Memory used  min 25.0 %', 'Busiest disk used  min 40.0 %', 'Network received  min 1.0 KiB/s  avg 1.0 KiB/s  max 1.0 KiB/s']) {
    assert.ok(r.stdout.includes(heading), `missing "${heading}" in:\n${r.stdout}`);
  }
  assert.match(r.stdout, /█/);
  assert.match(r.stdout, /^chart-1: since .* \(1m rollups\)$/m);
  for (const line of r.stdout.split('\n')) assert.ok([...line].length <= 80, `too wide: ${line}`);
});

test('piped: the same chart in ASCII', async () => {
  const r = await run(['nodes', 'metrics', 'chart-1', '--since', '2h', '--metric', 'cpu']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /#/);
  assert.ok(/^[\x20-\x7e\n]*$/.test(r.stdout), r.stdout);
  assert.not.match(r.stdout, /Memory/);
});

test('--json: the API points', async () => {
  const r = await run(['nodes', 'metrics', 'chart-1', '--since', '90m', '--step', '30m', '--metric', 'cpu', '--json']);
  assert.is(r.code, 0, r.stderr);
  const history = JSON.parse(r.stdout) as MetricsHistory;
  assert.is(history.source, '1m');
  assert.is(history.stepSeconds, 1800);
  const points = history.metrics[0].points;
  assert.ok(points.length >= 2 && points.length <= 4, JSON.stringify(points));
  assert.is(Math.min(...points.map((p) => p.min)), 0);
  assert.is(Math.max(...points.map((p) => p.max)), 59);
});

test('the manager\'s refusals: exit 1 with its message', async () => {
  const future = await run(['nodes', 'metrics', 'chart-1', '--since', '400d']);
  assert.is(future.code, 1);
  assert.match(future.stderr, /beyond the longest retention \(365d\)/);
  const missing = await run(['nodes', 'metrics', 'nope']);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /node "nope" not found/);
  const metric = await run(['nodes', 'metrics', 'chart-1', '--metric', 'bogus']);
  assert.is.not(metric.code, 0);
  assert.match(metric.stderr, /bogus/);
});

test.run();
