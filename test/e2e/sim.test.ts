// The fleet simulator (bench/sim) against a real manager: 40 simulated hosts in 2 worker processes
// enroll with one multi-use token, each with its own key and certificate, and show online; a task
// on all of them succeeds with each host's output stored; a second start on the same --dir brings
// back the same nodes without enrolling again. A wrong token is refused with a clear message and
// a non-zero exit. Real processes, real gRPC/mTLS, loopback only.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TaskDetail } from '../../proto/rest/tasks.js';
import { api } from '../../scripts/local-stack.js';
import { pollUntil } from '../helpers/poll.js';
import { simSuite, simTokenFile, startSim, waitForTaskEnd, type SimProcess } from '../helpers/sim.js';

const HOSTS = 40;
const suite = simSuite(test, 'ops-sim-');
const { dataDir, sims } = suite;
const simDir = join(dataDir, 'sim');
let caHash = '';

interface NodeRow { id: string; name: string; status: string }

async function tokenFile(uses: number, name: string): Promise<string> {
  const made = await simTokenFile(suite.stack, uses, join(dataDir, name));
  caHash = made.caHash;
  return made.file;
}

async function simNodes(): Promise<NodeRow[]> {
  const res = await api<NodeRow[]>(suite.stack.httpUrl, suite.stack.token, 'GET', '/nodes');
  return res.body.data.filter((n) => /^sim-\d{5}$/.test(n.name)).sort((a, b) => a.name.localeCompare(b.name));
}

async function enrollAudits(): Promise<number> {
  const res = await api<{ action: string; result: string; target: string }[]>(suite.stack.httpUrl, suite.stack.token, 'GET', '/audit?action=nodes.enroll&limit=1000');
  return res.body.data.filter((e) => e.result === 'ok' && /^sim-\d{5}$/.test(e.target)).length;
}

function sim(args: string[]): SimProcess {
  const s = startSim(['--manager', suite.stack.grpcAddress, '--dir', simDir, '--hosts', String(HOSTS), '--procs', '2', '--report-ms', '200', ...args]);
  sims.push(s);
  return s;
}

let firstIds: string[] = [];

test('40 simulated hosts in 2 processes enroll, come online and answer a task', async () => {
  const token = await tokenFile(HOSTS, 'token.txt');
  const s = sim(['--token-file', token, '--ca-hash', caHash]);
  const ready = await s.waitFor('ready', 120_000);
  assert.is(ready.enrolled, HOSTS);
  assert.is(ready.everConnected, HOSTS);
  assert.is(readdirSync(join(simDir, 'hosts')).filter((f) => f.endsWith('.json')).length, HOSTS, 'one identity file per host');

  const nodes = await pollUntil('every simulated node online', async () => {
    const rows = await simNodes();
    return rows.length === HOSTS && rows.every((n) => n.status === 'online') ? rows : undefined;
  }, 30_000);
  firstIds = nodes.map((n) => n.id);
  assert.is(nodes[0].name, 'sim-00001');
  assert.is(nodes[HOSTS - 1].name, 'sim-00040');

  const created = await api<TaskDetail>(suite.stack.httpUrl, suite.stack.token, 'POST', '/tasks', { selector: { names: nodes.map((n) => n.name) }, script: 'echo hi', timeoutSeconds: 30 });
  assert.is(created.status, 201, created.body.message);
  const done = await waitForTaskEnd(suite.stack, created.body.data.id);
  assert.is(done.status, 'succeeded', JSON.stringify(done.runs.filter((r) => r.status !== 'succeeded').slice(0, 3)));
  assert.is(done.runs.length, HOSTS);
  for (const r of done.runs) {
    assert.is(r.status, 'succeeded');
    assert.ok(r.output.startsWith(`${r.node} run ${r.id.slice(0, 8)} line 1`), `output of ${r.node}: ${JSON.stringify(r.output)}`);
  }

  assert.is(await s.stop(), 0, s.stderr());
  const final = s.lines.find((l) => l.t === 'final')!;
  assert.ok(final, 'a final line on exit');
  assert.is(final.answered, HOSTS);
  assert.is(final.connected, 0, 'every stream closed');
  await pollUntil('the simulated nodes to go offline', async () => ((await simNodes()).every((n) => n.status === 'offline') ? true : undefined), 30_000);
});

test('a second start on the same --dir reconnects the same nodes without enrolling; a cancel reaches every host', async () => {
  assert.is(await enrollAudits(), HOSTS);
  const s = sim(['--latency', '20000']); // no token, no CA hash: both are in --dir
  const ready = await s.waitFor('ready', 120_000);
  assert.is(ready.enrolled, 0);
  assert.is(ready.loaded, HOSTS);
  const nodes = await pollUntil('every simulated node online again', async () => {
    const rows = await simNodes();
    return rows.length === HOSTS && rows.every((n) => n.status === 'online') ? rows : undefined;
  }, 30_000);
  assert.equal(nodes.map((n) => n.id), firstIds, 'the same node ids');
  assert.is(await enrollAudits(), HOSTS, 'no second nodes.enroll');

  // Every host holds its run 20 s before `started`: the cancel finds them all unfinished.
  const created = await api<TaskDetail>(suite.stack.httpUrl, suite.stack.token, 'POST', '/tasks', { selector: { names: nodes.map((n) => n.name) }, script: 'sleep 60', timeoutSeconds: 120 });
  assert.is(created.status, 201, created.body.message);
  await pollUntil('every host to have the run', () => (s.lines.at(-1)?.dispatches === HOSTS ? true : undefined), 30_000);
  const cancelled = await api<TaskDetail>(suite.stack.httpUrl, suite.stack.token, 'POST', `/tasks/${created.body.data.id}/cancel`);
  assert.is(cancelled.status, 200, cancelled.body.message);
  assert.is(cancelled.body.data.status, 'cancelled');
  await pollUntil('every host to answer the cancel', () => (s.lines.at(-1)?.cancels === HOSTS ? true : undefined), 30_000);
  assert.is(await s.stop(), 0, s.stderr());
});

test('a wrong token: enrollment refused, said clearly, exit code 1', async () => {
  const bad = join(dataDir, 'bad-token.txt');
  writeFileSync(bad, 'not-a-token\n');
  const s = startSim(['--manager', suite.stack.grpcAddress, '--dir', join(dataDir, 'sim-bad'), '--hosts', '3', '--start', '501', '--token-file', bad, '--ca-hash', caHash, '--report-ms', '200']);
  sims.push(s);
  assert.is(await s.exited(60_000), 1);
  assert.match(s.stderr(), /enrollment refused: unknown enrollment token/);
  const final = s.lines.find((l) => l.t === 'final')!;
  assert.is(final.enrollFailed, 3);
  assert.is(final.enrolled, 0);
});

test('bad flags are refused with exit code 2 and a message naming the flag', async () => {
  for (const [args, message] of [
    [['--hosts', 'ten', '--manager', '127.0.0.1:1'], /--hosts must be a whole number/],
    [['--manager', 'nowhere'], /--manager must be HOST:PORT/],
    [['--manager', '127.0.0.1:1', '--fail-rate', '2'], /--fail-rate must be a number from 0 to 1/],
    [['--manager', '127.0.0.1:1', '--latency', '9-3'], /--latency must be MS or MIN-MAX/],
    [['--manager', '127.0.0.1:1', '--dir', join(dataDir, 'sim-none')], /no CA kept in .*: pass --ca-hash/],
    [['--bogus'], /Unknown option '--bogus'/],
  ] as [string[], RegExp][]) {
    const s = startSim(args);
    assert.is(await s.exited(), 2, args.join(' '));
    assert.match(s.stderr(), message);
  }
});

test.run();
