// plugins ls and tasks run --plugin on the real path: the local stack (manager, hostd, agentd as
// processes) whose agentd loads a copy of examples/plugins/http-probe (OPS_PLUGINS_DIR reaches
// agentd through hostd's environment), probing a local HTTP server.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskDetail, TaskSummary } from '../../proto/rest/tasks.js';
import { packageRoot } from '../../lib/version.js';
import { api, startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { freePorts } from '../helpers/ports.js';
import { ConfigHome, ensureBuilt, opsctl, type RunOptions } from './run-opsctl.js';

const home = new ConfigHome();
const scratch = mkdtempSync(join(tmpdir(), 'opsctl-cli-plugins-'));
const pluginsDir = join(scratch, 'plugins');
let stack: LocalStack | undefined;
let server: Server | undefined;
let probeUrl = '';
const run = (args: string[], opts: RunOptions = {}) => opsctl(home, args, { timeoutMs: 30_000, ...opts, env: { OPSCTL_SERVER: stack!.httpUrl, OPSCTL_TOKEN: stack!.token, ...opts.env } });
const apiData = async <T>(method: string, path: string): Promise<T> => (await api<T>(stack!.httpUrl, stack!.token, method, path)).body.data;
const taskCount = async () => (await apiData<TaskSummary[]>('GET', '/tasks?limit=100')).length;
const latestTask = async () => apiData<TaskDetail>('GET', `/tasks/${(await apiData<TaskSummary[]>('GET', '/tasks?limit=1'))[0].id}`);

function tighten(path: string): void {
  const st = statSync(path);
  chmodSync(path, st.mode & 0o755);
  if (st.isDirectory()) for (const name of readdirSync(path)) tighten(join(path, name));
}

test.before(async () => {
  ensureBuilt();
  mkdirSync(pluginsDir);
  cpSync(join(packageRoot(), 'examples', 'plugins', 'http-probe'), join(pluginsDir, 'http-probe'), { recursive: true });
  tighten(pluginsDir);
  server = createServer((req, res) => { res.statusCode = req.url === '/missing' ? 404 : 200; res.end(); });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  probeUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const [httpPort, grpcPort, agentPort] = await freePorts(3);
  stack = await startLocalStack({ dataDir: join(scratch, 'stack'), httpPort, grpcPort, agentPort, nodeName: 'web-1', logLevel: 'warn', env: { OPS_PLUGINS_DIR: pluginsDir } });
});

test.after(async () => {
  await stack?.stop();
  server?.close();
  home.remove();
  rmSync(scratch, { recursive: true, force: true });
});

test('plugins ls: each plugin version with its nodes, tab-separated piped, a table on a terminal, --json', async () => {
  const piped = await run(['plugins', 'ls']);
  assert.is(piped.code, 0, piped.stderr);
  assert.is(piped.stdout, 'http-probe\t1.0.0\tweb-1\n');
  const plain = await run(['plugins']);
  assert.is(plain.stdout, piped.stdout, '`plugins` and `plugins ls` are the same command');
  const tty = await run(['plugins', 'ls'], { tty: true });
  assert.match(tty.stdout, /^PLUGIN\s+VERSION\s+NODES\nhttp-probe\s+1\.0\.0\s+web-1\n$/);
  const json = await run(['plugins', 'ls', '--json']);
  assert.equal(JSON.parse(json.stdout), [{ plugin: 'http-probe', version: '1.0.0', nodes: ['web-1'] }]);
});

test('tasks run --plugin -p: sends {kind: plugin, plugin: {name, params}}; the probe succeeds with its result', async () => {
  const r = await run(['tasks', 'run', 'web-1', '--plugin', 'http-probe', '-p', `url=${probeUrl}/`, '-p', 'expect=200']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^web-1: GET ${probeUrl}/ → 200 in \\d+ ms$`, 'm'));
  const task = await latestTask();
  assert.is(task.kind, 'plugin');
  assert.is(task.script, '');
  assert.equal(task.params, { name: 'http-probe', params: { url: `${probeUrl}/`, expect: '200' } });
  assert.is(task.runs[0].status, 'succeeded');
  assert.is((task.runs[0].result as { status: number }).status, 200);
});

test('tasks run --plugin: another status fails the run and exits 1; a bad parameter is refused by the node', async () => {
  const missing = await run(['tasks', 'run', 'web-1', '--plugin', 'http-probe', '-p', `url=${probeUrl}/missing`]);
  assert.is(missing.code, 1, missing.stderr);
  assert.match((await latestTask()).runs[0].error ?? '', /answered 404, expected 200/);
  const bad = await run(['tasks', 'run', 'web-1', '--plugin', 'http-probe', '-p', `url=${probeUrl}/`, '-p', 'expect=ok']);
  assert.is(bad.code, 1, bad.stderr);
  assert.match((await latestTask()).runs[0].error ?? '', /parameter expect must be a whole number/);
});

test('tasks run --plugin: usage errors exit 2 and create no task', async () => {
  const before = await taskCount();
  const cases: [string[], RegExp][] = [
    [['web-1', '-p', 'url=x'], /-p\/--param gives a plugin its parameters: name the plugin with --plugin NAME/],
    [['web-1', '--plugin', 'http-probe', '--', 'uptime'], /--plugin runs a plugin, not a command: drop the command after --/],
    [['web-1', '--plugin', 'http-probe', '--script', 'x.sh'], /give either --plugin NAME or --script FILE, not both/],
    [['web-1', '--plugin', 'http-probe', '--interpreter', 'bash'], /--interpreter is for commands and scripts, not --plugin/],
    [['web-1', '--plugin', 'http-probe', '--env', 'A=1'], /--env and --secret-env are for commands and scripts/],
    [['web-1', '--plugin', 'http-probe', '--secret-env', 'A=1'], /--env and --secret-env are for commands and scripts/],
    [['web-1', '--plugin', 'HTTP_Probe'], /--plugin "HTTP_Probe": a plugin name is lower case letters, digits and dashes/],
    [['web-1', '--plugin', 'http-probe', '-p', 'url'], /-p "url": use KEY=VALUE/],
    [['web-1', '--plugin', 'http-probe', '-p', '1x=2'], /-p "1x=2": use KEY=VALUE/],
    [['web-1', '--plugin', 'http-probe', '-p', 'url=a', '-p', 'url=b'], /-p url is given twice/],
  ];
  for (const [args, message] of cases) {
    const r = await run(['tasks', 'run', ...args]);
    assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  assert.is(await taskCount(), before, 'no task was created');
});

test.run();
