// The task relay against a real HTTP server standing in for agentd, to feed it the bad answers a
// real agentd does not give on purpose: refusals, garbage lines, streams cut short, runs it has
// already or no longer knows.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../../lib/log.js';
import { Writable } from 'node:stream';
import { NonceCache, verifyRequest } from '../../proto/signing.js';
import type { TaskEvent } from '../../proto/hostlink.js';
import { lostRunMessage } from '../../proto/agent-api.js';
import { agentBaseUrl, TaskRelay } from '../../hostd/relay.js';
import { EventSpool } from '../../hostd/event-spool.js';
import { freePort } from '../helpers/ports.js';

const secret = 'f'.repeat(64);
const nonces = new NonceCache();
let handler: (req: IncomingMessage, body: string, res: ServerResponse) => void = () => undefined;
const seen: { path: string; verified: boolean; body: string }[] = [];

const server = createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    const v = verifyRequest({ method: req.method!, path: req.url!, headers: req.headers, body, lookupSecret: (id) => (id === 'hostd' ? secret : undefined), nonces });
    seen.push({ path: req.url!, verified: v.ok, body });
    handler(req, body, res);
  });
});
const events: TaskEvent[] = [];
let relay: TaskRelay;
const quiet = createLogger({ component: 'relay-test', level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const dir = mkdtempSync(join(tmpdir(), 'ops-relay-'));
const spool = new EventSpool({ file: join(dir, 'event-spool.ndjson'), maxBytes: 1 << 20, log: quiet });
const emit = (e: TaskEvent) => { spool.append(e); events.push(e); };

test.before(async () => {
  await spool.start();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  relay = new TaskRelay({ agentAddress: `127.0.0.1:${(server.address() as AddressInfo).port}`, secret: () => secret, emit, spool, log: quiet });
});
test.after(async () => {
  await relay.stop();
  await spool.stop();
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

async function runOnce(runId: string): Promise<TaskEvent[]> {
  relay.dispatch({ runId, taskId: 't', timeoutMs: 1000, script: { script: 'echo x', interpreter: 'sh', env: {} } });
  return waitForExit(runId);
}

async function waitForExit(runId: string): Promise<TaskEvent[]> {
  const deadline = Date.now() + 10_000;
  while (!events.some((e) => e.runId === runId && e.exited)) {
    if (Date.now() > deadline) throw new Error(`no exit for ${runId}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return events.filter((e) => e.runId === runId);
}

const ndjson = (res: ServerResponse, lines: string[], end = true) => {
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  for (const l of lines) res.write(l + '\n');
  if (end) res.end();
};

test('requests are signed with key id hostd and carry the run', async () => {
  handler = (_req, body, res) => {
    const { runId } = JSON.parse(body) as { runId: string };
    ndjson(res, [JSON.stringify({ type: 'exit', runId, atMs: 1, exitCode: 0, signal: null, durationMs: 1, status: 'succeeded', error: null })]);
  };
  const got = await runOnce('signed-1');
  assert.is(got[got.length - 1].exited?.status, 'succeeded');
  const req = seen.find((s) => s.body.includes('signed-1'))!;
  assert.ok(req.verified);
  assert.is(req.path, '/v1/exec');
  assert.equal(JSON.parse(req.body), { runId: 'signed-1', kind: 'script', params: { script: 'echo x', interpreter: 'sh' }, timeoutMs: 1000 });
});

test('an HTTP refusal from agentd ends the run with status error and its message', async () => {
  handler = (_req, _body, res) => { res.writeHead(401, { 'content-type': 'application/json' }); res.end('{"message":"signature does not match the request"}'); };
  const got = await runOnce('refused-1');
  assert.is(got.length, 1);
  assert.is(got[0].exited?.status, 'error');
  assert.is(got[0].exited?.error, 'agentd refused the run (HTTP 401): signature does not match the request');
});

test('malformed NDJSON lines are skipped; split lines and multi-byte text are reassembled', async () => {
  handler = (_req, body, res) => {
    const { runId } = JSON.parse(body) as { runId: string };
    res.writeHead(200);
    const out = JSON.stringify({ type: 'output', runId, stream: 'stdout', data: 'héllo ✓\n', atMs: 2 });
    const buf = Buffer.from(out + '\n');
    res.write('{not json\n');
    res.write(JSON.stringify({ type: 'queued', runId, position: 1 }) + '\n');
    // Cut inside the multi-byte ✓ so the decoder has to carry bytes across chunks.
    const cut = buf.indexOf(Buffer.from('✓')) + 1;
    res.write(buf.subarray(0, cut));
    setTimeout(() => {
      res.write(buf.subarray(cut));
      res.end(JSON.stringify({ type: 'exit', runId, atMs: 3, exitCode: 0, signal: null, durationMs: 1, status: 'succeeded', error: null }));
    }, 20);
  };
  const got = await runOnce('garbled-1');
  assert.equal(got.map((e) => Object.keys(e).find((k) => k !== 'runId' && k !== 'seq')), ['output', 'exited']);
  assert.is(got[0].output?.data, 'héllo ✓\n');
  assert.is(got[1].exited?.status, 'succeeded', 'the last line needs no trailing newline');
});

const exitLine = (runId: string, seq: number) => JSON.stringify({ type: 'exit', runId, seq, atMs: 3, exitCode: 0, signal: null, durationMs: 1, status: 'succeeded', error: null });

test('a stream that ends without an exit: hostd re-attaches after the last seq it has and relays the rest once', async () => {
  handler = (req, body, res) => {
    if (req.method === 'GET') {
      assert.is(req.url, '/v1/exec/cut-1/events?after=2');
      // agentd sends everything after `after`; a repeat of seq 2 would be skipped all the same.
      return ndjson(res, [JSON.stringify({ type: 'output', runId: 'cut-1', seq: 2, stream: 'stdout', data: 'b\n', atMs: 2 }),
        JSON.stringify({ type: 'output', runId: 'cut-1', seq: 3, stream: 'stdout', data: 'c\n', atMs: 2 }), exitLine('cut-1', 4)]);
    }
    const { runId } = JSON.parse(body) as { runId: string };
    ndjson(res, [JSON.stringify({ type: 'started', runId, seq: 1, pid: 1, atMs: 1 }), JSON.stringify({ type: 'output', runId, seq: 2, stream: 'stdout', data: 'a\n', atMs: 2 })]);
  };
  const got = await runOnce('cut-1');
  assert.equal(got.map((e) => e.seq), [1, 2, 3, 4]);
  assert.equal(got.map((e) => e.output?.data ?? ''), ['', 'a\n', 'c\n', '']);
  assert.is(got[3].exited?.status, 'succeeded');
  assert.is(seen.filter((s) => s.path.startsWith('/v1/exec/cut-1/events')).every((s) => s.verified), true, 'the re-attach is signed');
});

test('agentd dying mid-stream, the next agentd not knowing the run: it ends as lost, with seq 0', async () => {
  handler = (req, body, res) => {
    if (req.method === 'GET') {
      res.writeHead(404, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ code: 1004, message: 'agentd does not know run dead-1 (it never ran here, or ended too long ago)', data: null }));
    }
    const { runId } = JSON.parse(body) as { runId: string };
    ndjson(res, [JSON.stringify({ type: 'started', runId, seq: 1, pid: 1, atMs: 1 })], false);
    setTimeout(() => req.socket.destroy(), 20);
  };
  const got = await runOnce('dead-1');
  const exit = got[got.length - 1];
  assert.is(exit.seq, 0);
  assert.is(exit.exited?.status, 'lost');
  assert.is(exit.exited?.error, 'the stream from agentd broke, and agentd no longer knows the run (agentd does not know run dead-1 (it never ran here, or ended too long ago))');
});

test('a run the next agentd found its killed predecessor left behind: lost, in the ledger\'s words', async () => {
  handler = (req, body, res) => {
    if (req.method === 'GET') {
      res.writeHead(404, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ code: 1004, message: lostRunMessage(true), data: { lost: true, killed: true } }));
    }
    const { runId } = JSON.parse(body) as { runId: string };
    ndjson(res, [JSON.stringify({ type: 'started', runId, seq: 1, pid: 1, atMs: 1 })], false);
    setTimeout(() => req.socket.destroy(), 20);
  };
  const got = await runOnce('ledger-1');
  assert.is(got[got.length - 1].exited?.status, 'lost');
  assert.is(got[got.length - 1].exited?.error, lostRunMessage(true));
  // The successor's heartbeat names it too: it has ended already, so nothing more is said.
  relay.reportLost([{ runId: 'ledger-1', killed: true }]);
  assert.is(events.filter((e) => e.runId === 'ledger-1' && e.exited).length, 1);
});

test('agentd already has the run (409): hostd re-attaches from the start instead of starting it again', async () => {
  handler = (req, _body, res) => {
    if (req.method === 'GET') {
      assert.is(req.url, '/v1/exec/again-1/events?after=0');
      return ndjson(res, [JSON.stringify({ type: 'started', runId: 'again-1', seq: 1, pid: 1, atMs: 1 }), exitLine('again-1', 2)]);
    }
    res.writeHead(409, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ code: 1005, message: 'run again-1 has already run; read its events instead' }));
  };
  const got = await runOnce('again-1');
  assert.equal(got.map((e) => e.seq), [1, 2]);
  assert.is(got[1].exited?.status, 'succeeded');
  assert.is(seen.filter((s) => s.path === '/v1/exec' && s.body.includes('again-1')).length, 1);
});

test('a stream that keeps ending without new events is given up as error', async () => {
  handler = (req, body, res) => {
    const runId = req.method === 'GET' ? 'empty-1' : (JSON.parse(body) as { runId: string }).runId;
    ndjson(res, req.method === 'GET' ? [] : [JSON.stringify({ type: 'started', runId, seq: 1, pid: 1, atMs: 1 })]);
  };
  const got = await runOnce('empty-1');
  assert.is(got[got.length - 1].exited?.status, 'error');
  assert.match(got[got.length - 1].exited?.error ?? '', /agentd ended the run's output stream 3 times without an exit event/);
});

test('nothing listening: status error "agentd unreachable"', async () => {
  const port = await freePort();
  const lonely = new TaskRelay({ agentAddress: `127.0.0.1:${port}`, secret: () => secret, emit, spool, log: quiet, agentWaitMs: 300 });
  lonely.dispatch({ runId: 'nobody-1', taskId: 't', timeoutMs: 0, script: { script: 'true', interpreter: '', env: {} } });
  const deadline = Date.now() + 10_000;
  while (!events.some((e) => e.runId === 'nobody-1')) {
    if (Date.now() > deadline) throw new Error('no event');
    await new Promise((r) => setTimeout(r, 20));
  }
  const e = events.find((x) => x.runId === 'nobody-1')!;
  assert.is(e.exited?.status, 'error');
  assert.match(e.exited?.error ?? "", /agentd unreachable at http:\/\/127\.0\.0\.1:\d+.*ECONNREFUSED/);
  await lonely.stop();
});

test('a repeated dispatch of a run in flight or ended unacknowledged is ignored; cancel posts the signed cancel path', async () => {
  let release!: () => void;
  handler = (req, body, res) => {
    if (req.url!.endsWith('/cancel')) { res.writeHead(200); res.end('{}'); release(); return; }
    const { runId } = JSON.parse(body) as { runId: string };
    ndjson(res, [JSON.stringify({ type: 'started', runId, pid: 1, atMs: 1 })], false);
    release = () => res.end(JSON.stringify({ type: 'exit', runId, atMs: 2, exitCode: -1, signal: 'SIGTERM', durationMs: 1, status: 'cancelled', error: null }) + '\n');
  };
  const d = { runId: 'twice/1', taskId: 't', timeoutMs: 0, script: { script: 'sleep 9', interpreter: 'sh', env: {} } };
  relay.dispatch(d);
  while (!events.some((e) => e.runId === 'twice/1')) await new Promise((r) => setTimeout(r, 10));
  relay.dispatch(d);
  await relay.cancel('twice/1');
  const got = await waitForExit('twice/1');
  // Ended, but its exit not yet acknowledged by the manager: still known, still not sent again.
  relay.dispatch(d);
  assert.is(seen.filter((s) => s.path === '/v1/exec' && s.body.includes('twice/1')).length, 1);
  const cancel = seen.find((s) => s.path === '/v1/exec/twice%2F1/cancel');
  assert.ok(cancel?.verified);
  assert.is(got[got.length - 1].exited?.status, 'cancelled');
});

test('agentBaseUrl reaches wildcard listen addresses on loopback', () => {
  assert.is(agentBaseUrl('0.0.0.0:8442'), 'http://127.0.0.1:8442');
  assert.is(agentBaseUrl('[::]:8442'), 'http://[::1]:8442');
  assert.is(agentBaseUrl('10.1.2.3:9'), 'http://10.1.2.3:9');
});

test.run();
