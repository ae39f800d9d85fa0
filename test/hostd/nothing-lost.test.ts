// Nothing lost, nothing run twice, with real processes: hostd (built) and its real agentd against
// an in-process gateway that plays the manager (stores every event it gets and acknowledges only
// when the test says). Streams are dropped, hostd and agentd are SIGKILLed mid-run; what arrives,
// de-duplicated by (run, seq) as the manager does, is every line once and in order.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lostRunMessage } from '../../proto/agent-api.js';
import type { TaskEvent__Output } from '../../proto/hostlink.js';
import { freePorts } from '../helpers/ports.js';
import { startGateway, type TestGateway } from '../hostlink/helpers.js';
import type { BackendRecord } from '../hostlink/memory-backend.js';
import { isAlive, killAllUnder, readPid, startHostd, waitUntil, type HostdRun } from './helpers.js';

let gw: TestGateway;
const root = mkdtempSync(join(tmpdir(), 'ops-nothing-lost-'));
const dataDir = join(root, 'hostd');
const spoolFile = join(dataDir, 'event-spool.ndjson');
const runs: HostdRun[] = [];
let nodeId = '';
let agentPort = 0;

/** Starts hostd on the test's data dir; resolves once the manager has its hello. */
async function startNode(env: NodeJS.ProcessEnv = {}): Promise<Extract<BackendRecord, { type: 'connected' }>> {
  const before = hellos().length;
  const first = nodeId === '';
  runs.push(startHostd([
    ...(first ? ['--manager', gw.address, '--ca-hash', gw.gateway.caHash(), '--token', 'lost-token', '--name', 'lost-node'] : []),
    '--data-dir', dataDir, '--agent-listen', `127.0.0.1:${agentPort}`, '--log-level', 'debug',
  ], { OPS_RECONNECT_MIN_SECONDS: '0.1', OPS_RECONNECT_MAX_SECONDS: '0.5', ...env }));
  await waitUntil('hostd\'s hello', () => hellos().length > before, 30_000);
  const hello = hellos()[hellos().length - 1];
  nodeId = hello.nodeId;
  await gw.backend.waitFor('a healthy agentd', (r) => r.type === 'heartbeat' && r.nodeId === nodeId && r.agentStatus === 'healthy' && gw.backend.records.indexOf(r) > gw.backend.records.indexOf(hello));
  return hello;
}

const hellos = () => gw.backend.records.filter((r): r is Extract<BackendRecord, { type: 'connected' }> => r.type === 'connected');
const current = () => runs[runs.length - 1];

async function killHostd(): Promise<void> {
  current().child.kill('SIGKILL');
  await current().exit;
  await gw.backend.waitFor('the manager to see hostd go', (r) => r.type === 'disconnected' && gw.backend.records.indexOf(r) > gw.backend.records.indexOf(hellos()[hellos().length - 1]));
}

/** The manager drops the host's stream; resolves with the hello of the reconnect. */
async function dropStream(): Promise<Extract<BackendRecord, { type: 'connected' }>> {
  const before = hellos().length;
  (gw.gateway.sessions.get(nodeId) as unknown as { close(reason: string): void }).close('test: stream dropped');
  await waitUntil('hostd to reconnect', () => hellos().length > before);
  return hellos()[hellos().length - 1];
}

function dispatch(runId: string, script: string, timeoutMs = 120_000): void {
  assert.ok(gw.gateway.sessions.dispatch(nodeId, { runId, taskId: 't', timeoutMs, script: { script, interpreter: 'sh', env: {} } }), `dispatch ${runId}`);
}

function ack(runId: string, seq: number): void {
  assert.ok(gw.gateway.sessions.get(nodeId)!.send({ eventAck: { runs: [{ runId, seq }] } }));
}

/** The run's events as the manager keeps them: each (run, seq) once, the first copy, in arrival order. */
function stored(runId: string): TaskEvent__Output[] {
  const seen = new Set<number>();
  return gw.backend.taskEvents(runId).filter((e) => {
    if (e.seq === 0) return true;
    if (seen.has(e.seq)) return false;
    seen.add(e.seq);
    return true;
  });
}

const stdout = (events: TaskEvent__Output[]) => events.map((e) => (e.output?.stream === 'stdout' ? e.output.data : '')).join('');
const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i}\n`).join('');
const exitOf = (runId: string) => gw.backend.waitFor(`the exit of ${runId}`, (r) => r.type === 'task' && r.event.runId === runId && r.event.kind === 'exited', 60_000);
const maxSeq = (runId: string) => Math.max(0, ...gw.backend.taskEvents(runId).map((e) => e.seq));
const spoolHas = (text: string) => existsSync(spoolFile) && readFileSync(spoolFile, 'utf8').includes(text);
/** The run's events as hostd's spool file holds them. */
const spooled = (runId: string): TaskEvent__Output[] => (existsSync(spoolFile) ? readFileSync(spoolFile, 'utf8') : '').split('\n').flatMap((line) => {
  const r = line ? JSON.parse(line) as { t: string; ev?: TaskEvent__Output } : undefined;
  return r?.t === 'e' && r.ev?.runId === runId ? [r.ev] : [];
});
/** Acknowledges everything the manager got so far. */
function ackAll(): void {
  const ids = new Set(gw.backend.records.flatMap((r) => (r.type === 'task' ? [r.event.runId] : [])));
  for (const runId of ids) ack(runId, maxSeq(runId));
}

test.before(async () => {
  gw = await startGateway({ heartbeatSeconds: 1 });
  gw.backend.addToken('lost-token');
  [agentPort] = await freePorts(1);
});

test.after(async () => {
  await killAllUnder(root, runs);
  await gw.close();
  rmSync(root, { recursive: true, force: true });
});

test('the hello reports the runs hostd knows (none yet); seqs are 1..n without gaps', async () => {
  const hello = await startNode();
  assert.equal(hello.hello.knownRuns, [], 'reported (an empty list, not null: hostd reports its runs)');
  dispatch('seq-1', 'for i in $(seq 1 20); do echo line $i; echo err $i >&2; done');
  await exitOf('seq-1');
  const events = gw.backend.taskEvents('seq-1');
  assert.equal(events.map((e) => e.seq), events.map((_, i) => i + 1));
  assert.is(stdout(events), lines(1, 20));
});

test('acknowledged events leave the spool, and the spool file shrinks', async () => {
  // 16,000 lines of 100 bytes: over the size at which a mostly acknowledged spool is rewritten.
  dispatch('big-1', `awk 'BEGIN { for (i = 0; i < 16000; i++) printf "%099d\\n", i }'`);
  await exitOf('big-1');
  await waitUntil('the exit in the spool', () => spooled('big-1').some((e) => e.exited) && statSync(spoolFile).size > 1_600_000);
  ack('seq-1', maxSeq('seq-1'));
  ack('big-1', maxSeq('big-1'));
  await waitUntil('the spool to be rewritten', () => statSync(spoolFile).size < 1000);
  const hello = await dropStream();
  assert.equal(hello.hello.knownRuns, [], 'acknowledged through their exits: forgotten');
});

test('acks that come with a dispatch (the hello says hostd takes them) are applied as an EventAck before it would be', async () => {
  assert.is(hellos().at(-1)!.hello.takesDispatchAcks, true);
  dispatch('ride-1', 'echo one');
  await exitOf('ride-1');
  assert.ok(gw.gateway.sessions.dispatch(nodeId, {
    runId: 'ride-2', taskId: 't', timeoutMs: 120_000, script: { script: 'echo two', interpreter: 'sh', env: {} }, acks: [{ runId: 'ride-1', seq: maxSeq('ride-1') }],
  }));
  await exitOf('ride-2');
  ack('ride-2', maxSeq('ride-2'));
  const hello = await dropStream();
  assert.equal(hello.hello.knownRuns, [], 'ride-1 acknowledged by the dispatch, ride-2 by an EventAck: both forgotten');
});

test('a dropped manager stream: unacknowledged events are re-sent after the reconnect, in order', async () => {
  dispatch('drop-1', 'for i in $(seq 1 300); do echo "line $i"; sleep 0.005; done');
  await waitUntil('some output', () => stdout(gw.backend.taskEvents('drop-1')).includes('line 50\n'));
  const hello = await dropStream();
  assert.ok(hello.hello.knownRuns?.includes('drop-1'), 'a run in flight is known');
  await exitOf('drop-1');
  const all = gw.backend.taskEvents('drop-1');
  assert.ok(all.filter((e) => e.seq === 1).length >= 2, 'events sent before the drop were sent again: nothing had been acknowledged');
  const kept = stored('drop-1');
  assert.equal(kept.map((e) => e.seq), kept.map((_, i) => i + 1), 'in order, without gaps');
  assert.is(stdout(kept), lines(1, 300));
  assert.is(kept.filter((e) => e.started).length, 1);

  ack('drop-1', maxSeq('drop-1'));
  await waitUntil('hostd to forget drop-1', () => spoolHas('{"t":"x","r":"drop-1"}'));
  const count = gw.backend.taskEvents('drop-1').length;
  const again = await dropStream();
  assert.equal(again.hello.knownRuns, []);
  // Re-sent events precede new ones: once a new run's exit is in, nothing more of drop-1 comes.
  dispatch('after-drop-1', 'echo fresh');
  await exitOf('after-drop-1');
  assert.is(gw.backend.taskEvents('drop-1').length, count, 'acknowledged events are not sent again');
});

test('hostd SIGKILLed mid-run (2,000 lines): the next hostd re-attaches; every line arrives once, in order; the script runs once', async () => {
  const marker = join(root, 'kill-1.starts');
  dispatch('kill-1', `echo start >> ${marker}; for i in $(seq 1 2000); do echo "line $i"; case $i in *0) sleep 0.02;; esac; done`);
  await waitUntil('line 500', () => stdout(gw.backend.taskEvents('kill-1')).includes('line 500\n'));
  ack('kill-1', maxSeq('kill-1'));
  await waitUntil('line 1000', () => stdout(gw.backend.taskEvents('kill-1')).includes('line 1000\n'));
  await killHostd();
  const hello = await startNode();
  assert.ok(hello.hello.knownRuns?.includes('kill-1'), 'the restarted hostd knows the run from its spool');
  await exitOf('kill-1');
  const kept = stored('kill-1');
  assert.equal(kept.map((e) => e.seq), kept.map((_, i) => i + 1), 'in order, without gaps');
  assert.is(stdout(kept), lines(1, 2000));
  assert.is(kept[kept.length - 1].exited?.status, 'succeeded');
  assert.is(readFileSync(marker, 'utf8'), 'start\n', 'the script ran once');
  // A repeated dispatch of the run (the manager re-sending it) does not start it again.
  dispatch('kill-1', `echo start >> ${marker}`);
  dispatch('after-kill-1', 'echo fresh');
  await exitOf('after-kill-1');
  assert.is(readFileSync(marker, 'utf8'), 'start\n');
});

test('hostd and agentd SIGKILLed mid-run: the next agentd ended the script, and the run ends as lost, once', async () => {
  dispatch('gone-1', 'echo up; sleep 300');
  await waitUntil('output of gone-1', () => stdout(gw.backend.taskEvents('gone-1')).includes('up\n'));
  const agentdPid = readPid(join(dataDir, 'agentd.pid'))!;
  await killHostd();
  process.kill(agentdPid, 'SIGKILL');
  await waitUntil('agentd to die', () => !isAlive(agentdPid));
  await startNode();
  const exit = await exitOf('gone-1');
  assert.ok(exit.type === 'task');
  if (exit.type !== 'task') return;
  assert.is(exit.event.seq, 0, 'an exit hostd made itself');
  assert.is(exit.event.exited?.status, 'lost');
  assert.is(exit.event.exited?.error, lostRunMessage(true));
  // The new agentd's heartbeat names the run too; it has been reported already, so no second exit.
  await waitUntil('hostd to hear of the lost run from agentd', () => current().stdout().includes('"runId":"gone-1","msg":"lost run already reported"'));
  dispatch('after-gone-1', 'echo fresh');
  await exitOf('after-gone-1');
  assert.is(gw.backend.taskEvents('gone-1').filter((e) => e.exited).length, 1);
});

test('agentd SIGKILLed mid-run while hostd lives: hostd re-attaches to the next agentd, and the run ends as lost', async () => {
  dispatch('agentd-gone-1', 'echo up; sleep 300');
  await waitUntil('output of agentd-gone-1', () => stdout(gw.backend.taskEvents('agentd-gone-1')).includes('up\n'));
  const agentdPid = readPid(join(dataDir, 'agentd.pid'))!;
  process.kill(agentdPid, 'SIGKILL');
  const exit = await exitOf('agentd-gone-1');
  assert.ok(exit.type === 'task' && exit.event.exited?.status === 'lost');
  assert.is(exit.type === 'task' && exit.event.exited?.error, lostRunMessage(true));
});

test('the spool bound: while the manager is away the oldest output goes, with a note of how much; the exit stays', async () => {
  ackAll();
  await waitUntil('every run acknowledged', () => hellos().length > 0 && spoolHas('{"t":"x","r":"after-gone-1"}'));
  await killHostd();
  await startNode({ OPS_SPOOL_MAX_BYTES: '65536' });
  const gate = join(root, 'bound-gate');
  dispatch('bound-1', `while [ ! -e ${gate} ]; do sleep 0.05; done; awk 'BEGIN { for (i = 0; i < 3000; i++) printf "%099d\\n", i }'`);
  await gw.backend.waitFor('bound-1 started', (r) => r.type === 'task' && r.event.runId === 'bound-1' && r.event.kind === 'started');
  // The manager refuses the host for a while: everything the run prints meanwhile waits in the spool.
  gw.backend.nodes.get(nodeId)!.revoked = true;
  const before = hellos().length;
  (gw.gateway.sessions.get(nodeId) as unknown as { close(reason: string): void }).close('test: away');
  writeFileSync(gate, '');
  await waitUntil('the exit in the spool', () => spooled('bound-1').some((e) => e.exited), 30_000);
  assert.ok(statSync(spoolFile).size <= 2 * 65536, `spool ${statSync(spoolFile).size} bytes`);
  gw.backend.nodes.get(nodeId)!.revoked = false;
  await waitUntil('hostd to come back', () => hellos().length > before, 30_000);
  await exitOf('bound-1');
  const kept = stored('bound-1');
  const notes = kept.flatMap((e) => {
    const m = /^\[opsctl: (\d+) bytes of output dropped: hostd's event spool was full \(spool\.maxBytes 65536\)\]\n$/.exec(e.output?.stream === 'stderr' ? e.output.data : '');
    return m ? [Number(m[1])] : [];
  });
  assert.ok(notes.length > 0, 'the gap is reported');
  const expected = Array.from({ length: 3000 }, (_, i) => `${String(i).padStart(99, '0')}\n`).join('');
  const out = stdout(kept);
  assert.ok(out.length < expected.length && expected.endsWith(out), 'the newest output is kept');
  assert.is(notes.reduce((a, b) => a + b, 0) + out.length, expected.length, 'dropped + kept = all of it');
  assert.is(kept[kept.length - 1].exited?.status, 'succeeded');
  assert.ok(current().stdout().includes('event spool full: dropped the oldest output the manager has not acknowledged'));
});

test.run();
