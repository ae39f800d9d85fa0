// opsctl top's model without Ink: state from feed events, rates from counters, sorting, filtering,
// and the columns fitting the width.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Metrics } from '../../proto/rest/nodes.js';
import { sparkline } from '../../cli/lib/metrics/chart.js';
import { headerLine, layout, rowLine } from '../../cli/lib/top/columns.js';
import type { LiveNode } from '../../cli/lib/top/live.js';
import { applyEvent, counterRate, emptyState, matchesFilter, sortRows, toRow, visibleRows, CPU_HISTORY, type Row, type TopState } from '../../cli/lib/top/model.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

function metrics(s: number, over: Partial<Metrics> = {}): Metrics {
  return {
    at: at(s), cpuPercent: 10, memUsedBytes: 1, memTotalBytes: 4, load1: 0.5, load5: 0.4, load15: 0.3,
    disks: [{ mount: '/', sizeBytes: 100, usedBytes: 30 }, { mount: '/var', sizeBytes: 200, usedBytes: 180 }],
    netRxBytes: 1000, netTxBytes: 2000, ...over,
  };
}

function node(name: string, over: Partial<LiveNode> = {}): LiveNode {
  return {
    id: name, name, status: 'online', os: 'linux', address: '10.0.0.1', agentVersion: '1', agentStatus: 'running', hostdVersion: '1', pendingApproval: false, hostLabels: {},
    labels: {}, groups: [], lastSeenAt: at(0), enrolledAt: at(0), metrics: metrics(0), ...over,
  };
}

const fold = (...events: Parameters<typeof applyEvent>[1][]): TopState => events.reduce(applyEvent, emptyState());

test('rates come from consecutive counters; the first sample has none', () => {
  let s = fold({ type: 'snapshot', nodes: [node('a')] });
  assert.is(s.nodes.get('a')!.rxRate, null);
  s = applyEvent(s, { type: 'sample', node: 'a', metrics: metrics(2, { netRxBytes: 3000, netTxBytes: 2100 }) });
  assert.is(s.nodes.get('a')!.rxRate, 1000);
  assert.is(s.nodes.get('a')!.txRate, 50);
});

test('a counter going down (reboot) gives no rate, not a negative one', () => {
  assert.is(counterRate(5000, 100, at(0), at(2)), null);
  const s = fold({ type: 'snapshot', nodes: [node('a')] }, { type: 'sample', node: 'a', metrics: metrics(2, { netRxBytes: 10 }) });
  assert.is(s.nodes.get('a')!.rxRate, null);
  assert.is(s.nodes.get('a')!.txRate, 0);
  assert.is(rowLine(layout(80, 1), toRow(s.nodes.get('a')!)).includes('–'), true);
});

test('time not moving forward gives no rate; an older or repeated sample changes nothing', () => {
  assert.is(counterRate(1, 2, at(2), at(2)), null);
  const s = fold({ type: 'snapshot', nodes: [node('a')] }, { type: 'sample', node: 'a', metrics: metrics(4) });
  assert.is(applyEvent(s, { type: 'sample', node: 'a', metrics: metrics(4) }), s);
  assert.is(applyEvent(s, { type: 'sample', node: 'a', metrics: metrics(2) }), s);
});

test('memory and the fullest disk in percent', () => {
  const row = toRow(fold({ type: 'snapshot', nodes: [node('a')] }).nodes.get('a')!);
  assert.is(row.mem, 25);
  assert.is(row.disk, 90);
  const bare = toRow(fold({ type: 'snapshot', nodes: [node('b', { metrics: metrics(0, { memTotalBytes: 0, disks: [] }) })] }).nodes.get('b')!);
  assert.is(bare.mem, null);
  assert.is(bare.disk, null);
});

test('the CPU history is a ring of the last values', () => {
  let s = fold({ type: 'snapshot', nodes: [node('a')] });
  for (let i = 1; i <= CPU_HISTORY + 10; i++) s = applyEvent(s, { type: 'sample', node: 'a', metrics: metrics(i * 2, { cpuPercent: i % 100 }) });
  const h = s.nodes.get('a')!.cpuHistory;
  assert.is(h.length, CPU_HISTORY);
  assert.is(h[h.length - 1], (CPU_HISTORY + 10) % 100);
});

test('status, node and removed events; a reconnection snapshot keeps rates and history', () => {
  let s = fold({ type: 'snapshot', nodes: [node('a'), node('b')] }, { type: 'sample', node: 'a', metrics: metrics(2, { netRxBytes: 3000 }) });
  s = applyEvent(s, { type: 'status', node: 'b', status: 'offline' });
  assert.is(s.nodes.get('b')!.node.status, 'offline');
  s = applyEvent(s, { type: 'node', node: node('c', { metrics: null }) });
  assert.equal([...s.nodes.keys()].sort(), ['a', 'b', 'c']);
  s = applyEvent(s, { type: 'removed', node: 'b' });
  assert.equal([...s.nodes.keys()].sort(), ['a', 'c']);
  s = applyEvent(s, { type: 'snapshot', nodes: [node('a', { metrics: metrics(4, { netRxBytes: 5000 }) })] });
  assert.equal([...s.nodes.keys()], ['a']);
  assert.is(s.nodes.get('a')!.rxRate, 1000);
  assert.is(s.nodes.get('a')!.cpuHistory.length, 3);
  // Events for unknown nodes are ignored.
  assert.is(applyEvent(s, { type: 'sample', node: 'zz', metrics: metrics(9) }), s);
  assert.is(applyEvent(s, { type: 'status', node: 'zz', status: 'online' }), s);
});

const row = (name: string, cpu: number | null, status: Row['status'] = 'online', labels: Record<string, string> = {}): Row =>
  ({ name, status, labels, cpu, mem: cpu, load: cpu, disk: cpu, rx: null, tx: null, cpuHistory: [] });

test('sorting: busiest first, reversed on demand, nodes without figures last either way, names break ties', () => {
  const rows = [row('b', 5), row('a', 50), row('c', null), row('d', 5)];
  assert.equal(sortRows(rows, { key: 'cpu', reverse: false }).map((r) => r.name), ['a', 'b', 'd', 'c']);
  assert.equal(sortRows(rows, { key: 'cpu', reverse: true }).map((r) => r.name), ['b', 'd', 'a', 'c']);
  assert.equal(sortRows(rows, { key: 'name', reverse: false }).map((r) => r.name), ['a', 'b', 'c', 'd']);
  assert.equal(sortRows(rows, { key: 'name', reverse: true }).map((r) => r.name), ['d', 'c', 'b', 'a']);
  const statuses = [row('x', 1, 'online'), row('y', 1, 'offline'), row('z', 1, 'degraded')];
  assert.equal(sortRows(statuses, { key: 'status', reverse: false }).map((r) => r.name), ['y', 'z', 'x']);
});

test('filter: part of the name or of a key=value label, any case', () => {
  const web = row('Web-1', 1, 'online', { env: 'prod', role: 'web' });
  assert.ok(matchesFilter(web, 'web'));
  assert.ok(matchesFilter(web, 'env=prod'));
  assert.ok(matchesFilter(web, 'ROLE=W'));
  assert.ok(matchesFilter(web, ''));
  assert.not.ok(matchesFilter(web, 'env=staging'));
  assert.not.ok(matchesFilter(web, 'db'));
  const s = fold({ type: 'snapshot', nodes: [node('web-1', { labels: { env: 'prod' } }), node('db-1', { labels: { env: 'dev' } })] });
  assert.equal(visibleRows(s, { key: 'name', reverse: false }, 'env=prod').map((r) => r.name), ['web-1']);
  // The host's own labels count too, the operator's winning on the same key.
  const h = fold({ type: 'snapshot', nodes: [node('a', { hostLabels: { rack: 'r1', env: 'prod' }, labels: { env: 'dev' } })] });
  assert.equal(visibleRows(h, { key: 'name', reverse: false }, 'rack=r1').map((r) => r.name), ['a']);
  assert.equal(visibleRows(h, { key: 'name', reverse: false }, 'env=prod').map((r) => r.name), []);
});

test('every line fits the width, from 80 columns down to 40, with long names truncated', () => {
  const s = fold({ type: 'snapshot', nodes: [node('a-very-long-node-name-that-goes-on-and-on.example.com'), node('b')] });
  for (const width of [120, 80, 60, 50, 40]) {
    const l = layout(width, 52);
    const header = headerLine(l, { key: 'cpu', reverse: false });
    assert.ok(header.length <= width, `${width}: ${header}`);
    for (const st of s.nodes.values()) {
      const line = rowLine(l, toRow(st));
      assert.ok(line.length <= width, `${width}: ${line}`);
    }
  }
  const at80 = layout(80, 52);
  assert.ok(at80.spark > 0, 'the sparkline is there at 80 columns');
  assert.is(at80.fixed.length, 7, 'every figure is there at 80 columns');
  assert.is(layout(50, 10).spark, 0, 'the sparkline goes first when narrow');
  assert.match(rowLine(at80, toRow(s.nodes.get('a-very-long-node-name-that-goes-on-and-on.example.com')!)), /^a-very-long-nod…/);
});

test('sparkline: eighths scaled to a maximum, the last values, ASCII when asked', () => {
  assert.is(sparkline([0, 50, 100], 10, { max: 100 }), '▁▄█');
  assert.is(sparkline([0, 25, 50, 100], 2, { max: 100 }), '▄█');
  assert.is(sparkline([1, 2, 3, 4], 2, { squeeze: true }), '▃█');
  assert.is(sparkline([0, 100], 5, { max: 100, unicode: false }), '_#');
  assert.is(sparkline([], 5), '');
});

test.run();
