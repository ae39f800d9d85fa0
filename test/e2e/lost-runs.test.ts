// hostd and agentd both killed while a script runs (an OOM kill, a crash of the daemons): the
// script outlives them. When hostd comes back, its new agentd ends the script of its killed
// predecessor, and hostd, re-attaching to the run it had in flight, reports it to the manager as
// lost, so it does not stay "running" until its task times out. Real processes throughout.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskDetail } from '../../proto/rest/tasks.js';
import { api, startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { isAlive } from '../helpers/process.js';
import { freePorts } from '../helpers/ports.js';

const dataDir = mkdtempSync(join(tmpdir(), 'ops-lost-'));
let stack: LocalStack;
let agentPort = 0;

test.before(async () => {
  const [httpPort, grpcPort, first, second] = await freePorts(4);
  agentPort = second;
  stack = await startLocalStack({ dataDir, httpPort, grpcPort, agentPort: first, nodeName: 'lost-main' });
});

test.after(async () => {
  await stack?.stop();
  if (!process.env.KEEP) rmSync(dataDir, { recursive: true, force: true });
});

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a run whose hostd and agentd were SIGKILLed ends as lost on the manager once hostd is back', async () => {
  const hostDir = join(dataDir, 'hostd-lost-1');
  const hostd = await stack.addHost('lost-1', agentPort);
  const created = await api<TaskDetail>(stack.httpUrl, stack.token, 'POST', '/tasks', { selector: { names: ['lost-1'] }, script: 'echo started; sleep 300', timeoutSeconds: 600 });
  assert.is(created.status, 201, created.body.message);
  const taskId = created.body.data.id;
  const running = await waitFor('the run to start', async () => {
    const t = (await api<TaskDetail>(stack.httpUrl, stack.token, 'GET', `/tasks/${taskId}`)).body.data;
    return t.runs[0].status === 'running' ? t : undefined;
  });
  assert.is(running.runs[0].status, 'running');
  const agentdPid = Number(readFileSync(join(hostDir, 'agentd.pid'), 'utf8').trim());
  const scriptPids = readFileSync(`/proc/${agentdPid}/task/${agentdPid}/children`, 'utf8').trim().split(/\s+/).map(Number).filter(Boolean);
  assert.ok(scriptPids.length > 0, 'the script runs under agentd');

  hostd.kill('SIGKILL');
  process.kill(agentdPid, 'SIGKILL');
  await waitFor('both daemons to be gone', async () => (!isAlive(agentdPid) && (hostd.exitCode !== null || hostd.signalCode !== null) ? true : undefined));
  assert.ok(scriptPids.some(isAlive), 'the script outlived its daemons');

  // hostd comes back with the same data directory (no new enrollment) and starts a new agentd.
  await stack.addHost('lost-1', agentPort);
  const ended = await waitFor('the run to be reported', async () => {
    const t = (await api<TaskDetail>(stack.httpUrl, stack.token, 'GET', `/tasks/${taskId}`)).body.data;
    return t.status !== 'running' ? t : undefined;
  });
  assert.is(ended.runs[0].status, 'lost');
  assert.match(ended.runs[0].error ?? '', /agentd was killed while this ran; the next agentd ended the run/);
  await waitFor('the orphaned script to be gone', async () => (scriptPids.some(isAlive) ? undefined : true));
});

test.run();
