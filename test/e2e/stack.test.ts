// End to end: the manager, hostd and agentd as separate OS processes on loopback ports, driven by
// the real opsctl binary. Needs `npm run build` first (npm test does it).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, runBin, startLocalStack, type BinRun, type LocalStack } from '../../scripts/local-stack.js';
import { freePorts } from '../helpers/ports.js';

const dataDir = mkdtempSync(join(tmpdir(), 'ops-e2e-'));
const configHome = mkdtempSync(join(tmpdir(), 'ops-e2e-cfg-'));
let stack: LocalStack;

function run(bin: 'opsctl' | 'hostd', args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000): Promise<BinRun> {
  return runBin(bin, args, { ...process.env, XDG_CONFIG_HOME: configHome, OPSCTL_SERVER: '', OPSCTL_TOKEN: '', ...env }, timeoutMs);
}

const opsctl = (...args: string[]) => run('opsctl', args);

test.before(async () => {
  const [httpPort, grpcPort, agentPort] = await freePorts(3);
  stack = await startLocalStack({ dataDir, httpPort, grpcPort, agentPort, nodeName: 'e2e-node', logLevel: 'debug' });
});

test.after(async () => {
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(configHome, { recursive: true, force: true });
});

test('hostd got its enrollment token from the environment, not the command line (ps shows argv)', () => {
  const argv = readFileSync(`/proc/${stack.hostd.pid}/cmdline`, 'utf8').split('\0');
  assert.ok(argv.includes('--ca-hash'), argv.join(' '));
  assert.not.ok(argv.includes('--token'), argv.join(' '));
});

test('opsctl login stores server and token with mode 0600', async () => {
  const r = await opsctl('login', '--server', stack.httpUrl, '--username', stack.admin.username, '--password', stack.admin.password);
  assert.is(r.code, 0, r.stderr);
  const file = join(configHome, 'opsctl', 'config.yaml');
  assert.is(statSync(file).mode & 0o777, 0o600);
  const text = readFileSync(file, 'utf8');
  assert.ok(text.includes(stack.httpUrl));
  assert.not.ok(text.includes(stack.admin.password), 'the password is not stored');
});

test('a wrong password is refused and exits 1', async () => {
  const r = await opsctl('login', '--server', stack.httpUrl, '--username', stack.admin.username, '--password', 'wrong');
  assert.is(r.code, 1);
  assert.match(r.stderr, /Error:/);
});

test('nodes ls shows this machine online with versions', async () => {
  const r = await opsctl('nodes', 'ls', '--json');
  assert.is(r.code, 0, r.stderr);
  const nodes = JSON.parse(r.stdout) as { name: string; status: string; os: string; agentVersion: string; hostdVersion: string; lastSeenAt: string }[];
  const node = nodes.find((n) => n.name === 'e2e-node');
  assert.ok(node, r.stdout);
  assert.is(node!.status, 'online');
  assert.ok(node!.os.length > 0);
  assert.ok(node!.agentVersion.length > 0 && node!.hostdVersion.length > 0);
  assert.ok(node!.lastSeenAt);
  const table = await opsctl('nodes', 'ls');
  assert.match(table.stdout, /e2e-node\tonline/);
});

test('nodes show prints the facts', async () => {
  const r = await opsctl('nodes', 'show', 'e2e-node', '--json');
  assert.is(r.code, 0, r.stderr);
  const node = JSON.parse(r.stdout) as { facts: { hostname: string; kernel: string; arch: string; cpus: number; memoryBytes: number; ips: string[] } };
  assert.ok(node.facts.hostname && node.facts.kernel && node.facts.arch);
  assert.ok(node.facts.cpus >= 1 && node.facts.memoryBytes > 0);
  const missing = await opsctl('nodes', 'show', 'no-such-node');
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /not found/i);
});

test('tasks run streams prefixed output and exits 0 when every node succeeded', async () => {
  const r = await opsctl('tasks', 'run', '--all', '--', 'uname', '-a');
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^e2e-node: Linux /m);
  assert.match(r.stderr, /1 succeeded/);
});

test('stderr stays stderr, also for a task that ends before opsctl follows it (replayed from the database)', async () => {
  for (let i = 0; i < 5; i++) {
    const r = await opsctl('tasks', 'run', '--all', '--', 'echo out; echo err >&2');
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, 'e2e-node: out\n');
    assert.match(r.stderr, /^e2e-node: err$/m);
    assert.not.match(r.stdout, /err/);
  }
});

test('tasks run exits 1 when a node fails, and tasks show has its exit code and output', async () => {
  const r = await opsctl('tasks', 'run', 'e2e-node', '--json', '--', 'echo before; exit 3');
  assert.is(r.code, 1, r.stderr);
  const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; exitCode?: number; taskId?: string; data?: string });
  const exit = events.find((e) => e.type === 'exit');
  assert.is(exit?.exitCode, 3);
  const done = events.find((e) => e.type === 'done');
  assert.ok(done?.taskId);
  const show = await opsctl('tasks', 'show', done!.taskId!, '--json');
  assert.is(show.code, 0, show.stderr);
  const task = JSON.parse(show.stdout) as { runs: { node: string; status: string; exitCode: number; output: string; durationMs: number }[] };
  assert.is(task.runs[0].node, 'e2e-node');
  assert.is(task.runs[0].status, 'failed');
  assert.is(task.runs[0].exitCode, 3);
  assert.match(task.runs[0].output, /before/);
  assert.ok(task.runs[0].durationMs >= 0);
});

test('--script and -l selectors; a selector matching nothing stores no task', async () => {
  const script = join(dataDir, 'hello.sh');
  (await import('node:fs')).writeFileSync(script, 'echo "from script $((2+3))"\n');
  const r = await opsctl('tasks', 'run', '--all', '--script', script);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /e2e-node: from script 5/);
  const before = await api<unknown[]>(stack.httpUrl, stack.token, 'GET', '/tasks?limit=100');
  const none = await opsctl('tasks', 'run', '-l', 'env=nowhere', '--', 'true');
  assert.is(none.code, 1);
  assert.match(none.stderr, /no node matches/i);
  const after = await api<unknown[]>(stack.httpUrl, stack.token, 'GET', '/tasks?limit=100');
  assert.is(after.body.data.length, before.body.data.length);
});

test('--timeout bounds a task', async () => {
  const r = await opsctl('tasks', 'run', '--all', '--timeout', '2s', '--', 'sleep 30');
  assert.is(r.code, 1);
  assert.match(r.stderr, /timeout|timed out/i);
});

test('enrollment tokens: the printed hostd command; used and wrong tokens are refused', async () => {
  const created = await opsctl('nodes', 'token', 'create', '--uses', '1', '--ttl', '10m', '--json');
  assert.is(created.code, 0, created.stderr);
  const tok = JSON.parse(created.stdout) as { token: string; caHash: string; grpcAddress: string };
  const human = await opsctl('nodes', 'token', 'create');
  assert.match(human.stdout, /OPS_ENROLL_TOKEN=\S+ hostd --manager \S+ --ca-hash [0-9a-f]{64}\n/);

  const dir = mkdtempSync(join(tmpdir(), 'ops-e2e-host2-'));
  const [agentPort] = await freePorts(1);
  const common = ['--manager', tok.grpcAddress, '--ca-hash', tok.caHash, '--agent-listen', `127.0.0.1:${agentPort}`];
  const wrong = await run('hostd', [...common, '--data-dir', dir, '--name', 'e2e-second', '--token', 'not-a-real-token']);
  assert.is.not(wrong.code, 0);
  assert.match(wrong.stderr, /unknown enrollment token/);
  rmSync(dir, { recursive: true, force: true });
});

test('the logs (debug level) are private and never carry the admin password', () => {
  assert.is(statSync(stack.logDir).mode & 0o777, 0o700);
  const files = readdirSync(stack.logDir);
  assert.ok(files.includes('manager.log'));
  for (const f of files) {
    const path = join(stack.logDir, f);
    assert.is(statSync(path).mode & 0o777, 0o600, path);
    assert.not.ok(readFileSync(path, 'utf8').includes(stack.admin.password), `${f} holds the admin password`);
  }
});

test('opsctl against a manager that is down: one line naming the address, exit 1', async () => {
  const r = await run('opsctl', ['nodes', 'ls'], { OPSCTL_SERVER: 'http://127.0.0.1:9', OPSCTL_TOKEN: 'x' });
  assert.is(r.code, 1);
  assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /127\.0\.0\.1:9/);
});

test.run();
