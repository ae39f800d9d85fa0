// opsctl services start|stop|restart|status on the real path: the local stack (manager, hostd and
// agentd as processes) with node web-1, plus a second hostd enrolled as web-2. Each node's agentd
// uses SysV init scripts from its own temp init dir (services.manager sysv), so the same service
// can behave differently per node; each "daemon" is a background `sleep` with a pid file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskDetail, TaskSummary } from '../../proto/rest/tasks.js';
import { api, binPath, startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { freePorts } from '../helpers/ports.js';
import { ConfigHome, ensureBuilt, opsctl, type RunOptions } from './run-opsctl.js';

const home = new ConfigHome();
const scratch = mkdtempSync(join(tmpdir(), 'opsctl-cli-services-'));
let stack: LocalStack | undefined;
let web2: ChildProcess | undefined;
const run = (args: string[], opts: RunOptions = {}) => opsctl(home, args, { timeoutMs: 30_000, ...opts, env: { OPSCTL_SERVER: stack!.httpUrl, OPSCTL_TOKEN: stack!.token, ...opts.env } });

/** An LSB init script whose daemon is a background `sleep`; `failStart` makes its start fail with exit 7. */
function initScript(node: string, name: string, failStart = false): string {
  const pidFile = join(scratch, node, 'state', `${name}.pid`);
  return `#!/bin/sh
PIDFILE=${pidFile}
running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
case "$1" in
  start)
    ${failStart ? `echo "${name}: cannot bind port 80" >&2; echo 999999 > "$PIDFILE"; exit 7` : `running && exit 0
    sleep 300 >/dev/null 2>&1 </dev/null &
    echo $! > "$PIDFILE"
    echo "starting ${name}"`} ;;
  stop) if running; then kill "$(cat "$PIDFILE")"; fi; rm -f "$PIDFILE"; echo "stopping ${name}" ;;
  restart) "$0" stop; "$0" start ;;
  status)
    if running; then echo "${name} is running"; exit 0; fi
    if [ -f "$PIDFILE" ]; then echo "${name} is dead"; exit 1; fi
    echo "${name} is not running"; exit 3 ;;
esac
`;
}

/** The node's init dir: websvc on both; `broken` starts on web-1 and fails to on web-2. */
function initDirFor(node: string): string {
  const dir = join(scratch, node, 'init.d');
  mkdirSync(dir, { recursive: true });
  mkdirSync(join(scratch, node, 'state'), { recursive: true });
  writeFileSync(join(dir, 'websvc'), initScript(node, 'websvc'), { mode: 0o755 });
  writeFileSync(join(dir, 'broken'), initScript(node, 'broken', node === 'web-2'), { mode: 0o755 });
  return dir;
}

const servicesEnv = (node: string) => ({ OPS_SERVICES_MANAGER: 'sysv', OPS_SERVICES_INIT_DIR: initDirFor(node) });

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const apiData = async <T>(method: string, path: string, body?: unknown): Promise<T> => (await api<T>(stack!.httpUrl, stack!.token, method, path, body)).body.data;
const taskCount = async () => (await apiData<TaskSummary[]>('GET', '/tasks?limit=100')).length;
const latestTask = async () => apiData<TaskDetail>('GET', `/tasks/${(await apiData<TaskSummary[]>('GET', '/tasks?limit=1'))[0].id}`);
const SUMMARY = (text: string) => new RegExp(`^${text} in \\d+\\.\\d s\\n$`);

test.before(async () => {
  ensureBuilt();
  const [httpPort, grpcPort, agentPort, agentPort2] = await freePorts(4);
  stack = await startLocalStack({ dataDir: join(scratch, 'stack'), httpPort, grpcPort, agentPort, nodeName: 'web-1', logLevel: 'warn', env: servicesEnv('web-1') });
  const created = await apiData<{ token: string; caHash: string }>('POST', '/enrollment-tokens', { uses: 1, ttlSeconds: 600 });
  const dataDir = join(scratch, 'web-2', 'hostd');
  mkdirSync(dataDir, { recursive: true });
  web2 = spawn(process.execPath, [binPath('hostd'), '--manager', stack.grpcAddress, '--data-dir', dataDir, '--agent-listen', `127.0.0.1:${agentPort2}`,
    '--name', 'web-2', '--ca-hash', created.caHash, '--token', created.token], {
    env: { ...process.env, OPS_LOG_LEVEL: 'warn', OPS_AGENT_STOP_ON_EXIT: 'true', ...servicesEnv('web-2') },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await until('web-2 to come online', async () => {
    const nodes = await apiData<{ name: string; status: string; agentStatus: string }[]>('GET', '/nodes');
    return nodes.some((n) => n.name === 'web-2' && n.status === 'online' && n.agentStatus === 'healthy');
  });
});

test.after(async () => {
  // The daemons the tests started.
  for (const node of ['web-1', 'web-2']) {
    for (const name of ['websvc', 'broken']) {
      try { process.kill(Number(readFileSync(join(scratch, node, 'state', `${name}.pid`), 'utf8'))); } catch { /* not running */ }
    }
  }
  if (web2 && web2.exitCode === null && web2.signalCode === null) {
    const exited = new Promise((resolve) => web2!.once('exit', resolve));
    web2.kill('SIGTERM');
    await exited;
  }
  await stack?.stop();
  home.remove();
  rmSync(scratch, { recursive: true, force: true });
});

test('services status: one tab-separated line per node (node, state, error) and the service request the manager got', async () => {
  const r = await run(['services', 'status', 'websvc', '--all']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'web-1\tinactive\t\nweb-2\tinactive\t\n');
  assert.match(r.stderr, SUMMARY('2 nodes: 2 succeeded'));
  const task = await latestTask();
  assert.is(task.kind, 'service');
  assert.equal(task.params, { action: 'status', name: 'websvc' });
  assert.is(task.script, '');
  assert.equal(task.runs.map((x) => [x.node, x.status, x.result]), [
    ['web-1', 'succeeded', { state: 'inactive', raw: 'websvc is not running\n' }],
    ['web-2', 'succeeded', { state: 'inactive', raw: 'websvc is not running\n' }],
  ]);
});

test('services start on one node: the start output as prefixed lines, then its state line', async () => {
  const r = await run(['services', 'start', 'websvc', 'web-1', '--timeout', '1m']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'web-1: starting websvc\nweb-1: websvc is running\nweb-1\tactive\t\n');
  assert.match(r.stderr, SUMMARY('1 node: 1 succeeded'));
  const task = await latestTask();
  assert.equal(task.params, { action: 'start', name: 'websvc' });
  assert.is(task.timeoutSeconds, 60);
  assert.equal(task.runs.map((x) => x.node), ['web-1']);
});

test('services status --json: the runs as a JSON array with each result', async () => {
  const r = await run(['services', 'status', 'websvc', '--all', '--json']);
  assert.is(r.code, 0, r.stderr);
  const runs = JSON.parse(r.stdout) as { runId: string; node: string; status: string; exitCode: number; error: string | null; errorCode: number | null; result: unknown }[];
  const task = await latestTask();
  assert.equal(runs.map((x) => x.runId).sort(), task.runs.map((x) => x.id).sort());
  assert.equal(runs.map(({ runId: _, ...rest }) => rest), [
    { node: 'web-1', status: 'succeeded', exitCode: 0, error: null, errorCode: null, result: { state: 'active', raw: 'websvc is running\n' } },
    { node: 'web-2', status: 'succeeded', exitCode: 0, error: null, errorCode: null, result: { state: 'inactive', raw: 'websvc is not running\n' } },
  ]);
  assert.match(r.stderr, SUMMARY('2 nodes: 2 succeeded'));
});

test('on a terminal: aligned lines with the state coloured; NO_COLOR turns colour off', async () => {
  const coloured = await run(['services', 'status', 'websvc', '--all'], { tty: true, env: { NO_COLOR: '' } });
  assert.is(coloured.code, 0, coloured.stdout);
  // stdout and stderr share the terminal: the summary line is there too.
  assert.ok(coloured.stdout.includes('web-1  \x1b[32mactive\x1b[0m\nweb-2  inactive\n'), JSON.stringify(coloured.stdout));
  const plain = await run(['services', 'status', 'websvc', '--all'], { tty: true });
  assert.ok(plain.stdout.includes('web-1  active\nweb-2  inactive\n'), JSON.stringify(plain.stdout));
});

test('a start that fails on one node: exit 1, the summary names it, its error and state on its line', async () => {
  const r = await run(['services', 'start', 'broken', '--all']);
  assert.is(r.code, 1, r.stderr);
  assert.equal(r.stdout.split('\n').slice(-3), ['web-1\tactive\t', 'web-2\tfailed\tstart broken failed (exit code 7); the service is failed', '']);
  assert.ok(r.stdout.includes('web-1: starting broken\n'));
  assert.match(r.stderr, /^web-2: broken: cannot bind port 80\n/);
  assert.match(r.stderr, /2 nodes: 1 succeeded, 1 failed \(exit 7 on web-2\) in \d+\.\d s\n$/);
  const stopped = await run(['services', 'stop', 'broken', 'web-1']);
  assert.is(stopped.code, 0, stopped.stderr);
  assert.match(stopped.stdout, /web-1\tinactive\t\n$/);
});

test('an unknown service: exit 1, the node\'s line says why', async () => {
  const r = await run(['services', 'status', 'nosuch', 'web-1']);
  assert.is(r.code, 1, r.stderr);
  assert.is(r.stdout, `web-1\terror\tunknown service nosuch (no executable ${join(scratch, 'web-1', 'init.d', 'nosuch')})\n`);
  assert.match(r.stderr, /1 node: 0 succeeded, 1 could not run \(web-1: unknown service nosuch/);
});

test('restart then stop: the state after each', async () => {
  const restarted = await run(['services', 'restart', 'websvc', 'web-1', 'web-2']);
  assert.is(restarted.code, 0, restarted.stderr);
  assert.match(restarted.stdout, /web-1\tactive\t\nweb-2\tactive\t\n$/);
  assert.equal((await latestTask()).params, { action: 'restart', name: 'websvc' });
  const stopped = await run(['services', 'stop', 'websvc', '--all', '--json']);
  assert.is(stopped.code, 0, stopped.stderr);
  assert.equal((JSON.parse(stopped.stdout) as { result: { state: string } }[]).map((x) => x.result.state), ['inactive', 'inactive']);
});

test('bad names and missing arguments: exit 2 with a clear message; nothing reaches the manager', async () => {
  const before = await taskCount();
  for (const name of ['web;reboot', 'a/b', 'two words', '.hidden', `x${'y'.repeat(200)}`]) {
    const r = await run(['services', 'status', name, '--all']);
    assert.is(r.code, 2, name);
    assert.is(r.stderr, `Error: service name ${JSON.stringify(name)} is not allowed: use 1 to 200 letters, digits and @ _ . : -, not starting with - or .\n`);
    assert.is(r.stdout, '');
  }
  const dash = await run(['services', 'stop', '-x', '--all']);
  assert.is(dash.code, 2);
  const none = await run(['services', 'start']);
  assert.is(none.code, 2);
  assert.match(none.stderr, /^Error: Missing 1 required arg: name/);
  const noTarget = await run(['services', 'restart', 'websvc']);
  assert.is(noTarget.code, 2);
  assert.is(noTarget.stderr, 'Error: no target: give node names, -l labels, -g groups or --all\n');
  const badTimeout = await run(['services', 'start', 'websvc', '--all', '--timeout', 'soon']);
  assert.is(badTimeout.code, 2);
  assert.match(badTimeout.stderr, /^Error: --timeout: /);
  assert.is(await taskCount(), before);
});

test('a selector matching nothing: the manager\'s message, exit 1', async () => {
  const r = await run(['services', 'status', 'websvc', '-l', 'env=nowhere']);
  assert.is(r.code, 1);
  assert.is(r.stderr, 'Error: no node matches the selector (-l env=nowhere) (code 2002)\n');
  assert.is(r.stdout, '');
});

test.run();
