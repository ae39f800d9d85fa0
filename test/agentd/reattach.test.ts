// Re-attaching to a run (GET /v1/exec/<runId>/events?after=N) over a real socket: events are
// numbered without gaps, a hostd that disconnects mid-stream leaves its run going and picks up
// exactly where it was, a run id is never started twice, and output beyond the kept bound is
// reported as dropped instead of silently missing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { AGENT_API, type AgentExecEvent } from '../../proto/agent-api.js';
import { Writable } from 'node:stream';
import { createLogger } from '../../lib/log.js';
import { buildAgentApp } from '../../agentd/http/app.js';
import { AllowList } from '../../agentd/ip-allow.js';
import { inject, injectSigned, KEY_ID, newApp, newExecutor, parseNdjson, SECRET, signedHeaders, tempDir, listenOnLoopback, closeServed, waitUntil } from './helpers/fixtures.js';

const dir = tempDir();
const executor = newExecutor();
let logs = '';
const app = buildAgentApp({
  executor, allow: new AllowList(['127.0.0.1/32']), lookupSecret: (id) => (id === KEY_ID ? SECRET : undefined),
  log: createLogger({ component: 'agentd-test', level: 'info', destination: new Writable({ write: (c, _e, cb) => { logs += String(c); cb(); } }) }),
});
let base = '';

test.before(async () => { base = await listenOnLoopback(app); });
test.after(() => closeServed(app, executor, dir));

function postExec(body: object, signal?: AbortSignal) {
  const payload = JSON.stringify(body);
  return request(`${base}${AGENT_API.exec}`, { method: 'POST', body: payload, headers: signedHeaders('POST', AGENT_API.exec, payload), signal });
}

function getEvents(runId: string, after: number) {
  const path = AGENT_API.events(runId, after);
  return request(`${base}${path}`, { headers: signedHeaders('GET', path) });
}

/** Yields events as they arrive; stops when the body ends. */
async function* events(body: AsyncIterable<Buffer>): AsyncGenerator<AgentExecEvent> {
  let buffer = '';
  for await (const chunk of body) {
    buffer += chunk.toString('utf8');
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      yield JSON.parse(buffer.slice(0, nl)) as AgentExecEvent;
      buffer = buffer.slice(nl + 1);
    }
  }
}

const stdout = (list: AgentExecEvent[]) => list.map((e) => (e.type === 'output' && e.stream === 'stdout' ? e.data : '')).join('');

test('every event but queued carries seq 1, 2, 3… without gaps', async () => {
  const res = await postExec({ runId: 'seq-1', kind: 'script', params: { script: 'for i in 1 2 3 4 5; do echo line $i; sleep 0.01; done; echo err >&2' } });
  const got: AgentExecEvent[] = [];
  for await (const e of events(res.body)) got.push(e);
  assert.equal(got.map((e) => e.seq), got.map((_, i) => i + 1));
  assert.is(got[0].type, 'started');
  assert.is(got[got.length - 1].type, 'exit');
  assert.is(stdout(got), 'line 1\nline 2\nline 3\nline 4\nline 5\n');
});

test('hostd disconnecting mid-stream leaves the run going; re-attaching after N gets the rest once, in order', async () => {
  const gate = join(dir, 'reattach-gate');
  const abort = new AbortController();
  const script = `for i in $(seq 1 50); do echo line $i; done; while [ ! -e ${gate} ]; do sleep 0.02; done; for i in $(seq 51 100); do echo line $i; done`;
  const res = await postExec({ runId: 'reattach-1', kind: 'script', params: { script } }, abort.signal);
  const first: AgentExecEvent[] = [];
  for await (const e of events(res.body)) {
    first.push(e);
    if (stdout(first).includes('line 50\n')) break;
  }
  abort.abort();
  // Only once agentd has seen the connection close does the run's going on prove anything.
  await waitUntil('agentd to see hostd go', () => logs.includes('hostd disconnected mid-stream; the run goes on'));
  writeFileSync(gate, '');
  // The run was not cancelled: it finishes on its own while nobody reads it.
  await waitUntil('the run to finish', () => executor.running === 0);
  const last = first[first.length - 1].seq!;
  const again = await getEvents('reattach-1', last);
  assert.is(again.statusCode, 200);
  const rest: AgentExecEvent[] = [];
  for await (const e of events(again.body)) rest.push(e);
  assert.ok(rest.every((e) => e.seq! > last));
  assert.equal([...first, ...rest].map((e) => e.seq), [...first, ...rest].map((_, i) => i + 1));
  const exit = rest[rest.length - 1];
  assert.ok(exit.type === 'exit' && exit.status === 'succeeded', 'the run ran to its end');
  assert.is(stdout([...first, ...rest]), Array.from({ length: 100 }, (_, i) => `line ${i + 1}\n`).join(''));
});

test('re-attaching to a running run gets the kept events, then the live ones until the exit', async () => {
  const gate = join(dir, 'live-gate');
  const res = await postExec({ runId: 'live-1', kind: 'script', params: { script: `echo before; while [ ! -e ${gate} ]; do sleep 0.02; done; echo after` } });
  const again = await getEvents('live-1', 0);
  const it = events(again.body);
  const seen: AgentExecEvent[] = [];
  while (!stdout(seen).includes('before')) seen.push((await it.next()).value as AgentExecEvent);
  writeFileSync(gate, '');
  for (let r = await it.next(); !r.done; r = await it.next()) seen.push(r.value);
  assert.is(stdout(seen), 'before\nafter\n');
  assert.is(seen[seen.length - 1].type, 'exit');
  const original: AgentExecEvent[] = [];
  for await (const e of events(res.body)) original.push(e);
  assert.equal(seen, original, 'both readers got the same events');
});

test('a finished run: its events again, nothing after its exit, and a second POST is refused (409)', async () => {
  const res = await postExec({ runId: 'done-1', kind: 'script', params: { script: 'echo once' } });
  const original: AgentExecEvent[] = [];
  for await (const e of events(res.body)) original.push(e);
  const replay = await injectSigned(app, 'GET', AGENT_API.events('done-1', 0));
  assert.is(replay.statusCode, 200);
  assert.equal(parseNdjson(replay.body), original);
  const exitSeq = original[original.length - 1].seq!;
  const none = await injectSigned(app, 'GET', AGENT_API.events('done-1', exitSeq));
  assert.is(none.statusCode, 200);
  assert.is(none.body, '', 'the reader has everything: the stream ends at once');
  const twice = await injectSigned(app, 'POST', AGENT_API.exec, { runId: 'done-1', kind: 'script', params: { script: 'echo twice' } });
  assert.is(twice.statusCode, 409);
  assert.match(twice.json<{ message: string }>().message, /run done-1 has already run; read its events instead/);
});

test('unknown runs and bad cursors are refused with a clear error', async () => {
  const unknown = await injectSigned(app, 'GET', AGENT_API.events('never-ran', 0));
  assert.is(unknown.statusCode, 404);
  assert.equal(unknown.json<{ code: number; message: string }>().code, 1004);
  assert.match(unknown.json<{ message: string }>().message, /agentd does not know run never-ran/);
  for (const after of ['-1', 'x', '1.5', '01']) {
    const bad = await injectSigned(app, 'GET', `/v1/exec/done-1/events?after=${after}`);
    assert.is(bad.statusCode, 400, `after=${after}`);
    assert.match(bad.json<{ message: string }>().message, /querystring\.after must match pattern/);
  }
  const unsigned = await inject(app, { method: 'GET', url: AGENT_API.events('done-1', 0), remoteAddress: '127.0.0.1' });
  assert.is(unsigned.statusCode, 401);
});

test('beyond the kept bound the oldest output goes, and a re-attaching reader is told how much', async () => {
  const small = newExecutor({ outputChunkBytes: 100, retain: { runBytes: 1000 } });
  const smallApp = newApp(small);
  try {
    // 200 lines of 10 bytes: 2000 bytes, of which about the last 1000 are kept.
    const done = small.submit({ runId: 'big-1', kind: 'script', params: { script: 'for i in $(seq 1000 1199); do echo "line $i"; done' } }, () => undefined);
    await done;
    const replay = await injectSigned(smallApp, 'GET', AGENT_API.events('big-1', 0));
    const got = parseNdjson(replay.body);
    assert.is(got[0].type, 'started');
    const note = got[1];
    assert.ok(note.type === 'output' && note.stream === 'stderr');
    const match = /^\[opsctl: (\d+) bytes of output dropped: agentd keeps the last 1000 bytes of a run's output for a reader that re-attaches\]\n$/.exec(note.type === 'output' ? note.data : '');
    assert.ok(match, `note: ${JSON.stringify(note)}`);
    const kept = stdout(got.slice(2));
    assert.ok(kept.length <= 1000 && kept.length > 800, `kept ${kept.length} bytes`);
    assert.is(Number(match![1]) + kept.length, 2000, 'dropped + kept = all the output');
    assert.ok(kept.endsWith('line 1199\n'));
    // The note takes the last dropped seq, so seqs go on rising after it.
    const seqs = got.map((e) => e.seq!);
    assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]));
    assert.is(got[2].seq, note.seq! + 1);
  } finally {
    await small.shutdown(0);
    await smallApp.close();
  }
});

test.run();
