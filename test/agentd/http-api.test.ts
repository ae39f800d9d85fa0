// agentd's HTTP API through inject() (light-my-request): authentication, allowlist, validation, envelopes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_API, type AgentHealth } from '../../proto/agent-api.js';
import { inject, newApp, newExecutor, injectSigned, parseNdjson, signedHeaders, tempDir } from './helpers/fixtures.js';

const dir = tempDir();
const executor = newExecutor({ maxConcurrent: 4 });
const app = newApp(executor);

test.after(async () => {
  await executor.shutdown(0);
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

/** An exec body whose script leaves a file behind, so a test can prove it never ran. */
function touchingExec(runId: string) {
  const marker = join(dir, `${runId}.ran`);
  return { marker, body: JSON.stringify({ runId, kind: 'script', params: { script: `touch ${marker}` } }) };
}

/** Nothing ran: the executor never heard of the run id, and the script's marker file is absent. */
async function assertNeverRan(runId: string, marker: string) {
  assert.is(executor.cancel(runId), 'unknown', `executor knows ${runId}`);
  // A signed run after it finishing proves the executor is idle and working, so a stray run would have shown.
  const probe = await injectSigned(app, 'POST', AGENT_API.exec, { runId: `${runId}-probe`, kind: 'script', params: { script: 'true' } });
  assert.is(probe.statusCode, 200);
  assert.not.ok(existsSync(marker), `${marker} exists: the unauthenticated script ran`);
}

function assertEnvelope(res: { statusCode: number; json: () => any }, status: number, code: number, message?: RegExp) {
  assert.is(res.statusCode, status);
  const body = res.json();
  assert.is(body.code, code);
  assert.type(body.timestamp, 'string');
  assert.ok('data' in body);
  if (message) assert.match(body.message, message);
  return body;
}

test('GET /v1/health (signed) → AgentHealth in the envelope', async () => {
  const res = await injectSigned(app, 'GET', AGENT_API.health);
  const body = assertEnvelope(res, 200, 0);
  const health = body.data as AgentHealth;
  assert.is(health.status, 'ok');
  assert.is(health.pid, process.pid);
  assert.is(health.maxConcurrent, 4);
  assert.is(health.running, 0);
  assert.type(health.version, 'string');
});

test('signed exec streams NDJSON events ending with exit', async () => {
  const res = await injectSigned(app, 'POST', AGENT_API.exec, { runId: 'inj-1', kind: 'script', params: { script: 'echo out; echo err >&2; exit 4' } });
  assert.is(res.statusCode, 200);
  assert.match(res.headers['content-type'] as string, /application\/x-ndjson/);
  const events = parseNdjson(res.body);
  assert.equal(events.map((e) => e.type).filter((t, i, a) => a.indexOf(t) === i), ['started', 'output', 'exit']);
  const exit = events[events.length - 1] as { status: string; exitCode: number };
  assert.is(exit.status, 'failed');
  assert.is(exit.exitCode, 4);
});

test('unsigned request → 401 1002 and nothing runs', async () => {
  const { marker, body } = touchingExec('unsigned');
  const res = await inject(app, { method: 'POST', url: AGENT_API.exec, payload: body, headers: { 'content-type': 'application/json' } });
  assertEnvelope(res, 401, 1002, /not signed/);
  await assertNeverRan('unsigned', marker);
});

test('tampered body → 401 1002 and nothing runs', async () => {
  const { marker, body } = touchingExec('tampered-body');
  const headers = signedHeaders('POST', AGENT_API.exec, JSON.stringify({ runId: 'tampered-body', kind: 'script', params: { script: 'true' } }));
  const res = await inject(app, { method: 'POST', url: AGENT_API.exec, payload: body, headers });
  assertEnvelope(res, 401, 1002, /signature does not match/);
  await assertNeverRan('tampered-body', marker);
});

test('tampered path (query added) → 401 1002 and nothing runs', async () => {
  const { marker, body } = touchingExec('tampered-path');
  const headers = signedHeaders('POST', AGENT_API.exec, body);
  const res = await inject(app, { method: 'POST', url: `${AGENT_API.exec}?x=1`, payload: body, headers });
  assertEnvelope(res, 401, 1002, /signature does not match/);
  await assertNeverRan('tampered-path', marker);
});

test('signature made for another method → 401 1002 and nothing runs', async () => {
  const { marker, body } = touchingExec('wrong-method');
  const headers = signedHeaders('PUT', AGENT_API.exec, body);
  const res = await inject(app, { method: 'POST', url: AGENT_API.exec, payload: body, headers });
  assertEnvelope(res, 401, 1002, /signature does not match/);
  await assertNeverRan('wrong-method', marker);
});

test('stale timestamp → 401 1002 and nothing runs', async () => {
  const { marker, body } = touchingExec('stale');
  const headers = signedHeaders('POST', AGENT_API.exec, body, { timestamp: Math.floor(Date.now() / 1000) - 301 });
  const res = await inject(app, { method: 'POST', url: AGENT_API.exec, payload: body, headers });
  assertEnvelope(res, 401, 1002, /timestamp outside/);
  await assertNeverRan('stale', marker);
});

test('wrong secret and unknown key id → 401 1002', async () => {
  const body = JSON.stringify({ runId: 'wrong-secret', kind: 'script', params: { script: 'true' } });
  const bad = signedHeaders('POST', AGENT_API.exec, body, { secret: 'f'.repeat(64) });
  assertEnvelope(await inject(app, { method: 'POST', url: AGENT_API.exec, payload: body, headers: bad }), 401, 1002, /signature/);
  const unknown = { ...signedHeaders('POST', AGENT_API.exec, body), 'x-ops-key-id': 'someone' };
  assertEnvelope(await inject(app, { method: 'POST', url: AGENT_API.exec, payload: body, headers: unknown }), 401, 1002, /unknown key id/);
});

test('replayed nonce → 401 1002 and the script runs only once', async () => {
  const marker = join(dir, 'replay.count');
  const body = JSON.stringify({ runId: 'replay', kind: 'script', params: { script: `echo x >> ${marker}` } });
  const headers = signedHeaders('POST', AGENT_API.exec, body);
  const first = await inject(app, { method: 'POST', url: AGENT_API.exec, payload: body, headers });
  assert.is(first.statusCode, 200);
  const again = await inject(app, { method: 'POST', url: AGENT_API.exec, payload: body, headers });
  assertEnvelope(again, 401, 1002, /replay/);
  assert.is(readFileSync(marker, 'utf8'), 'x\n');
});

test('a client address outside http.allow → 403 1003, checked before the signature', async () => {
  const { marker, body } = touchingExec('forbidden-ip');
  const headers = signedHeaders('POST', AGENT_API.exec, body);
  const res = await inject(app, { method: 'POST', url: AGENT_API.exec, payload: body, headers, remoteAddress: '10.1.2.3' });
  assertEnvelope(res, 403, 1003, /10\.1\.2\.3 is not allowed/);
  const unsigned = await inject(app, { method: 'GET', url: AGENT_API.health, remoteAddress: '192.168.0.9' });
  assertEnvelope(unsigned, 403, 1003);
  await assertNeverRan('forbidden-ip', marker);
  // The same signed request from an allowed IPv6 loopback (and an IPv4-mapped address) is fine.
  const v6 = await injectSigned(app, 'GET', AGENT_API.health, undefined, '::1');
  assert.is(v6.statusCode, 200);
  const mapped = await injectSigned(app, 'GET', AGENT_API.health, undefined, '::ffff:127.0.0.1');
  assert.is(mapped.statusCode, 200);
});

test('malformed bodies → 400 1001 naming the field', async () => {
  const S = (params: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ runId: 'm-x', kind: 'script', params, ...extra });
  const cases: [unknown, RegExp, string][] = [
    [{ kind: 'script', params: { script: 'true' } }, /body\.runId is required/, 'body.runId'],
    [{ runId: 'm-0', params: { script: 'true' } }, /body\.kind is required/, 'body.kind'],
    [{ runId: 'm-k', kind: 'perl', params: {} }, /body\.kind must be equal to one of the allowed values/, 'body.kind'],
    [S({}), /body\.params\.script is required/, 'body.params.script'],
    [{ runId: 42, kind: 'script', params: { script: 'true' } }, /body\.runId must be string/, 'body.runId'],
    [S({ script: 'true', interpreter: 'perl' }), /body\.params\.interpreter/, 'body.params.interpreter'],
    [S({ script: 'true' }, { timeoutMs: 0 }), /body\.timeoutMs must be >= 1/, 'body.timeoutMs'],
    [S({ script: 'true' }, { timeoutMs: '100' }), /body\.timeoutMs must be integer/, 'body.timeoutMs'],
    [S({ script: 'true', env: { GOOD: 1 } }), /body\.params\.env\.GOOD must be string/, 'body.params.env.GOOD'],
    [S({ script: 'true', env: { 'BAD-NAME': 'x' } }), /body\.params\.env\.BAD-NAME is not allowed/, 'body.params.env.BAD-NAME'],
    [S({ script: 'true' }, { shell: 'zsh' }), /body\.shell is not allowed/, 'body.shell'],
    [S({ script: 'true', shell: 'zsh' }), /body\.params\.shell is not allowed/, 'body.params.shell'],
    [{ runId: 'has space', kind: 'script', params: { script: 'true' } }, /body\.runId must match pattern/, 'body.runId'],
    [S({ script: '' }), /body\.params\.script must NOT have fewer than 1 characters/, 'body.params.script'],
    [[1, 2], /body must be object/, 'body'],
  ];
  for (const [payload, message, field] of cases) {
    const res = await injectSigned(app, 'POST', AGENT_API.exec, payload);
    const body = assertEnvelope(res, 400, 1001, message);
    assert.equal(body.data, { field }, JSON.stringify(payload));
  }
});

test('a body that is not JSON → 400 1001; an empty exec body → 400 1001', async () => {
  assertEnvelope(await injectSigned(app, 'POST', AGENT_API.exec, '{"runId": '), 400, 1001, /not valid JSON/);
  const empty = await inject(app, { method: 'POST', url: AGENT_API.exec, headers: signedHeaders('POST', AGENT_API.exec) });
  assertEnvelope(empty, 400, 1001, /body must be object/);
});

test('a body that is not application/json → 415 1001', async () => {
  const body = 'runId=x';
  const headers = { ...signedHeaders('POST', AGENT_API.exec, body), 'content-type': 'application/x-www-form-urlencoded' };
  assertEnvelope(await inject(app, { method: 'POST', url: AGENT_API.exec, payload: body, headers }), 415, 1001);
});

test('a body without a media type → 415 1001; a path that is not valid percent-encoding → 400 1001', async () => {
  const { body } = touchingExec('no-type');
  const headers = signedHeaders('POST', AGENT_API.exec, body);
  delete headers['content-type'];
  assertEnvelope(await inject(app, { method: 'POST', url: AGENT_API.exec, payload: body, headers }), 415, 1001, /Unsupported Media Type/);
  assertEnvelope(await injectSigned(app, 'POST', '/v1/exec/%E0%A4%A/cancel'), 400, 1001, /not a valid url component/);
});

test('a body over 2 MiB → 413 1001 and nothing runs', async () => {
  const marker = join(dir, 'big.ran');
  const body = JSON.stringify({ runId: 'big', kind: 'script', params: { script: `touch ${marker}\n#${'x'.repeat(2 * 1024 * 1024)}` } });
  const res = await inject(app, { method: 'POST', url: AGENT_API.exec, payload: body, headers: signedHeaders('POST', AGENT_API.exec, body) });
  assertEnvelope(res, 413, 1001, /too large/);
  await assertNeverRan('big', marker);
});

test('duplicate run id while running → 409 1005; cancel → {cancelled: true}; unknown → 404 1004', async () => {
  const running = injectSigned(app, 'POST', AGENT_API.exec, { runId: 'dup-http', kind: 'script', params: { script: 'sleep 300' } });
  // inject resolves only when the stream ends, so wait for the run to be visible instead.
  while (executor.running === 0) await new Promise((r) => setTimeout(r, 10));
  const dup = await injectSigned(app, 'POST', AGENT_API.exec, { runId: 'dup-http', kind: 'script', params: { script: 'true' } });
  assertEnvelope(dup, 409, 1005, /already queued or running/);
  const cancel = await injectSigned(app, 'POST', AGENT_API.cancel('dup-http'));
  assert.equal(assertEnvelope(cancel, 200, 0).data, { cancelled: true });
  const events = parseNdjson((await running).body);
  assert.is((events[events.length - 1] as { status: string }).status, 'cancelled');
  const again = await injectSigned(app, 'POST', AGENT_API.cancel('dup-http'), {});
  assert.equal(assertEnvelope(again, 200, 0).data, { cancelled: false });
  assertEnvelope(await injectSigned(app, 'POST', AGENT_API.cancel('nope')), 404, 1004, /no run nope/);
});

test('cancel needs a signature too; a bad run id in the path → 400 1001', async () => {
  assertEnvelope(await inject(app, { method: 'POST', url: AGENT_API.cancel('x') }), 401, 1002);
  const bad = await injectSigned(app, 'POST', '/v1/exec/has%20space/cancel');
  assertEnvelope(bad, 400, 1001, /params\.runId/);
});

test('unknown routes → 401 unsigned, 404 1004 signed; wrong verb on a route → 404', async () => {
  assertEnvelope(await inject(app, { method: 'GET', url: '/v1/nothing' }), 401, 1002);
  assertEnvelope(await injectSigned(app, 'GET', '/v1/nothing'), 404, 1004);
  assertEnvelope(await injectSigned(app, 'GET', AGENT_API.exec), 404, 1004);
});

test.run();
