// What a restarted agentd owes its previous life: a signed request captured before the restart
// stays spent (no second run), and scripts left running by an agentd that was SIGKILLed are found
// and ended. Real agentd processes, real signed requests over real sockets, one data dir reused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { appendFileSync, existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { AGENT_API, type AgentExecEvent } from '../../proto/agent-api.js';
import { PersistentNonceCache } from '../../agentd/http/nonce-store.js';
import { isAlive, KEY_ID, SECRET, signedHeaders, tempDir, waitUntil, writeKeysFile } from './helpers/fixtures.js';
import { signRequest } from '../../proto/signing.js';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { startServingAgentd, type AgentdProcess } from './helpers/agentd-process.js';

const dirs: string[] = [];
const started: AgentdProcess[] = [];
/** Script process groups a failed test may have left behind. */
const groups: number[] = [];
async function serve(keysFile: string) {
  const s = await startServingAgentd(['--keys-file', keysFile]);
  started.push(s.agentd);
  return s;
}
function freshDir(): { dir: string; keysFile: string } {
  const dir = tempDir('agentd-restart-');
  dirs.push(dir);
  return { dir, keysFile: writeKeysFile(dir) };
}

test.after(async () => {
  for (const p of started) await p.stop();
  for (const g of groups) if (groupMembers(g).length > 0) process.kill(-g, 'SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The live (not zombie) processes of a process group, from /proc. */
function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') members.push(Number(name));
    } catch {
      // exited while we looked
    }
  }
  return members;
}

const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8);
const countLines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0);

test('a signed exec replayed after agentd restarts (clean stop, then SIGKILL) is refused 401/1002 and the script ran once', async () => {
  const { dir, keysFile } = freshDir();
  const counter = join(dir, 'ran.count');
  const first = await serve(keysFile);
  const body = JSON.stringify({ runId: 'replay-1', kind: 'script', params: { script: `echo ran >> ${counter}` } });
  // The request exactly as an eavesdropper would have captured it.
  const captured = { method: 'POST' as const, path: AGENT_API.exec, headers: signedHeaders('POST', AGENT_API.exec, body), body };
  const send = (baseUrl: string) => request(`${baseUrl}${captured.path}`, { method: captured.method, headers: captured.headers, body: captured.body });
  const res = await send(first.baseUrl);
  assert.is(res.statusCode, 200);
  const events = (await res.body.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l) as AgentExecEvent);
  assert.is((events[events.length - 1] as { status: string }).status, 'succeeded');
  assert.is(countLines(counter), 1);

  assert.is(await first.agentd.stop(), 0);
  const second = await serve(keysFile);
  const replayed = await send(second.baseUrl);
  assert.is(replayed.statusCode, 401);
  const envelope = (await replayed.body.json()) as { code: number; message: string; data: unknown };
  assert.is(envelope.code, 1002);
  assert.match(envelope.message, /nonce already used/);

  // A crash must not forget it either.
  second.agentd.child.kill('SIGKILL');
  await second.agentd.exited;
  const third = await serve(keysFile);
  const again = await send(third.baseUrl);
  assert.is(again.statusCode, 401);
  assert.is(((await again.body.json()) as { code: number }).code, 1002);

  // Still serving fresh requests; the script never ran a second time.
  const health = await request(`${third.baseUrl}${AGENT_API.health}`, { headers: signedHeaders('GET', AGENT_API.health) });
  assert.is(health.statusCode, 200);
  await health.body.text();
  assert.is(countLines(counter), 1);
  assert.is(modeOf(join(dir, 'agentd-nonces.jsonl')), '600');
});

test('a script left running by a SIGKILLed agentd is ended by the next agentd and reported lost', async () => {
  const { dir, keysFile } = freshDir();
  const first = await serve(keysFile);
  const body = JSON.stringify({ runId: 'orphan-1', kind: 'script', params: { script: 'sleep 300' } });
  const res = await request(`${first.baseUrl}${AGENT_API.exec}`, { method: 'POST', body, headers: signedHeaders('POST', AGENT_API.exec, body) });
  let text = '';
  const reading = (async () => { for await (const c of res.body) text += String(c); })().catch(() => { /* agentd is killed mid-stream */ });
  await waitUntil('the started event', () => text.includes('"started"'));
  const startedEvent = JSON.parse(text.split('\n')[0]) as Extract<AgentExecEvent, { type: 'started' }>;
  const pgid = startedEvent.pid; // the script leads its own process group
  groups.push(pgid);
  // Asserted at the end, so that without a ledger the test fails on what matters: the orphan.
  const ledgerDir = join(dir, 'agentd-runs');
  const ledgers = existsSync(ledgerDir) ? readdirSync(ledgerDir).map((n) => ({ mode: modeOf(join(ledgerDir, n)), text: readFileSync(join(ledgerDir, n), 'utf8') })) : [];

  first.agentd.child.kill('SIGKILL');
  await first.agentd.exited;
  await reading;
  assert.ok(isAlive(pgid), 'the script outlived the agentd that started it');
  assert.ok(groupMembers(pgid).length > 0);

  const second = await serve(keysFile);
  await waitUntil('the orphaned script group to be gone', () => groupMembers(pgid).length === 0 && !isAlive(pgid));
  const warned = await second.agentd.waitForLog((l) => Array.isArray(l.runIds) && (l.runIds as string[]).includes('orphan-1'), 'the lost run to be logged');
  assert.is(warned.level, 'warn');
  const health = await request(`${second.baseUrl}${AGENT_API.health}`, { headers: signedHeaders('GET', AGENT_API.health) });
  const data = ((await health.body.json()) as { data: { lostRuns?: { runId: string; pid: number; killed: boolean }[] } }).data;
  assert.equal(data.lostRuns, [{ runId: 'orphan-1', pid: pgid, killed: true }]);
  assert.is(ledgers.length, 1, 'one ledger file while the script ran');
  assert.is(ledgers[0].mode, '600');
  assert.match(ledgers[0].text, /"runId":"orphan-1"/);
  await waitUntil('the dead ledger to be removed', () => readdirSync(ledgerDir).length === 0);
});

test('an upload half written by a SIGKILLed agentd: the next agentd removes its temp file and reports the run lost', async () => {
  const { dir, keysFile } = freshDir();
  const first = await serve(keysFile);
  const root = join(dir, 'files'); // agentd's default file root: <state dir>/files
  const size = 1024 * 1024;
  const sha256 = createHash('sha256').update(Buffer.alloc(size)).digest('hex');
  const body = JSON.stringify({ runId: 'upload-1', kind: 'file', params: { op: 'upload', path: join(root, 'big.bin'), sha256, size } });
  const res = await request(`${first.baseUrl}${AGENT_API.exec}`, { method: 'POST', body, headers: signedHeaders('POST', AGENT_API.exec, body) });
  assert.is(res.statusCode, 200);
  const reading = res.body.text().catch(() => ''); // agentd is killed mid-stream
  // Half the content, then the sender waits: the temp file exists, the final name does not.
  const path = AGENT_API.content('upload-1');
  const put = httpRequest(`${first.baseUrl}${path}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(size), ...signRequest({ method: 'PUT', path, bodyHash: sha256, keyId: KEY_ID, secret: SECRET }) },
  });
  put.on('error', () => { /* agentd is killed */ });
  put.write(Buffer.alloc(size / 2));
  await waitUntil('the temp file', () => existsSync(root) && readdirSync(root).some((n) => n.startsWith('.big.bin.opsctl-')));
  first.agentd.child.kill('SIGKILL');
  await first.agentd.exited;
  put.destroy();
  await reading;
  assert.ok(readdirSync(root).some((n) => n.startsWith('.big.bin.opsctl-')), 'the killed agentd left its temp file');

  const second = await serve(keysFile);
  await waitUntil('the temp file to be removed', () => readdirSync(root).length === 0);
  const health = await request(`${second.baseUrl}${AGENT_API.health}`, { headers: signedHeaders('GET', AGENT_API.health) });
  const data = ((await health.body.json()) as { data: { lostRuns?: { runId: string; pid: number; killed: boolean }[] } }).data;
  assert.equal(data.lostRuns, [{ runId: 'upload-1', pid: 0, killed: false }]);
});

test('the nonce file: a new cache refuses what an old one accepted, drops expired nonces, survives a torn last line', () => {
  const { dir } = freshDir();
  const path = join(dir, 'nonces.jsonl');
  const t0 = 1_700_000_000_000;
  const before = new PersistentNonceCache(path, 600_000);
  assert.ok(before.checkAndRemember('old', t0));
  assert.ok(before.checkAndRemember('recent', t0 + 500_000));
  appendFileSync(path, '["torn", 17'); // a crash in the middle of an append
  const after = new PersistentNonceCache(path, 600_000);
  after.open(t0 + 700_000);
  assert.not.ok(after.checkAndRemember('recent', t0 + 700_000), 'still inside its window: a replay');
  assert.ok(after.checkAndRemember('old', t0 + 700_000), 'its window is over: the timestamp check refuses it, not the cache');
  assert.is(modeOf(path), '600');
  assert.not.match(readFileSync(path, 'utf8'), /torn/);
});

test.run();
