// Nothing lost, with real processes: a 2,000-line task runs on several hosts and, in the middle
// of its output, the manager, hostd or agentd is killed with SIGKILL. Every run must end in a
// final state; every line the script printed (all 2,000 when only the manager or hostd died) must
// be stored exactly once and in order; and no run may start twice (each run marks a file named by
// its run id when it starts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskDetail, TaskOutputPage } from '../../proto/rest/tasks.js';
import { api, startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { isAlive } from '../helpers/process.js';
import { freePorts } from '../helpers/ports.js';

const LINES = 2000;
const HOSTS = ['k-1', 'k-2', 'k-3'];
const dataDir = mkdtempSync(join(tmpdir(), 'ops-kill9-'));
const marks = join(dataDir, 'marks');
mkdirSync(marks);
let stack: LocalStack;
const hostd = new Map<string, ChildProcess>();
const agentPorts = new Map<string, number>();

// Slow enough (about 4 s) that the kill lands in the middle of the output.
const SCRIPT = `echo start >> "$MARKS/$OPS_RUN_ID"
i=1
while [ $i -le ${LINES} ]; do echo "line $i"; [ $((i % 50)) -eq 0 ] && sleep 0.1; i=$((i + 1)); done`;

test.before(async () => {
  const ports = await freePorts(3 + HOSTS.length);
  stack = await startLocalStack({ dataDir, httpPort: ports[0], grpcPort: ports[1], agentPort: ports[2], nodeName: 'k-main', timeoutMs: 60_000 });
  for (const [i, name] of HOSTS.entries()) {
    agentPorts.set(name, ports[3 + i]);
    hostd.set(name, await stack.addHost(name, ports[3 + i]));
  }
});

test.after(async () => {
  await stack?.stop();
  if (!process.env.KEEP) rmSync(dataDir, { recursive: true, force: true });
});

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const getTask = async (id: string) => (await api<TaskDetail>(stack.httpUrl, stack.token, 'GET', `/tasks/${id}`)).body.data;

/** A node's whole stored output, read page by page. */
async function storedOutput(taskId: string, node: string): Promise<string> {
  let text = '';
  for (let after = 0; ;) {
    const page = (await api<TaskOutputPage>(stack.httpUrl, stack.token, 'GET', `/tasks/${taskId}/output?node=${node}&after=${after}&limit=5000`)).body.data;
    text += page.chunks.map((c) => c.data).join('');
    if (page.next === null) return text;
    after = page.next;
  }
}

const linesOf = (text: string) => text.split('\n').filter(Boolean);
const expected = (n: number) => Array.from({ length: n }, (_, i) => `line ${i + 1}`);

async function startTask(): Promise<TaskDetail> {
  const created = await api<TaskDetail>(stack.httpUrl, stack.token, 'POST', '/tasks', {
    selector: { names: HOSTS }, script: SCRIPT, env: { MARKS: marks }, timeoutSeconds: 120,
  });
  assert.is(created.status, 201, created.body.message);
  // The middle of the output: at least 300 lines stored on every node.
  await waitFor('output on every node', async () => {
    for (const node of HOSTS) if (linesOf(await storedOutput(created.body.data.id, node)).length < 300) return undefined;
    return true;
  });
  return created.body.data;
}

async function finished(id: string): Promise<TaskDetail> {
  return waitFor('the task to end', async () => {
    const t = await getTask(id);
    return t.status !== 'running' ? t : undefined;
  }, 120_000);
}

function startedOnce(task: TaskDetail): void {
  for (const run of task.runs) {
    const file = join(marks, run.id);
    assert.ok(existsSync(file), `run ${run.id} on ${run.node} started`);
    assert.is(readFileSync(file, 'utf8'), 'start\n', `run ${run.id} on ${run.node} started exactly once`);
  }
}

test('manager killed mid-output: after its restart every run succeeds with all 2,000 lines, once, in order', async () => {
  const task = await startTask();
  await stack.restartManager('SIGKILL');
  const done = await finished(task.id);
  assert.is(done.status, 'succeeded', JSON.stringify(done.runs.map((r) => [r.node, r.status, r.error])));
  for (const node of HOSTS) assert.equal(linesOf(await storedOutput(task.id, node)), expected(LINES), `output of ${node}`);
  startedOnce(done);
});

test('hostd killed mid-output on two hosts: restarted, they deliver every line once, in order', async () => {
  const task = await startTask();
  for (const name of ['k-1', 'k-2']) {
    const child = hostd.get(name)!;
    child.kill('SIGKILL');
    await waitFor(`hostd of ${name} to die`, async () => (child.exitCode !== null || child.signalCode !== null ? true : undefined));
  }
  for (const name of ['k-1', 'k-2']) hostd.set(name, await stack.addHost(name, agentPorts.get(name)!));
  const done = await finished(task.id);
  assert.is(done.status, 'succeeded', JSON.stringify(done.runs.map((r) => [r.node, r.status, r.error])));
  for (const node of HOSTS) assert.equal(linesOf(await storedOutput(task.id, node)), expected(LINES), `output of ${node}`);
  startedOnce(done);
});

test('agentd killed mid-output: its run ends lost with the lines it had passed on, once and in order; the others succeed', async () => {
  const task = await startTask();
  const pidFile = join(dataDir, 'hostd-k-3', 'agentd.pid');
  const agentdPid = Number(readFileSync(pidFile, 'utf8').trim());
  process.kill(agentdPid, 'SIGKILL');
  await waitFor('agentd to die', async () => (isAlive(agentdPid) ? undefined : true));
  const done = await finished(task.id);
  const lost = done.runs.find((r) => r.node === 'k-3')!;
  assert.is(lost.status, 'lost', `${lost.status}: ${lost.error}`);
  assert.match(lost.error ?? '', /agentd was killed/);
  const kept = linesOf(await storedOutput(task.id, 'k-3'));
  assert.ok(kept.length >= 300 && kept.length < LINES, `${kept.length} lines kept`);
  assert.equal(kept, expected(kept.length), 'a prefix of the output, each line once, in order');
  for (const node of ['k-1', 'k-2']) {
    assert.is(done.runs.find((r) => r.node === node)!.status, 'succeeded');
    assert.equal(linesOf(await storedOutput(task.id, node)), expected(LINES), `output of ${node}`);
  }
  startedOnce(done);
});

test.run();
