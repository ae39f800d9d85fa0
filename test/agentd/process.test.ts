// The real agentd process: start-up checks (keys file mode, pid file), flags, signed requests
// over its socket, graceful SIGTERM with a script running.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { request } from 'undici';
import { AGENT_API, type AgentExecEvent } from '../../proto/agent-api.js';
import { signedHeaders, tempDir, writeKeysFile } from './helpers/fixtures.js';
import { startAgentd, startServingAgentd, type AgentdProcess } from './helpers/agentd-process.js';

const dir = tempDir();
const keysFile = writeKeysFile(dir);
const started: AgentdProcess[] = [];
const track = <T extends { agentd: AgentdProcess } | AgentdProcess>(x: T): T => {
  started.push('agentd' in x ? x.agentd : x);
  return x;
};

test.after(async () => {
  for (const p of started) await p.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a keys file readable by others (0644) is refused with a clear message, exit 1', async () => {
  const loose = join(dir, 'loose-keys.json');
  writeFileSync(loose, JSON.stringify({ keys: { hostd: 'a'.repeat(64) } }), { mode: 0o644 });
  chmodSync(loose, 0o644);
  const p = track(startAgentd(['--keys-file', loose, '--listen', '127.0.0.1:0']));
  assert.is(await p.exited, 1);
  assert.match(p.stderr(), /has mode 0644: it must not be readable by group or others/);
  assert.match(p.stderr(), /chmod 600/);
});

test('no keys file, unreadable JSON, bad flag values → exit 1 or 2 with a message', async () => {
  const none = track(startAgentd(['--listen', '127.0.0.1:0']));
  assert.is(await none.exited, 1);
  assert.match(none.stderr(), /no keys file: set --keys-file/);
  const broken = join(dir, 'broken-keys.json');
  writeFileSync(broken, '{not json', { mode: 0o600 });
  const b = track(startAgentd(['--keys-file', broken]));
  assert.is(await b.exited, 1);
  assert.match(b.stderr(), /parsing keys file/);
  const badMax = track(startAgentd(['--keys-file', keysFile, '--max-concurrent', 'many']));
  assert.is(await badMax.exited, 1);
  assert.match(badMax.stderr(), /tasks\.maxConcurrent \(from command line\) must be a number/);
  const badAllow = track(startAgentd(['--keys-file', keysFile, '--allow', '10.0.0.0/99']));
  assert.is(await badAllow.exited, 1);
  assert.match(badAllow.stderr(), /http\.allow: "10\.0\.0\.0\/99" has a bad prefix length/);
  const badListen = track(startAgentd(['--keys-file', keysFile, '--listen', 'nowhere']));
  assert.is(await badListen.exited, 1);
  assert.match(badListen.stderr(), /http\.listen must be HOST:PORT/);
  const unknown = track(startAgentd(['--frobnicate']));
  assert.is(await unknown.exited, 2);
  assert.match(unknown.stderr(), /Unknown option '--frobnicate'/);
});

test('--help and --version print and exit 0', async () => {
  const help = track(startAgentd(['--help']));
  assert.is(await help.exited, 0);
  for (const flag of ['--config', '--log-level', '--listen', '--keys-file', '--hostd-socket', '--pid-file', '--max-concurrent', '--allow', '--help', '--version']) {
    assert.ok(help.stdout().includes(flag), flag);
  }
  const version = track(startAgentd(['--version']));
  assert.is(await version.exited, 0);
  assert.match(version.stdout(), /^agentd \d+\.\d+\.\d+/);
});

test('a pid file naming another live process is refused; a stale one is replaced and removed at exit', async () => {
  const pidFile = join(dir, 'agentd.pid');
  const other = spawn('sleep', ['300'], { stdio: 'ignore' });
  try {
    writeFileSync(pidFile, `${other.pid}\n`);
    const refused = track(startAgentd(['--keys-file', keysFile, '--listen', '127.0.0.1:0', '--pid-file', pidFile]));
    assert.is(await refused.exited, 1);
    assert.match(refused.stderr(), new RegExp(`names process ${other.pid}, which is still running`));
    assert.is(readFileSync(pidFile, 'utf8').trim(), String(other.pid), 'the other process keeps its pid file');
  } finally {
    other.kill('SIGKILL');
    await new Promise((r) => other.once('exit', r));
  }
  // The named process is gone now: a stale file is taken over.
  const { agentd } = track(await startServingAgentd(['--keys-file', keysFile, '--pid-file', pidFile]));
  assert.is(readFileSync(pidFile, 'utf8').trim(), String(agentd.child.pid));
  assert.is(await agentd.stop(), 0);
  assert.not.ok(existsSync(pidFile), 'pid file removed at clean exit');
});

test('env and YAML config are used (flags > env > YAML)', async () => {
  const yaml = join(dir, 'agentd.yaml');
  writeFileSync(yaml, `tasks:\n  maxConcurrent: 3\nhttp:\n  listen: 127.0.0.1:1\nauth:\n  keysFile: ${keysFile}\n`);
  const { agentd, baseUrl } = track(await startServingAgentd(['--config', yaml], { OPS_TASKS_MAX_CONCURRENT: '5' }));
  const res = await request(`${baseUrl}${AGENT_API.health}`, { headers: signedHeaders('GET', AGENT_API.health) });
  const health = ((await res.body.json()) as { data: { maxConcurrent: number; pid: number } }).data;
  assert.is(health.maxConcurrent, 5);
  assert.is(health.pid, agentd.child.pid);
  const unknownKey = join(dir, 'bad.yaml');
  writeFileSync(unknownKey, 'tasks:\n  maxConcurent: 3\n');
  const bad = track(startAgentd(['--config', unknownKey]));
  assert.is(await bad.exited, 1);
  assert.match(bad.stderr(), /unknown option "tasks\.maxConcurent"/);
});

test('SIGTERM: a running script finishes within the grace, its exit event arrives, a new run is refused, exit 0', async () => {
  const { agentd, baseUrl } = track(await startServingAgentd(['--keys-file', keysFile]));
  const gate = join(dir, 'sigterm-gate');
  const payload = JSON.stringify({ runId: 'term-1', kind: 'script', params: { script: `echo begun; while [ ! -e ${gate} ]; do sleep 0.05; done; echo done` } });
  const res = await request(`${baseUrl}${AGENT_API.exec}`, { method: 'POST', body: payload, headers: signedHeaders('POST', AGENT_API.exec, payload) });
  const chunks: string[] = [];
  const reading = (async () => { for await (const c of res.body) chunks.push(String(c)); })();
  while (!chunks.join('').includes('begun')) await new Promise((r) => setTimeout(r, 20));
  agentd.child.kill('SIGTERM');
  await agentd.waitForLog((l) => l.msg === 'shutting down', 'the shutdown to begin');
  const late = JSON.stringify({ runId: 'term-2', kind: 'script', params: { script: `touch ${join(dir, 'term-2.ran')}` } });
  const refused = await request(`${baseUrl}${AGENT_API.exec}`, { method: 'POST', body: late, headers: signedHeaders('POST', AGENT_API.exec, late) })
    .then(async (r) => { await r.body.text(); return r.statusCode; }, (err: Error & { code?: string }) => err.code ?? err.message);
  assert.ok(refused === 'ECONNREFUSED' || refused === 503, `a run after SIGTERM got ${refused}`);
  writeFileSync(gate, '');
  await reading;
  const events = chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AgentExecEvent);
  const exit = events[events.length - 1] as Extract<AgentExecEvent, { type: 'exit' }>;
  assert.is(exit.type, 'exit');
  assert.is(exit.status, 'succeeded');
  assert.is(await agentd.exited, 0);
  assert.not.ok(existsSync(join(dir, 'term-2.ran')));
});

test('agentd does not log keys, signatures or script env values', async () => {
  const { agentd, baseUrl } = track(await startServingAgentd(['--keys-file', keysFile]));
  const payload = JSON.stringify({ runId: 'secret-env', kind: 'script', params: { script: 'true', env: { DB_PASSWORD: 'hunter2-very-secret' } } });
  const res = await request(`${baseUrl}${AGENT_API.exec}`, { method: 'POST', body: payload, headers: signedHeaders('POST', AGENT_API.exec, payload) });
  await res.body.text();
  const bad = await request(`${baseUrl}${AGENT_API.exec}`, { method: 'POST', body: payload, headers: { ...signedHeaders('POST', AGENT_API.exec, '{}'), 'content-type': 'application/json' } });
  assert.is(bad.statusCode, 401);
  await bad.body.text();
  await agentd.stop();
  const secret = JSON.parse(readFileSync(keysFile, 'utf8')).keys.hostd as string;
  const all = agentd.stdout() + agentd.stderr();
  assert.ok(all.includes('run finished'), 'the run was logged');
  assert.not.ok(all.includes('hunter2-very-secret'));
  assert.not.ok(all.includes(secret));
});

test.run();
