// hostd against a manager that predates HostMessage.task_events (its welcome does not set
// accepts_task_events): every task event goes up on its own, as before, and nothing is lost.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../helpers/ports.js';
import { startGateway, type TestGateway } from '../hostlink/helpers.js';
import { killAllUnder, startHostd, type HostdRun } from './helpers.js';

let gw: TestGateway;
const root = mkdtempSync(join(tmpdir(), 'ops-hostd-older-'));
const runs: HostdRun[] = [];
let nodeId = '';

test.before(async () => {
  gw = await startGateway({ heartbeatSeconds: 1, metricsSeconds: 60, acceptsTaskEvents: false });
  gw.backend.addToken('older-token');
  const [agentPort] = await freePorts(1);
  runs.push(startHostd([
    '--manager', gw.address, '--ca-hash', gw.gateway.caHash(), '--token', 'older-token', '--name', 'older-node',
    '--data-dir', join(root, 'hostd'), '--agent-listen', `127.0.0.1:${agentPort}`, '--log-level', 'debug',
  ], { OPS_AGENT_STOP_ON_EXIT: 'true' }));
  nodeId = (await gw.backend.waitFor('hello', (r) => r.type === 'connected')).nodeId;
});

test.after(async () => {
  await killAllUnder(root, runs);
  await gw.close();
  rmSync(root, { recursive: true, force: true });
});

test('an older manager gets each task event as its own message, all of them, in order', async () => {
  await gw.backend.waitFor('healthy', (r) => r.type === 'heartbeat' && r.agentStatus === 'healthy');
  assert.ok(gw.gateway.sessions.dispatch(nodeId, {
    runId: 'old-1', taskId: 'task-old', timeoutMs: 20_000, script: { script: 'for i in $(seq 1 20); do echo "line $i"; sleep 0.002; done; exit 2', interpreter: 'sh', env: {} },
  }));
  await gw.backend.waitFor('exit of old-1', (r) => r.type === 'task' && r.event.runId === 'old-1' && r.event.kind === 'exited');
  const events = gw.backend.taskEvents('old-1');
  assert.equal(events.map((e) => Number(e.seq)), events.map((_, i) => i + 1));
  assert.is(events.filter((e) => e.output).map((e) => e.output!.data).join(''), Array.from({ length: 20 }, (_, i) => `line ${i + 1}\n`).join(''));
  assert.is(events.at(-1)!.exited!.exitCode, 2);
  assert.is(gw.gateway.received('taskEvents'), 0);
  assert.is(gw.gateway.received('taskEvent'), events.length);
});

test.run();
