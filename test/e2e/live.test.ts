// Live metrics end to end: the manager, hostd and agentd as real processes. A live stream gets
// the snapshot and samples every ~2 s although hostd's configured interval is 60 s; when the
// stream closes (or its client vanishes) hostd goes back to 60 s, as its debug log says.
// Needs `npm run build` first (npm test does it).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { waitUntil } from '../hostd/helpers.js';
import { openLive } from '../helpers/live-stream.js';
import { freePorts } from '../helpers/ports.js';

const dataDir = mkdtempSync(join(tmpdir(), 'ops-e2e-live-'));
let stack: LocalStack;

const FASTER = 'sampling metrics faster: someone watches this host live';
const SLOWER = 'sampling metrics at the configured interval again';

/** hostd's log lines (pino JSON) whose message is `msg`. */
function hostdLines(msg: string): Record<string, unknown>[] {
  return readFileSync(join(stack.logDir, 'hostd.log'), 'utf8').split('\n').filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === msg);
}

const until = (what: string, probe: () => boolean) => waitUntil(what, probe, 20_000);

test.before(async () => {
  const [httpPort, grpcPort, agentPort] = await freePorts(3);
  stack = await startLocalStack({ dataDir, httpPort, grpcPort, agentPort, nodeName: 'live-node', logLevel: 'debug' });
});

test.after(async () => {
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('a live stream: snapshot with the node, then samples every ~2 s; closed, hostd goes back to 60 s', async () => {
  const connected = readFileSync(join(stack.logDir, 'hostd.log'), 'utf8').split('\n').find((l) => l.includes('connected to the manager'));
  assert.match(connected ?? '', /"metricsSeconds":60/);
  const live = await openLive(stack.httpUrl, stack.token, 'names=live-*');
  try {
    const snapshot = await live.next('snapshot', (e) => e.type === 'snapshot');
    assert.equal(snapshot.data.nodes.map((n: { name: string }) => n.name), ['live-node']);
    assert.is(snapshot.data.nodes[0].status, 'online');
    // At 60 s, three samples would take two minutes; at 2 s they come within seconds.
    await live.next('three samples', () => live.events.filter((e) => e.type === 'sample').length >= 3, { timeoutMs: 15_000 });
    const samples = live.events.filter((e) => e.type === 'sample');
    assert.ok(samples.every((e) => e.data.node === 'live-node' && e.data.metrics.memTotalBytes > 0));
    const faster = hostdLines(FASTER);
    assert.is(faster.length, 1);
    assert.is(faster[0].intervalSeconds, 2);
  } finally {
    live.close();
  }
  await until('hostd back at its configured interval', () => hostdLines(SLOWER).length === 1);
  assert.is(hostdLines(SLOWER)[0].intervalSeconds, 60);
  assert.is(hostdLines(SLOWER)[0].why, 'the manager says nobody watches');
});

test('a client that vanishes without closing releases its watch too', async () => {
  const socket = connect(Number(new URL(stack.httpUrl).port), '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  let text = '';
  socket.on('data', (d) => { text += d; });
  socket.write(`GET /api/v1/nodes/live HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${stack.token}\r\n\r\n`);
  await until('a sample on the raw socket', () => text.includes('event: sample'));
  await until('hostd sped up again', () => hostdLines(FASTER).length === 2);
  socket.destroy();
  await until('hostd back at its configured interval again', () => hostdLines(SLOWER).length === 2);
});

test.run();
