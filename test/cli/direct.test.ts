// Direct mode, on the real path: the built opsctl with --inventory, two real agentd processes (each
// its own keys file, port and `node-name` on its PATH), no manager. Output, exit codes and --json
// are held to what tasks.test.ts expects through the manager; hosts that cannot be reached or
// refuse the key end their own run; bad inventories are refused before anything is sent.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskStreamEvent } from '../../proto/rest/tasks.js';
import { freePorts } from '../helpers/ports.js';
import { ConfigHome, ensureBuilt, opsctl, root, type RunOptions } from './run-opsctl.js';

const home = new ConfigHome();
const scratch = mkdtempSync(join(tmpdir(), 'opsctl-direct-'));
const inventory = join(scratch, 'hosts.yaml');
const agents: ChildProcess[] = [];
let deadPort = 0;
let web2Port = 0;

const run = (args: string[], opts: RunOptions = {}) => opsctl(home, ['tasks', 'run', '--inventory', inventory, ...args], { timeoutMs: 30_000, ...opts });
const linesOf = (text: string, node: string) => text.split('\n').filter((l) => l.startsWith(`${node}: `));

function privateFile(path: string, text: string, mode = 0o600): string {
  writeFileSync(path, text, { mode });
  chmodSync(path, mode);
  return path;
}

/** A PATH whose first directory holds `node-name`, printing `name`. */
function pathFor(name: string): string {
  const bin = join(scratch, name, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'node-name'), `#!/bin/sh\necho ${name}\n`);
  chmodSync(join(bin, 'node-name'), 0o755);
  return `${bin}:${process.env.PATH}`;
}

/** Starts bin/agentd on `port` with its own keys file (key id "ops"); resolves once it serves. */
async function startAgentd(name: string, port: number, secret: string): Promise<void> {
  const keys = privateFile(join(scratch, `${name}-keys.json`), JSON.stringify({ keys: { ops: secret } }));
  const child = spawn(process.execPath, [join(root, 'bin', 'agentd.js'), '--keys-file', keys, '--listen', `127.0.0.1:${port}`], {
    env: { ...process.env, OPS_LOG_LEVEL: 'info', PATH: pathFor(name) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  agents.push(child);
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => { out += d; if (out.includes('"agentd started"')) resolve(); });
    child.once('exit', (code) => reject(new Error(`agentd ${name} exited (${code}) before serving:\n${out}`)));
  });
}

test.before(async () => {
  ensureBuilt();
  const [p1, p2, p3] = await freePorts(3);
  web2Port = p2;
  deadPort = p3;
  const [s1, s2] = [randomBytes(32).toString('hex'), randomBytes(32).toString('hex')];
  await Promise.all([startAgentd('web-1', p1, s1), startAgentd('web-2', p2, s2)]);
  mkdirSync(join(scratch, 'keys'));
  privateFile(join(scratch, 'keys', 'web-1.key'), `${s1}\n`);
  privateFile(join(scratch, 'web-2.key'), s2);
  writeFileSync(inventory, `
defaults:
  keyId: ops
  keyFile: ./web-2.key
hosts:
  - name: web-1
    url: http://127.0.0.1:${p1}
    keyFile: keys/web-1.key
    labels: { env: prod, role: web }
    groups: [web]
  - name: web-2
    url: http://127.0.0.1:${p2}/
    labels: { env: staging, role: web }
    groups: [web, db]
  - name: spare
    url: http://127.0.0.1:${p3}
    labels: { role: spare }
  - name: wrong-key
    url: http://127.0.0.1:${p2}
    keyFile: ${join(scratch, 'keys', 'web-1.key')}
    labels: { role: spare }
`);
});

test.after(async () => {
  await Promise.all(agents.map((child) => new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(null);
    child.once('exit', resolve);
    child.kill('SIGTERM');
  })));
  home.remove();
  rmSync(scratch, { recursive: true, force: true });
});

test('a succeeding command: prefixed lines as through the manager, summary on stderr, exit 0', async () => {
  const r = await run(['-g', 'web', '--', 'echo "first from $(node-name)"; echo \'warning: low disk\' >&2; printf "second from %s\\nno newline at the end" "$(node-name)"']);
  assert.is(r.code, 0, r.stderr);
  for (const node of ['web-1', 'web-2']) assert.equal(linesOf(r.stdout, node), [`${node}: first from ${node}`, `${node}: second from ${node}`, `${node}: no newline at the end`]);
  assert.is(r.stdout.split('\n').length, 7);
  const err = r.stderr.split('\n');
  assert.equal(err.slice(0, 2).sort(), ['web-1: warning: low disk', 'web-2: warning: low disk']);
  assert.match(err.slice(2).join('\n'), /^2 nodes: 2 succeeded in \d+\.\d s\n$/);
});

test('a failing command: exit 1, the summary names the node and its exit code', async () => {
  const r = await run(['web-1', 'web-2', '--', 'echo "ok from $(node-name)"; [ "$(node-name)" != web-2 ] || exit 3']);
  assert.is(r.code, 1, r.stderr);
  assert.equal(r.stdout.split('\n').sort(), ['', 'web-1: ok from web-1', 'web-2: ok from web-2']);
  assert.match(r.stderr, /^2 nodes: 1 succeeded, 1 failed \(exit 3 on web-2\) in \d+\.\d s\n$/);
});

test('--json prints the events the manager would send, one NDJSON line each, ending with done', async () => {
  const r = await run(['web-1', '--json', '--', 'echo a; echo b; exit 3']);
  assert.is(r.code, 1, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  const events = lines.map((l) => JSON.parse(l) as TaskStreamEvent);
  assert.equal(lines, events.map((e) => JSON.stringify(e)));
  const types = events.map((e) => e.type);
  assert.equal(types.slice(0, 2), ['run', 'started']);
  assert.equal(types.slice(-2), ['exit', 'done']);
  assert.ok(types.slice(2, -2).every((t) => t === 'output'), types.join(','));
  const runId = (events[0] as { runId: string }).runId;
  assert.equal(events[0], { type: 'run', runId, node: 'web-1', status: 'pending' });
  assert.match((events[1] as { at: string }).at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  for (const e of events.slice(0, -1)) assert.equal([(e as { runId: string }).runId, (e as { node: string }).node], [runId, 'web-1']);
  assert.is(events.flatMap((e) => (e.type === 'output' ? [e.data] : [])).join(''), 'a\nb\n');
  const exit = events.at(-2) as Extract<TaskStreamEvent, { type: 'exit' }>;
  assert.equal({ ...exit, durationMs: 0 }, { type: 'exit', runId, node: 'web-1', status: 'failed', exitCode: 3, durationMs: 0, error: null, errorCode: null, result: null });
  const done = events.at(-1) as Extract<TaskStreamEvent, { type: 'done' }>;
  assert.equal({ ...done, taskId: '' }, { type: 'done', taskId: '', status: 'failed', counts: { total: 1, succeeded: 0, failed: 1, pending: 0, skipped: 0, queued: 0 } });
  assert.match(done.taskId, /^[0-9a-f-]{36}$/);
  assert.match(r.stderr, /^1 node: 0 succeeded, 1 failed \(exit 3 on web-1\) in \d+\.\d s\n$/);
});

test('a host whose agentd refuses the key (401) ends its run as error; the other host succeeds', async () => {
  const r = await run(['web-1', 'wrong-key', '--', 'echo "ok from $(node-name)"']);
  assert.is(r.code, 1, r.stderr);
  assert.is(r.stdout, 'web-1: ok from web-1\n');
  assert.match(r.stderr, /^2 nodes: 1 succeeded, 1 could not run \(wrong-key: agentd refused the run: signature does not match the request \(HTTP 401, code 1002\); check keyId "ops" and keyFile \S+web-1\.key against agentd's auth\.keysFile\) in \d+\.\d s\n$/);
  const json = await run(['wrong-key', '--json', '--', 'true']);
  assert.is(json.code, 1);
  const events = json.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as TaskStreamEvent);
  assert.equal(events.map((e) => e.type), ['run', 'exit', 'done']);
  assert.equal([(events[1] as { status: string }).status, (events[1] as { exitCode: unknown }).exitCode], ['error', null]);
  assert.equal((events[2] as { counts: unknown }).counts, { total: 1, succeeded: 0, failed: 1, pending: 0, skipped: 0, queued: 0 });
});

test('an unreachable host ends its run as error naming its URL; the other host succeeds', async () => {
  const r = await run(['web-1', 'spare', '--', 'echo up']);
  assert.is(r.code, 1, r.stderr);
  assert.is(r.stdout, 'web-1: up\n');
  assert.match(r.stderr, new RegExp(`^2 nodes: 1 succeeded, 1 could not run \\(spare: agentd unreachable at http://127\\.0\\.0\\.1:${deadPort} \\(connection refused\\)\\) in \\d+\\.\\d s\\n$`));
});

test('selectors pick from the inventory with the manager\'s matcher: labels, groups, globs', async () => {
  const byLabel = await run(['-l', 'env=prod', '--', 'node-name']);
  assert.is(byLabel.code, 0, byLabel.stderr);
  assert.is(byLabel.stdout, 'web-1: web-1\n');
  const byGroup = await run(['-g', 'db', '--', 'node-name']);
  assert.is(byGroup.stdout, 'web-2: web-2\n');
  const combined = await run(['web-*', '-l', 'role in (web,api)', '-l', 'env!=prod', '--', 'node-name']);
  assert.is(combined.stdout, 'web-2: web-2\n');
  const none = await run(['web-*', '-l', 'env=prod', '-g', 'db', '--', 'true']);
  assert.is(none.code, 1);
  assert.is(none.stderr, `Error: no host of ${inventory} matches the selector (web-* -l env=prod -g db)\n`);
  const bad = await run(['-l', 'env in (', '--', 'true']);
  assert.is(bad.code, 2);
});

test('--secret-env (K=V and K) reaches the script and never shows in the events', async () => {
  const script = 'for v in "$API_KEY" "$DB_PASSWORD"; do printf %s "$v" | sha256sum | cut -c1-16; done; echo "plain $PLAIN"';
  const digest = (v: string) => createHash('sha256').update(v).digest('hex').slice(0, 16);
  const r = await run(['web-1', '--env', 'PLAIN=p', '--secret-env', 'API_KEY=k-123', '--secret-env', 'DB_PASSWORD', '--', script], { env: { DB_PASSWORD: 'from env' } });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, `web-1: ${digest('k-123')}\nweb-1: ${digest('from env')}\nweb-1: plain p\n`);
  const json = await run(['web-1', '--json', '--secret-env', 'API_KEY=k-123', '--', 'true']);
  assert.is(json.code, 0, json.stderr);
  assert.not.ok(json.stdout.includes('k-123'));
});

test('--inventory before the command, or $OPSCTL_INVENTORY; no login needed either way', async () => {
  const leading = await opsctl(home, ['--inventory', inventory, 'tasks', 'run', 'web-1', '--', 'echo hi']);
  assert.is(leading.code, 0, leading.stderr);
  assert.is(leading.stdout, 'web-1: hi\n');
  const fromEnv = await opsctl(home, ['tasks', 'run', 'web-2', '--', 'echo hi'], { env: { OPSCTL_INVENTORY: inventory } });
  assert.is(fromEnv.code, 0, fromEnv.stderr);
  assert.is(fromEnv.stdout, 'web-2: hi\n');
});

test('a run past --timeout is a failure, named in the summary', async () => {
  const r = await run(['web-1', '--timeout', '1s', '--', 'echo started; sleep 30']);
  assert.is(r.code, 1, r.stderr);
  assert.is(r.stdout, 'web-1: started\n');
  assert.match(r.stderr, /^1 node: 0 succeeded, 1 timed out \(web-1\) in \d+\.\d s\n$/);
});

test('Ctrl-C cancels the runs on their agentd and exits 130', async () => {
  const mark = join(scratch, 'not-cancelled');
  let sent = false;
  const r = await run(['web-1', 'web-2', '--', `echo started; sleep 20; touch ${mark}`], {
    onStdout: (text, child) => { if (!sent && linesOf(text, 'web-1').length && linesOf(text, 'web-2').length) { sent = true; child.kill('SIGINT'); } },
  });
  assert.ok(sent);
  assert.is(r.code, 130, r.stderr);
  assert.match(r.stderr, /^2 nodes: 0 succeeded, 2 cancelled \(web-1, web-2\) in \d+\.\d s so far\nError: interrupted: the runs were cancelled\n$/);
  assert.not.ok(existsSync(mark));
});

/** Writes an inventory beside the good one and runs with it. */
async function withInventory(text: string): Promise<{ code: number | null; stderr: string; file: string }> {
  const file = join(scratch, `bad-${randomBytes(4).toString('hex')}.yaml`);
  writeFileSync(file, text);
  const r = await opsctl(home, ['tasks', 'run', '--inventory', file, '--all', '--', 'true']);
  assert.is(r.stdout, '');
  return { code: r.code, stderr: r.stderr, file };
}

test('a bad inventory is refused with a message naming the host and field, exit 2, nothing run', async () => {
  const key = join(scratch, 'web-2.key');
  const cases: [string, (file: string) => string][] = [
    [`hosts:\n  - name: a\n    keyId: ops\n    keyFile: ${key}\n`, (f) => `inventory ${f}: hosts[0] (a): url is required: agentd's address, http://HOST:PORT or https://HOST:PORT`],
    [`hosts:\n  - { name: a, url: "http://127.0.0.1:${web2Port}", keyId: ops, keyFile: ${key} }\n  - { name: a, url: "http://127.0.0.1:1", keyId: ops, keyFile: ${key} }\n`,
      (f) => `inventory ${f}: hosts[1] (a): name "a" is already used by hosts[0]`],
    [`hosts:\n  - { name: a, url: "http://127.0.0.1:1", keyId: ops, keyFile: ${key}, port: 8442 }\n`,
      (f) => `inventory ${f}: hosts[0] (a): port is not a host field (allowed: name, url, keyId, keyFile, labels, groups, caFile)`],
    [`hosts:\n  - { name: a, url: "ftp://x", keyId: ops, keyFile: ${key} }\n`, (f) => `inventory ${f}: hosts[0] (a): url "ftp://x" must be agentd's address, http://HOST:PORT or https://HOST:PORT`],
    [`hosts:\n  - { name: "-a", url: "http://x:1", keyId: ops, keyFile: ${key} }\n`, (f) => `inventory ${f}: hosts[0] (-a): name must start with a letter or digit and hold only letters, digits, ".", "_" and "-" (at most 253)`],
    [`hosts:\n  - { name: a, url: "http://x:1", keyFile: ${key} }\n`, (f) => `inventory ${f}: hosts[0] (a): keyId is required (here or in defaults): a key id of agentd's keys file`],
    [`hosts:\n  - { name: a, url: "http://x:1", keyId: ops }\n`, (f) => `inventory ${f}: hosts[0] (a): keyFile is required (here or in defaults): a file holding the signing secret`],
    [`defaults: { name: x }\nhosts: []\n`, (f) => `inventory ${f}: defaults: name cannot have a default: every host has its own`],
    [`hosts: []\n`, (f) => `inventory ${f}: hosts: must be a list of at least one host`],
    [`host:\n  - name: a\n`, (f) => `inventory ${f}: host: unknown field (allowed: defaults, hosts)`],
    [`hosts: [\n`, (f) => `inventory ${f}: not valid YAML: `],
    [`hosts:\n  - { name: a, url: "http://x:1", keyId: ops, keyFile: ${key}, labels: [prod] }\n`, (f) => `inventory ${f}: hosts[0] (a): labels must be a mapping of label names to values, e.g. { env: prod }`],
    [`hosts:\n  - { name: a, url: "http://x:1", keyId: ops, keyFile: ${key}, groups: web }\n`, (f) => `inventory ${f}: hosts[0] (a): groups must be a list of group names, e.g. [web, prod]`],
    [`hosts:\n  - { name: a, url: "http://x:1", keyId: ops, keyFile: ${key}, caFile: ca.pem }\n`, (f) => `inventory ${f}: hosts[0] (a): caFile is only for an https:// url`],
  ];
  for (const [text, expected] of cases) {
    const r = await withInventory(text);
    assert.is(r.code, 2, text);
    assert.ok(r.stderr.startsWith(`Error: ${expected(r.file)}`), `${text}\n${r.stderr}`);
  }
  const missing = await opsctl(home, ['tasks', 'run', '--inventory', join(scratch, 'nope.yaml'), '--all', '--', 'true']);
  assert.is(missing.code, 2);
  assert.is(missing.stderr, `Error: inventory ${join(scratch, 'nope.yaml')}: no such file\n`);
});

test('a key file readable by others, empty, short or missing is refused like agentd refuses its keys file', async () => {
  const loose = privateFile(join(scratch, 'loose.key'), 'a'.repeat(64), 0o644);
  const empty = privateFile(join(scratch, 'empty.key'), '');
  const short = privateFile(join(scratch, 'short.key'), 'a'.repeat(31));
  const host = (keyFile: string) => `hosts:\n  - { name: a, url: "http://x:1", keyId: ops, keyFile: ${keyFile} }\n`;
  const cases: [string, string][] = [
    [loose, `keyFile ${loose} has mode 0644: it must not be readable by group or others (run: chmod 600 ${loose})`],
    [empty, `keyFile ${empty} is empty: put the secret of the key id in it`],
    [short, `keyFile ${short} must hold one secret of at least 32 characters without spaces (as in agentd's keys file)`],
    [join(scratch, 'absent.key'), `keyFile ${join(scratch, 'absent.key')}: no such file`],
  ];
  for (const [keyFile, expected] of cases) {
    const r = await withInventory(host(keyFile));
    assert.is(r.code, 2, keyFile);
    assert.is(r.stderr, `Error: inventory ${r.file}: hosts[0] (a): ${expected}\n`);
  }
});

test('files in direct mode: an upload streamed to each agentd, a download saved per host, a path outside the roots refused', async () => {
  // Both agentds keep their state (and so their default file root) in the scratch folder.
  const roots = join(scratch, 'files');
  const local = join(scratch, 'payload.bin');
  const data = randomBytes(600_000);
  writeFileSync(local, data);
  const files = (args: string[]) => opsctl(home, ['files', ...args, '--inventory', inventory], { timeoutMs: 30_000 });
  const up = await files(['upload', local, join(roots, 'payload.bin'), '-g', 'web', '--mode', '0640']);
  assert.is(up.code, 0, up.stderr);
  assert.match(up.stdout, /web-1: wrote .*payload\.bin \(600000 bytes/);
  assert.match(up.stdout, /web-2: wrote .*payload\.bin \(600000 bytes/);
  assert.ok(readFileSync(join(roots, 'payload.bin')).equals(data));
  const dest = join(scratch, 'downloads');
  const down = await files(['download', join(roots, 'payload.bin'), '-g', 'web', '--dest', dest]);
  assert.is(down.code, 0, down.stderr);
  for (const host of ['web-1', 'web-2']) {
    assert.is(createHash('sha256').update(readFileSync(join(dest, host, 'payload.bin'))).digest('hex'), createHash('sha256').update(data).digest('hex'));
  }
  const outside = await files(['upload', local, join(scratch, 'elsewhere.bin'), 'web-1', '--json']);
  assert.is(outside.code, 1);
  const exit = outside.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as TaskStreamEvent).find((e) => e.type === 'exit');
  assert.is(exit?.type === 'exit' ? exit.errorCode : 0, 1003);
  assert.not.ok(existsSync(join(scratch, 'elsewhere.bin')));
});

test('services in direct mode: each agentd answers for its own host', async () => {
  const r = await opsctl(home, ['services', 'status', 'no-such-service', '-g', 'web', '--inventory', inventory], { timeoutMs: 30_000 });
  assert.is(r.code, 1, r.stderr);
  // Each host's agentd says it has no such service (or no service manager at all), per host.
  assert.match(r.stdout, /^web-1\terror\t(unknown service no-such-service|no service manager found on this host)/m);
  assert.match(r.stdout, /^web-2\terror\t(unknown service no-such-service|no service manager found on this host)/m);
});

test.run();
