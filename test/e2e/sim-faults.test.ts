// Faulty hosts against a real manager, through the fleet simulator (bench/sim): hosts that accept
// a run and never answer, hosts whose stream drops mid-run, hosts that send junk beside their
// runs, and one host opening 200 streams with its certificate at once. In each, the manager must
// stay responsive (a REST call answers) and every affected run must end with a clear status.
// Real processes, real gRPC/mTLS, loopback only; each simulator is stopped by its test.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TaskDetail } from '../../proto/rest/tasks.js';
import { api } from '../../scripts/local-stack.js';
import { pollUntil } from '../helpers/poll.js';
import { simSuite, startSimFleet, waitForTaskEnd, type SimProcess } from '../helpers/sim.js';

const suite = simSuite(test, 'ops-simfault-');
const { dataDir, sims } = suite;

const fleet = (prefix: string, hosts: number, args: string[]) => startSimFleet(suite.stack, dataDir, prefix, hosts, { procs: 2, args, sims });

async function runTask(names: string[], body: Record<string, unknown> = {}): Promise<string> {
  const created = await api<TaskDetail>(suite.stack.httpUrl, suite.stack.token, 'POST', '/tasks', { selector: { names }, script: 'echo hi', timeoutSeconds: 30, ...body });
  assert.is(created.status, 201, created.body.message);
  return created.body.data.id;
}

async function managerAnswers(): Promise<void> {
  const res = await api<unknown>(suite.stack.httpUrl, suite.stack.token, 'GET', '/nodes');
  assert.is(res.status, 200, 'the manager answers REST');
}

function managerLog(): string {
  return readFileSync(join(suite.stack.logDir, 'manager.log'), 'utf8');
}

function last(sim: SimProcess, key: string): unknown {
  return sim.lines.at(-1)?.[key];
}

test('hosts that accept a run and never answer: the runs end timeout', async () => {
  const { sim, names } = await fleet('na-', 4, ['--never-answer-rate', '1']);
  const taskId = await runTask(names, { timeoutSeconds: 1 });
  await managerAnswers();
  const done = await waitForTaskEnd(suite.stack, taskId);
  assert.is(done.status, 'failed');
  for (const r of done.runs) {
    assert.is(r.status, 'timeout', r.node);
    assert.match(r.error ?? '', /did not start the task before it timed out/);
  }
  await pollUntil('the simulator to count them', () => (last(sim, 'neverAnswered') === 4 ? true : undefined), 10_000);
  await managerAnswers();
  assert.is(await sim.stop(), 0, sim.stderr());
});

test('a stream dropped mid-run: the host reconnects, re-sends its events and the run succeeds', async () => {
  const { sim, names } = await fleet('dc-', 4, ['--disconnect-rate', '1', '--latency', '200', '--output-lines', '3']);
  const taskId = await runTask(names);
  await managerAnswers();
  const done = await waitForTaskEnd(suite.stack, taskId);
  assert.is(done.status, 'succeeded', JSON.stringify(done.runs.map((r) => [r.node, r.status, r.error])));
  for (const r of done.runs) {
    assert.is(r.status, 'succeeded', r.node);
    assert.is(r.output.split('\n').filter(Boolean).length, 3, `every line of ${r.node} stored once: ${JSON.stringify(r.output)}`);
  }
  const final = sim.lines.at(-1)!;
  assert.is(final.disconnectsInjected, 4);
  assert.ok(Number(final.reconnects) >= 4, `reconnects: ${final.reconnects}`);
  await managerAnswers();
  assert.is(await sim.stop(), 0, sim.stderr());
});

test('junk beside runs (unknown and foreign runs, empty messages, repeats, swapped seqs): ignored with a log line, every run ends', async () => {
  const bad = await fleet('mf-', 4, ['--malformed-rate', '1', '--output-lines', '3', '--latency', '100']);
  const good = await fleet('ok-', 4, ['--output-lines', '3']);
  const taskId = await runTask([...bad.names, ...good.names]);
  await managerAnswers();
  const done = await waitForTaskEnd(suite.stack, taskId);
  for (const r of done.runs) assert.is(r.status, 'succeeded', `${r.node}: ${r.status} ${r.error ?? ''}`);
  for (const r of done.runs.filter((x) => x.node.startsWith('ok-'))) {
    assert.is(r.output, [1, 2, 3].map((n) => `${r.node} run ${r.id.slice(0, 8)} line ${n}\n`).join(''), 'the well-behaved hosts lose nothing');
  }
  for (const r of done.runs.filter((x) => x.node.startsWith('mf-'))) {
    // Line 2 (seq 3) arrived before line 1 (seq 2): the manager applies each seq once and in
    // rising order, so line 1 is dropped as a repeat.
    assert.is(r.output, [2, 3].map((n) => `${r.node} run ${r.id.slice(0, 8)} line ${n}\n`).join(''), `${r.node}: ${JSON.stringify(r.output)}`);
    assert.is(r.exitCode, 0, 'no forged exit (code 99) took effect');
  }
  // Four kinds of junk per run at least (a fifth, a forged exit for another host's run, when one is known).
  await pollUntil('the simulator to count the junk', () => (Number(last(bad.sim, 'malformedSent')) >= 16 ? true : undefined), 10_000)
    .catch(() => assert.unreachable(`malformedSent: ${JSON.stringify(bad.sim.lines.at(-1))}`));
  await pollUntil('the manager to log the junk', () => {
    const log = managerLog();
    return /ignoring an empty message from a host/.test(log) && /a node reported on a run that is not its own/.test(log) ? true : undefined;
  }, 10_000);
  await managerAnswers();
  assert.is(await bad.sim.stop(), 0, bad.sim.stderr());
  assert.is(await good.sim.stop(), 0, good.sim.stderr());
});

test('a hello flood (200 streams with one certificate): one session kept, the node ends online and runs tasks', async () => {
  const { sim, names } = await fleet('fl-', 2, ['--hello-flood', '200', '--log-level', 'debug']);
  await pollUntil('the flood to be sent', () => (last(sim, 'floodStreams') === 200 ? true : undefined), 30_000);
  await managerAnswers();
  // Every flood stream ends: replaced by a newer one (the manager ends it), or cancelled by the
  // simulator once welcomed or after 5 s. The host's own stream, replaced by the flood, comes back
  // with its backoff; only then is it the node's one session (a run sent earlier could reach a
  // flood stream, and end lost when the host's hello does not list it).
  await pollUntil('every flood stream to end', () => (last(sim, 'floodEnded') === 200 ? true : undefined), 60_000);
  await pollUntil('both hosts connected again', () => (last(sim, 'connected') === 2 ? true : undefined), 60_000);
  const node = await pollUntil('the flooding node online', async () => {
    const nodes = (await api<{ name: string; status: string }[]>(suite.stack.httpUrl, suite.stack.token, 'GET', '/nodes')).body.data;
    const n = nodes.find((x) => x.name === names[0]);
    return n?.status === 'online' ? n : undefined;
  }, 30_000);
  assert.is(node.status, 'online');
  assert.match(managerLog(), /replaced by a newer stream from the same node/);
  const done = await waitForTaskEnd(suite.stack, await runTask(names));
  writeFileSync(join(dataDir, 'fl-sim.log'), sim.stderr());
  assert.is(done.status, 'succeeded', JSON.stringify(done.runs.map((r) => [r.node, r.status, r.error])));
  assert.is(await sim.stop(), 0, sim.stderr());
});

test.run();
