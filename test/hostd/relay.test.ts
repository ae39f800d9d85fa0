// The task relay against a real HTTP server standing in for agentd, to feed it the bad answers a
// real agentd does not give on purpose: refusals, garbage lines, streams cut short.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../../lib/log.js';
import { Writable } from 'node:stream';
import { NonceCache, verifyRequest } from '../../proto/signing.js';
import type { TaskEvent } from '../../proto/hostlink.js';
import { agentBaseUrl, TaskRelay } from '../../hostd/relay.js';
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

test.before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  relay = new TaskRelay({ agentAddress: `127.0.0.1:${(server.address() as AddressInfo).port}`, secret: () => secret, emit: (e) => events.push(e), log: quiet });
});
test.after(async () => {
  await relay.stop();
  await new Promise<void>((r) => server.close(() => r()));
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
  assert.equal(got.map((e) => Object.keys(e).find((k) => k !== 'runId')), ['output', 'exited']);
  assert.is(got[0].output?.data, 'héllo ✓\n');
  assert.is(got[1].exited?.status, 'succeeded', 'the last line needs no trailing newline');
});

test('a stream that ends without an exit event ends the run with status error', async () => {
  handler = (_req, body, res) => {
    const { runId } = JSON.parse(body) as { runId: string };
    ndjson(res, [JSON.stringify({ type: 'started', runId, pid: 1, atMs: 1 })]);
  };
  const got = await runOnce('cut-1');
  assert.is(got[0].started?.pid, 1);
  assert.is(got[1].exited?.status, 'error');
  assert.match(got[1].exited?.error ?? "", /without an exit event/);
});

test('agentd dying mid-stream ends the run with status error', async () => {
  handler = (req, body, res) => {
    const { runId } = JSON.parse(body) as { runId: string };
    ndjson(res, [JSON.stringify({ type: 'started', runId, pid: 1, atMs: 1 })], false);
    setTimeout(() => req.socket.destroy(), 20);
  };
  const got = await runOnce('dead-1');
  assert.is(got[got.length - 1].exited?.status, 'error');
});

test('nothing listening: status error "agentd unreachable"', async () => {
  const port = await freePort();
  const lonely = new TaskRelay({ agentAddress: `127.0.0.1:${port}`, secret: () => secret, emit: (e) => events.push(e), log: quiet });
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

test('a repeated dispatch of a run in flight is ignored; cancel posts the signed cancel path', async () => {
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
