// The `opsctl top` screen rendered by Ink into ink-testing-library at 80×24, fed by an in-memory
// event source (the screen's input, standing in for the manager's stream) and driven by keys.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EventEmitter } from 'node:events';
import { createElement } from 'react';
import { render as inkRender } from 'ink';
import { render } from 'ink-testing-library';
import type { MetricsHistory } from '../../proto/rest/metrics.js';
import type { Metrics } from '../../proto/rest/nodes.js';
import type { TaskSummary } from '../../proto/rest/tasks.js';
import { App } from '../../cli/lib/top/App.js';
import type { DetailSource } from '../../cli/lib/top/detail-source.js';
import type { FeedEvent, FeedSource, LiveNode } from '../../cli/lib/top/live.js';

class MemoryFeed implements FeedSource {
  readonly listeners = new Set<(ev: FeedEvent) => void>();
  subscribe(listener: (ev: FeedEvent) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }
  emit(ev: FeedEvent): void { for (const l of this.listeners) l(ev); }
}

const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

function metrics(s: number, cpu: number, mem = 25): Metrics {
  return {
    at: at(s), cpuPercent: cpu, memUsedBytes: mem, memTotalBytes: 100, load1: cpu / 50, load5: 0, load15: 0,
    disks: [{ mount: '/', sizeBytes: 100, usedBytes: 40 }], netRxBytes: 1024 * s, netTxBytes: 0,
  };
}

function node(name: string, cpu: number, labels: Record<string, string> = {}, mem = 25): LiveNode {
  return {
    id: name, name, status: 'online', os: 'linux', address: `10.0.0.${name.length}`, agentVersion: '1', agentStatus: 'running', hostdVersion: '1', pendingApproval: false, hostLabels: {},
    labels, groups: ['g1'], lastSeenAt: at(0), enrolledAt: at(0), metrics: metrics(0, cpu, mem),
  };
}

const NODES = [
  node('web-1', 30, { env: 'prod', role: 'web' }, 70),
  node('web-2', 80, { env: 'prod', role: 'web' }, 10),
  node('db-1', 55, { env: 'prod', role: 'db' }, 90),
  node('lab-1', 5, { env: 'dev' }, 40),
];

const TASK: TaskSummary = {
  id: 'a1b2c3d4e5f6', status: 'succeeded', kind: 'script', script: 'uptime', interpreter: 'sh', params: null, timeoutSeconds: 60, env: {},
  createdBy: 'admin', createdAt: new Date().toISOString(), finishedAt: null,
  counts: { total: 1, succeeded: 1, failed: 0, pending: 0, skipped: 0, queued: 0 }, rollout: null, queueExpiresAt: null, stopReason: null,
} as unknown as TaskSummary;

function history(name: string): MetricsHistory {
  const points = (f: (i: number) => number) => Array.from({ length: 30 }, (_, i) => ({ at: at(i * 30), min: f(i), avg: f(i), max: f(i) }));
  return {
    node: name, since: at(0), stepSeconds: 30, source: 'raw',
    metrics: [
      { metric: 'cpu', unit: '%', points: points((i) => i * 3) },
      { metric: 'mem', unit: '%', points: points(() => 50) },
      { metric: 'load1', unit: '', points: points((i) => i / 10) },
      { metric: 'disk', unit: '%', points: points(() => 40) },
      { metric: 'netRx', unit: 'B/s', points: points((i) => i * 1000) },
      { metric: 'netTx', unit: 'B/s', points: points(() => 0) },
    ],
  };
}

const detail: DetailSource & { asked: string[] } = {
  asked: [],
  async history(name) { this.asked.push(name); return history(name); },
  async tasks() { return [TASK]; },
};

const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

function start() {
  const feed = new MemoryFeed();
  const app = render(createElement(App, { feed, detail, manager: 'http://127.0.0.1:8440', size: { columns: 80, rows: 24 }, flushMs: 0 }));
  const frame = () => strip(app.lastFrame() ?? '');
  return { feed, app, frame };
}

/** Polls the frame until `ok` holds or the deadline passes (Ink redraws asynchronously). */
async function until(frame: () => string, ok: (f: string) => boolean, what: string, ms = 3000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const f = frame();
    if (ok(f)) return f;
    if (Date.now() > deadline) throw new Error(`${what}; last frame:\n${f}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const names = (f: string) => f.split('\n').map((l) => /^(web-1|web-2|db-1|lab-1)\b/.exec(l)?.[1]).filter(Boolean);

function fits(f: string): void {
  const lines = f.split('\n');
  assert.ok(lines.length <= 24, `${lines.length} lines`);
  for (const line of lines) assert.ok(line.length <= 80, `${line.length} columns: ${line}`);
}

test('waits for the manager, then shows one row per node, busiest CPU first, within 80×24', async () => {
  const { feed, app, frame } = start();
  try {
    assert.match(frame(), /Waiting for the manager/);
    feed.emit({ type: 'connection', connection: { state: 'live' } });
    feed.emit({ type: 'snapshot', nodes: NODES });
    const f = await until(frame, (x) => x.includes('web-2'), 'rows never showed');
    assert.equal(names(f), ['web-2', 'db-1', 'web-1', 'lab-1']);
    assert.match(f, /^127.0.0.1:8440  4 nodes: 4 online, 0 degraded, 0 offline/);
    assert.match(f, /NAME\s+STATUS\s+CPU%▼\s+MEM%\s+LOAD\s+DISK%\s+RX\/s\s+TX\/s\s+CPU/);
    assert.match(f, /web-2\s+online\s+80\.0\s+10\.0\s+1\.60\s+40\.0\s+–\s+–/);
    assert.match(f, /^live/m);
    fits(f);
  } finally { app.unmount(); }
});

test('samples update figures and network rates; status and removed events show', async () => {
  const { feed, app, frame } = start();
  try {
    feed.emit({ type: 'snapshot', nodes: NODES });
    feed.emit({ type: 'sample', node: 'lab-1', metrics: metrics(2, 99) });
    let f = await until(frame, (x) => /lab-1\s+online\s+99\.0/.test(x), 'the sample never showed');
    assert.match(f, /lab-1 .* 1\.0 KiB\s+0 B/);
    assert.equal(names(f)[0], 'lab-1');
    feed.emit({ type: 'status', node: 'db-1', status: 'offline' });
    feed.emit({ type: 'removed', node: 'web-1' });
    f = await until(frame, (x) => /db-1\s+offline/.test(x) && !x.includes('web-1'), 'status/removed never showed');
    assert.match(f, /3 nodes: 2 online, 0 degraded, 1 offline/);
    feed.emit({ type: 'connection', connection: { state: 'reconnecting', reason: 'connection refused', retryAt: Date.now() + 1000, attempt: 2 } });
    f = await until(frame, (x) => x.includes('reconnecting'), 'the reconnection never showed');
    assert.match(f, /reconnecting: connection refused \(attempt 2\)/);
    assert.match(f, /db-1/, 'the rows stay while reconnecting');
  } finally { app.unmount(); }
});

test('keys sort by column, and the same key again reverses', async () => {
  const { feed, app, frame } = start();
  try {
    feed.emit({ type: 'snapshot', nodes: NODES });
    await until(frame, (x) => x.includes('web-2'), 'rows never showed');
    app.stdin.write('n');
    let f = await until(frame, (x) => x.includes('NAME▼'), 'name sort never showed');
    assert.equal(names(f), ['db-1', 'lab-1', 'web-1', 'web-2']);
    app.stdin.write('n');
    f = await until(frame, (x) => x.includes('NAME▲'), 'reversed name sort never showed');
    assert.equal(names(f), ['web-2', 'web-1', 'lab-1', 'db-1']);
    app.stdin.write('m');
    f = await until(frame, (x) => x.includes('MEM%▼'), 'memory sort never showed');
    assert.equal(names(f), ['db-1', 'web-1', 'lab-1', 'web-2']);
    app.stdin.write('\x1b[C');
    f = await until(frame, (x) => x.includes('LOAD▼'), '→ never moved the sort column');
    assert.equal(names(f), ['web-2', 'db-1', 'web-1', 'lab-1']);
    fits(f);
  } finally { app.unmount(); }
});

test('/ filters by name or label; Enter keeps the filter, Esc clears it', async () => {
  const { feed, app, frame } = start();
  try {
    feed.emit({ type: 'snapshot', nodes: NODES });
    await until(frame, (x) => x.includes('web-2'), 'rows never showed');
    // Typed faster than a redraw, the keys come as one string.
    app.stdin.write('/web');
    let f = await until(frame, (x) => x.includes('filter: /web'), 'the filter prompt never showed');
    assert.equal(names(f), ['web-2', 'web-1']);
    app.stdin.write('\r');
    f = await until(frame, (x) => x.includes('(2 of 4; Esc clears)'), 'the kept filter never showed');
    // Keys sort again once the filter is kept.
    app.stdin.write('n');
    f = await until(frame, (x) => x.includes('NAME▼'), 'name sort never showed');
    assert.equal(names(f), ['web-1', 'web-2']);
    app.stdin.write('\x1b');
    f = await until(frame, (x) => names(x).length === 4, 'Esc never cleared the filter');
    app.stdin.write('/');
    for (const ch of 'env=dev') app.stdin.write(ch);
    f = await until(frame, (x) => x.includes('filter: /env=dev'), 'label filter never showed');
    assert.equal(names(f), ['lab-1']);
    app.stdin.write('\x7f');
    app.stdin.write('x');
    f = await until(frame, (x) => x.includes('filter: /env=dex'), 'backspace never edited the filter');
    assert.match(f, /No node matches "env=dex"/);
    fits(f);
  } finally { app.unmount(); }
});

test('↓ and Enter open the selected node\'s detail with sparklines and recent tasks; Esc goes back', async () => {
  const { feed, app, frame } = start();
  try {
    feed.emit({ type: 'snapshot', nodes: NODES });
    await until(frame, (x) => x.includes('web-2'), 'rows never showed');
    app.stdin.write('\x1b[B');
    await new Promise((r) => setTimeout(r, 50));
    app.stdin.write('\r');
    let f = await until(frame, (x) => x.includes('Recent tasks') && x.includes('a1b2c3d4'), 'the detail never showed');
    assert.equal(detail.asked.at(-1), 'db-1');
    assert.match(f, /^db-1  online  linux/m);
    assert.match(f, /labels env=prod,role=db\s+groups g1/);
    assert.match(f, /^CPU\s+55\.0 %\s+[▁▂▃▄▅▆▇█]{10,}/m);
    assert.match(f, /^Net rx\s+–\s+[▁▂▃▄▅▆▇█]+/m);
    assert.match(f, /a1b2c3d4\s+succeeded\s+\d+s ago\s+uptime/);
    fits(f);
    app.stdin.write('\x1b');
    f = await until(frame, (x) => x.includes('NAME'), 'Esc never went back');
    assert.equal(names(f).length, 4);
  } finally { app.unmount(); }
});

test('many nodes: the table scrolls with the selection and every line fits', async () => {
  const { feed, app, frame } = start();
  try {
    const many = Array.from({ length: 40 }, (_, i) => node(`node-${String(i).padStart(2, '0')}`, 0));
    feed.emit({ type: 'snapshot', nodes: many });
    app.stdin.write('n');
    let f = await until(frame, (x) => x.includes('NAME▼'), 'rows never showed');
    assert.match(f, /node-00/);
    assert.not.match(f, /node-39/);
    for (let i = 0; i < 39; i++) app.stdin.write('\x1b[B');
    f = await until(frame, (x) => x.includes('node-39'), 'the table never scrolled');
    assert.not.match(f, /node-00/);
    fits(f);
  } finally { app.unmount(); }
});

test('q quits: the app unmounts and lets go of the feed', async () => {
  const { feed, app, frame } = start();
  feed.emit({ type: 'snapshot', nodes: NODES });
  await until(frame, (x) => x.includes('web-2'), 'rows never showed');
  assert.is(feed.listeners.size, 1);
  app.stdin.write('q');
  const deadline = Date.now() + 3000;
  while (feed.listeners.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.is(feed.listeners.size, 0, 'still subscribed after q');
});

/** Streams for Ink's own render, to see it exit (ink-testing-library does not expose waitUntilExit). */
class FakeStdin extends EventEmitter {
  isTTY = true;
  private data: string | null = null;
  write(data: string) { this.data = data; this.emit('readable'); this.emit('data', data); }
  read() { const d = this.data; this.data = null; return d; }
  setEncoding() {}
  setRawMode() {}
  resume() {}
  pause() {}
  ref() {}
  unref() {}
}
class FakeStdout extends EventEmitter {
  columns = 80;
  rows = 24;
  last = '';
  write = (frame: string) => { this.last = frame; return true; };
}

test('a drawing bug shows its message in the error boundary, and q still quits (with the error)', async () => {
  const feed = new MemoryFeed();
  const stdin = new FakeStdin();
  const stdout = new FakeStdout();
  const quiet = console.error;
  // React reports the error it caught; the screen is what matters here.
  console.error = () => {};
  const instance = inkRender(createElement(App, { feed, detail, manager: 'm', flushMs: 0 }), {
    stdin: stdin as unknown as NodeJS.ReadStream, stdout: stdout as unknown as NodeJS.WriteStream, debug: true, exitOnCtrlC: false, patchConsole: false,
  });
  try {
    feed.emit({ type: 'snapshot', nodes: [{ ...NODES[0], groups: null as unknown as string[] }] });
    await until(() => strip(stdout.last), (x) => x.includes('web-1'), 'rows never showed');
    stdin.write('\r');
    await until(() => strip(stdout.last), (x) => x.includes('opsctl top failed to draw'), 'the boundary never showed');
    const exited = instance.waitUntilExit().then(() => 'no error', (err: Error) => err.message);
    // The boundary's key handler is registered in an effect, which runs after the frame is drawn:
    // a key sent in between would reach the table's handler, still subscribed. No person types that fast.
    await new Promise((r) => setTimeout(r, 100));
    stdin.write('q');
    const ended = await exited;
    assert.match(ended, /null|undefined|join/, ended);
  } finally {
    console.error = quiet;
    instance.unmount();
  }
});

test.run();
