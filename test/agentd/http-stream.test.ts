// agentd's API over a real socket: NDJSON arrives while the script is still running, a direct-mode
// client that disconnects cancels its run (hostd's runs go on: reattach.test.ts), and HTTPS works
// with http.tlsCert/http.tlsKey.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import type { AgentApp } from '../../agentd/http/app.js';
import { AGENT_API, type AgentExecEvent } from '../../proto/agent-api.js';
import { buildAgentApp } from '../../agentd/http/app.js';
import { AllowList } from '../../agentd/ip-allow.js';
import { closeServed, isAlive, KEY_ID, listenOnLoopback, newExecutor, quietLog, SECRET, signedHeaders, tempDir, waitUntil } from './helpers/fixtures.js';

const dir = tempDir();
const executor = newExecutor();
/** opsctl in direct mode signs with a key of its own. */
const DIRECT_KEY = 'opsctl-direct';
const app = buildAgentApp({
  executor, log: quietLog, allow: new AllowList(['127.0.0.1/32']), lookupSecret: (id) => (id === KEY_ID || id === DIRECT_KEY ? SECRET : undefined),
});
let base = '';

test.before(async () => { base = await listenOnLoopback(app); });
test.after(() => closeServed(app, executor, dir));

/** Reads NDJSON events one at a time from a streaming response body. */
function eventReader(body: AsyncIterable<Buffer>) {
  const it = body[Symbol.asyncIterator]();
  let buffer = '';
  return async function next(): Promise<AgentExecEvent | undefined> {
    for (;;) {
      const nl = buffer.indexOf('\n');
      if (nl >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        return JSON.parse(line) as AgentExecEvent;
      }
      const chunk = await it.next();
      if (chunk.done) return undefined;
      buffer += chunk.value.toString('utf8');
    }
  };
}

function postExec(body: object, signal?: AbortSignal, keyId = KEY_ID) {
  const payload = JSON.stringify(body);
  return request(`${base}${AGENT_API.exec}`, { method: 'POST', body: payload, headers: signedHeaders('POST', AGENT_API.exec, payload, { keyId }), signal });
}

test('events stream while the script runs: output arrives before the script can finish', async () => {
  const gate = join(dir, 'stream-gate');
  const res = await postExec({ runId: 'stream-1', kind: 'script', params: { script: `echo first; echo warn >&2; while [ ! -e ${gate} ]; do sleep 0.05; done; echo second` } });
  assert.is(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /application\/x-ndjson/);
  const next = eventReader(res.body);
  const seen: AgentExecEvent[] = [];
  // The script waits for the gate, so these events can only have been read while it still runs.
  while (seen.filter((e) => e.type === 'output').length < 2) seen.push((await next())!);
  assert.is(seen[0].type, 'started');
  const outputs = seen.filter((e) => e.type === 'output') as Extract<AgentExecEvent, { type: 'output' }>[];
  assert.equal(outputs.map((o) => [o.stream, o.data]).sort(), [['stderr', 'warn\n'], ['stdout', 'first\n']]);
  writeFileSync(gate, '');
  const rest: AgentExecEvent[] = [];
  for (let e = await next(); e; e = await next()) rest.push(e);
  assert.equal(rest.map((e) => e.type), ['output', 'exit']);
  assert.is((rest[0] as { data: string }).data, 'second\n');
  assert.is((rest[1] as { status: string }).status, 'succeeded');
});

test('a direct-mode client that disconnects mid-stream cancels the run and its process group', async () => {
  const pidFile = join(dir, 'disconnect-child.pid');
  const abort = new AbortController();
  const res = await postExec({ runId: 'disconnect-1', kind: 'script', params: { script: `sleep 300 & echo $! > ${pidFile}; echo up; wait` } }, abort.signal, DIRECT_KEY);
  const next = eventReader(res.body);
  const started = await next();
  assert.is(started?.type, 'started');
  await waitUntil('the child pid file', () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '');
  abort.abort();
  await waitUntil('the run to be cancelled', () => executor.running === 0);
  assert.is(executor.cancel('disconnect-1'), 'finished');
  await waitUntil('the child sleep to die', () => !isAlive(Number(readFileSync(pidFile, 'utf8'))));
});

test('HTTPS: with a certificate and key the API is served over TLS', async () => {
  const certFile = join(dir, 'agent.crt');
  const keyFile = join(dir, 'agent.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
  const tls = { cert: readFileSync(certFile), key: readFileSync(keyFile) };
  const httpsApp: AgentApp = buildAgentApp({
    executor, tls, log: quietLog, allow: new AllowList(['127.0.0.1']), lookupSecret: (id) => (id === KEY_ID ? SECRET : undefined),
  });
  const dispatcher = new Agent({ connect: { ca: tls.cert } });
  try {
    await httpsApp.listen({ host: '127.0.0.1', port: 0 });
    const port = (httpsApp.server!.address() as { port: number }).port;
    const res = await request(`https://127.0.0.1:${port}${AGENT_API.health}`, { headers: signedHeaders('GET', AGENT_API.health), dispatcher });
    assert.is(res.statusCode, 200);
    assert.is(((await res.body.json()) as { data: { status: string } }).data.status, 'ok');
  } finally {
    await dispatcher.close();
    await httpsApp.close();
  }
});

test.run();
