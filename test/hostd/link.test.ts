// The whole host side for real: hostd (built) enrolls with an in-process gateway, starts a real
// agentd, and relays dispatched scripts to it; output and exit come back as task events.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, statSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../helpers/ports.js';
import { startGateway, type TestGateway } from '../hostlink/helpers.js';
import type { BackendRecord } from '../hostlink/memory-backend.js';
import { killAllUnder, startHostd, waitUntil, type HostdRun } from './helpers.js';

let gw: TestGateway;
const root = mkdtempSync(join(tmpdir(), 'ops-hostd-link-'));
const dataDir = join(root, 'hostd');
const runs: HostdRun[] = [];
let nodeId = '';

test.before(async () => {
  gw = await startGateway({ heartbeatSeconds: 1, metricsSeconds: 1 });
  gw.backend.addToken('link-token');
  const [agentPort] = await freePorts(1);
  runs.push(startHostd([
    '--manager', gw.address, '--ca-hash', gw.gateway.caHash(), '--token', 'link-token', '--name', 'link-node',
    '--data-dir', dataDir, '--agent-listen', `127.0.0.1:${agentPort}`, '--log-level', 'debug',
  ], { OPS_AGENT_STOP_ON_EXIT: 'true' }));
  const c = await gw.backend.waitFor('hello', (r) => r.type === 'connected');
  nodeId = c.nodeId;
});

test.after(async () => {
  await killAllUnder(root, runs);
  await gw.close();
  rmSync(root, { recursive: true, force: true });
});

const isTask = (runId: string, kind: string) => (r: BackendRecord) => r.type === 'task' && r.event.runId === runId && r.event.kind === kind;

test('hello carries facts and versions; agent becomes healthy; metrics arrive', async () => {
  const c = gw.backend.records.find((r) => r.type === 'connected')!;
  assert.ok(c.type === 'connected');
  if (c.type !== 'connected') return;
  assert.ok(c.hello.facts.hostname && c.hello.facts.kernel && c.hello.facts.arch && c.hello.facts.os);
  assert.ok(c.hello.facts.cpus >= 1 && c.hello.facts.memoryBytes > 0);
  assert.match(c.hello.hostdVersion, /^\d+\.\d+\.\d+/);
  const hb = await gw.backend.waitFor('healthy heartbeat', (r) => r.type === 'heartbeat' && r.agentStatus === 'healthy');
  assert.ok(hb.type === 'heartbeat' && hb.agentVersion.length > 0);
  const m = await gw.backend.waitFor('metrics', (r) => r.type === 'metrics');
  if (m.type !== 'metrics') return;
  assert.ok(m.sample.memTotalBytes > 0 && m.sample.cpuPercent >= 0 && m.sample.disks.length > 0);
  assert.is(statSync(join(dataDir, 'hostd.sock')).mode & 0o777, 0o600);
  assert.is(statSync(join(dataDir, 'agent-keys.json')).mode & 0o777, 0o600);
  const keys = JSON.parse(readFileSync(join(dataDir, 'agent-keys.json'), 'utf8')) as { keys: { hostd: string } };
  assert.match(keys.keys.hostd, /^[0-9a-f]{64}$/);
});

test('a dispatch runs on the real agentd; started, output and exit come back in order', async () => {
  await gw.backend.waitFor('healthy', (r) => r.type === 'heartbeat' && r.agentStatus === 'healthy');
  assert.ok(gw.gateway.sessions.dispatch(nodeId, {
    runId: 'run-1', taskId: 'task-1', timeoutMs: 10_000, script: { script: 'echo "hello $WHO"; echo oops >&2; exit 3', interpreter: 'sh', env: { WHO: 'world' } },
  }));
  await gw.backend.waitFor('exit of run-1', isTask('run-1', 'exited'));
  const events = gw.backend.taskEvents('run-1');
  assert.is(events[0].kind, 'started');
  assert.ok((events[0].started?.pid ?? 0) > 0);
  const out = events.filter((e) => e.output?.stream === 'stdout').map((e) => e.output!.data).join('');
  const err = events.filter((e) => e.output?.stream === 'stderr').map((e) => e.output!.data).join('');
  assert.is(out, 'hello world\n');
  assert.is(err, 'oops\n');
  const exit = events[events.length - 1].exited!;
  assert.is(exit.exitCode, 3);
  assert.is(exit.status, 'failed');
});

test('task events go up gathered (task_events) when the manager accepts it, every one in order', async () => {
  await gw.backend.waitFor('healthy', (r) => r.type === 'heartbeat' && r.agentStatus === 'healthy');
  const before = gw.gateway.received('taskEvents');
  // Lines a moment apart: separate output events from agentd, well within one batch of each other.
  assert.ok(gw.gateway.sessions.dispatch(nodeId, {
    runId: 'batched-1', taskId: 'task-b', timeoutMs: 20_000, script: { script: 'for i in $(seq 1 30); do echo "line $i"; sleep 0.002; done', interpreter: 'sh', env: {} },
  }));
  await gw.backend.waitFor('exit of batched-1', isTask('batched-1', 'exited'));
  const events = gw.backend.taskEvents('batched-1');
  assert.equal(events.map((e) => Number(e.seq)), events.map((_, i) => i + 1), 'every seq once, in order');
  assert.is(events.filter((e) => e.output).map((e) => e.output!.data).join(''), Array.from({ length: 30 }, (_, i) => `line ${i + 1}\n`).join(''));
  assert.ok(gw.gateway.received('taskEvents') > before, 'some of them shared a message');
});

test('several runs at once all finish', async () => {
  const ids = Array.from({ length: 5 }, (_, i) => `many-${i}`);
  for (const runId of ids) {
    gw.gateway.sessions.dispatch(nodeId, { runId, taskId: 't', timeoutMs: 10_000, script: { script: `sleep 0.3; echo ${runId}`, interpreter: 'sh', env: {} } });
  }
  for (const runId of ids) {
    await gw.backend.waitFor(`exit of ${runId}`, isTask(runId, 'exited'));
    const events = gw.backend.taskEvents(runId);
    assert.is(events.find((e) => e.output)?.output?.data, `${runId}\n`);
    assert.is(events.find((e) => e.exited)?.exited?.status, 'succeeded');
  }
});

test('cancel stops a running script', async () => {
  gw.gateway.sessions.dispatch(nodeId, { runId: 'long-1', taskId: 't', timeoutMs: 60_000, script: { script: 'echo start; sleep 30', interpreter: 'sh', env: {} } });
  await gw.backend.waitFor('output of long-1', isTask('long-1', 'output'));
  assert.ok(gw.gateway.sessions.cancel(nodeId, 'long-1'));
  const exit = await gw.backend.waitFor('exit of long-1', isTask('long-1', 'exited'));
  assert.is(exit.type === 'task' && exit.event.exited?.status, 'cancelled');
});

test('hostd restarts without a token (identity kept) and reconnects', async () => {
  const first = runs[0];
  first.child.kill('SIGTERM');
  const { code } = await first.exit;
  assert.is(code, 0);
  await gw.backend.waitFor('disconnect', (r) => r.type === 'disconnected' && r.nodeId === nodeId);
  const before = gw.backend.records.filter((r) => r.type === 'connected').length;
  const [agentPort] = await freePorts(1);
  runs.push(startHostd(['--data-dir', dataDir, '--agent-listen', `127.0.0.1:${agentPort}`, '--token', 'ignored-now'], { OPS_AGENT_STOP_ON_EXIT: 'true' }));
  await gw.backend.waitFor('second hello', (r) => r.type === 'connected' && gw.backend.records.filter((x) => x.type === 'connected').length > before);
  const again = gw.backend.records.filter((r) => r.type === 'connected').pop()!;
  assert.is(again.nodeId, nodeId, 'same node, same certificate');
});

test('a revoked certificate: the reconnect is refused and hostd logs it as such', async () => {
  const current = runs[runs.length - 1];
  gw.backend.nodes.get(nodeId)!.revoked = true;
  (gw.gateway.sessions.get(nodeId) as unknown as { close(reason: string): void }).close('test: node revoked');
  await waitUntil('the refusal in hostd\'s log', () => /refused this host's certificate \(revoked, deleted or re-enrolled\?\)/.test(current.stdout()));
  assert.match(current.stdout(), /"retryInMs":60000/);
  assert.is(gw.gateway.sessions.get(nodeId), undefined);
});

test('agentd unreachable: the run ends with status error and a message', async () => {
  const dir = join(root, 'no-agent');
  gw.backend.addToken('no-agent-token');
  const [agentPort] = await freePorts(1);
  const cfg = join(root, 'no-agent.yaml');
  // An "agent" that never listens: hostd must still answer every dispatch.
  writeFileSync(cfg, `agent:\n  command: ["${process.execPath}", "-e", "setTimeout(() => {}, 120000)", "${dir}"]\n  stopOnExit: true\n  startWaitSeconds: 1\n`);
  runs.push(startHostd(['--config', cfg, '--manager', gw.address, '--ca-hash', gw.gateway.caHash(), '--token', 'no-agent-token',
    '--name', 'no-agent-node', '--data-dir', dir, '--agent-listen', `127.0.0.1:${agentPort}`]));
  const c = await gw.backend.waitFor('hello from no-agent-node', (r) => r.type === 'connected' && r.session.nodeName === 'no-agent-node');
  gw.gateway.sessions.dispatch(c.nodeId, { runId: 'unreach-1', taskId: 't', timeoutMs: 1000, script: { script: 'true', interpreter: 'sh', env: {} } });
  const exit = await gw.backend.waitFor('exit of unreach-1', isTask('unreach-1', 'exited'));
  assert.ok(exit.type === 'task');
  if (exit.type !== 'task') return;
  assert.is(exit.event.exited?.status, 'error');
  assert.is(exit.event.exited?.exitCode, -1);
  assert.match(exit.event.exited!.error, /agentd unreachable at http:\/\/127\.0\.0\.1:\d+/);
});

test.run();
