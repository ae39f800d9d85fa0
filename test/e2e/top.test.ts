// `opsctl top` for real: the built opsctl in a tmux pseudo-terminal at 80×24 against a manager,
// hostd and agentd from scripts/local-stack.ts, driven by keys (send-keys) and read from the screen
// (capture-pane); and --once through a pipe. Needs `npm run build` first and tmux (CI installs it).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binPath, runBin, startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { freePort, freePorts } from '../helpers/ports.js';

const hasTmux = (() => { try { execFileSync('tmux', ['-V'], { stdio: 'ignore' }); return true; } catch { return false; } })();
const dataDir = mkdtempSync(join(tmpdir(), 'ops-top-'));
const configHome = mkdtempSync(join(tmpdir(), 'ops-top-cfg-'));
/** A tmux server of our own: nothing of the user's sessions is touched, kill-server ends it all. */
const socket = join(dataDir, 'tmux.sock');
const exitFile = join(dataDir, 'top.exit');
let stack: LocalStack;

const env = () => ({ ...process.env, XDG_CONFIG_HOME: configHome, OPSCTL_SERVER: '', OPSCTL_TOKEN: '', NO_COLOR: '1' });
const tmux = (...args: string[]) => execFileSync('tmux', ['-S', socket, ...args], { encoding: 'utf8', env: env() });
const screen = () => tmux('capture-pane', '-p', '-t', 'top');

async function until<T>(what: string, probe: () => T | undefined | false, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; screen:\n${hasTmux ? screen() : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Quoted for sh. */
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const shows = (what: string, re: RegExp, ms?: number) => until(what, () => { const s = screen(); return re.test(s) ? s : undefined; }, ms);

test.before(async () => {
  if (!hasTmux) return;
  const [httpPort, grpcPort, agentPort] = await freePorts(3);
  stack = await startLocalStack({ dataDir, httpPort, grpcPort, agentPort, nodeName: 'top-node' });
  const login = await runBin('opsctl', ['login', '--server', stack.httpUrl, '--username', stack.admin.username, '--password', stack.admin.password], env());
  if (login.code !== 0) throw new Error(`login failed: ${login.stderr}`);
  const task = await runBin('opsctl', ['tasks', 'run', 'top-node', '--', 'echo from-top-test'], env());
  if (task.code !== 0) throw new Error(`the task failed: ${task.stderr}`);
});

test.after(async () => {
  if (hasTmux) { try { tmux('kill-server'); } catch { /* not started */ } }
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(configHome, { recursive: true, force: true });
});

test('top in tmux: the node\'s row, sorting, filter, detail with its task, resize, q restores the terminal and exits 0', async () => {
  if (!hasTmux) { console.log('  skipped: tmux is not installed (CI installs it; apt-get install tmux)'); return; }
  // The shell outlives top, so the screen after it and its exit code can be read.
  const command = `${q(process.execPath)} ${q(binPath('opsctl'))} top; echo "top exited $?" > ${q(exitFile)}; exec sleep 600`;
  tmux('new-session', '-d', '-s', 'top', '-x', '80', '-y', '24', '-e', `XDG_CONFIG_HOME=${configHome}`, '-e', 'NO_COLOR=1', 'sh', '-c', command);

  let s = await shows('the node row', /^top-node\s+online\s+\d+\.\d\s+\d+\.\d/m);
  assert.match(s, /1 nodes: 1 online, 0 degraded, 0 offline/);
  assert.match(s, /^NAME\s+STATUS\s+CPU%▼/m);
  assert.match(s, /^live/m);
  assert.is(tmux('display', '-p', '-t', 'top', '#{alternate_on}').trim(), '1', 'on the alternate screen');
  for (const line of s.split('\n')) assert.ok(line.length <= 80, line);

  // A second sample gives network rates (bytes per second, 0 B at least).
  await shows('network rates', /^top-node .*\d+(\.\d)? (B|KiB|MiB)\s+\d+(\.\d)? (B|KiB|MiB)/m);

  tmux('send-keys', '-t', 'top', 'n');
  await shows('the name sort', /^NAME▼/m);
  tmux('send-keys', '-t', 'top', '/', 'n', 'o', 'p', 'e');
  s = await shows('the filter', /filter: \/nope/);
  assert.match(s, /No node matches "nope"/);
  tmux('send-keys', '-t', 'top', 'Escape');
  await shows('the row back', /^top-node\s+online/m);

  tmux('send-keys', '-t', 'top', 'Enter');
  s = await shows('the detail with the task', /from-top-test/);
  assert.match(s, /^top-node {2}online/m);
  assert.match(s, /^CPU\s+\d+\.\d %/m);
  assert.match(s, /^Recent tasks/m);
  tmux('send-keys', '-t', 'top', 'Escape');
  await shows('the table again', /^NAME▼/m);

  tmux('resize-window', '-t', 'top', '-x', '60', '-y', '20');
  s = await shows('the table at 60 columns without the sparkline', /^NAME▼\s.*TX\/s$/m);
  for (const line of s.split('\n')) assert.ok(line.length <= 60, line);

  tmux('send-keys', '-t', 'top', 'q');
  const exit = await until('top to exit', () => existsSync(exitFile) && readFileSync(exitFile, 'utf8'));
  assert.is(exit.trim(), 'top exited 0');
  assert.is(tmux('display', '-p', '-t', 'top', '#{alternate_on}').trim(), '0', 'back on the main screen');
  assert.is(tmux('display', '-p', '-t', 'top', '#{cursor_flag}').trim(), '1', 'the cursor is shown');
});

test('--once through a pipe: one tab-separated line per node; --json: the nodes with their metrics', async () => {
  if (!hasTmux) return;
  const table = await runBin('opsctl', ['top', '--once'], env());
  assert.is(table.code, 0, table.stderr);
  assert.match(table.stdout, /^top-node\tonline\t\d+(\.\d+)?\t\d+(\.\d+)?\t\d+(\.\d+)?\t\d+(\.\d+)?\t\d{4}-\d\d-\d\dT/);
  // Not a terminal: the same snapshot without --once.
  const piped = await runBin('opsctl', ['top', 'top-*'], env());
  assert.is(piped.code, 0, piped.stderr);
  assert.match(piped.stdout, /^top-node\tonline\t/);
  const json = await runBin('opsctl', ['top', '--json', '-l', 'nosuch=label'], env());
  assert.is(json.code, 0, json.stderr);
  assert.equal(JSON.parse(json.stdout), []);
  const all = JSON.parse((await runBin('opsctl', ['top', '--json'], env())).stdout) as { name: string; status: string; metrics: { cpuPercent: number } | null }[];
  assert.is(all.length, 1);
  assert.is(all[0].name, 'top-node');
  assert.type(all[0].metrics?.cpuPercent, 'number');
});

test('Ctrl-C quits too: exit 0, main screen back, cursor shown', async () => {
  if (!hasTmux) return;
  rmSync(exitFile, { force: true });
  const command = `${q(process.execPath)} ${q(binPath('opsctl'))} top top-node; echo "top exited $?" > ${q(exitFile)}; exec sleep 600`;
  tmux('new-session', '-d', '-s', 'ctrlc', '-x', '80', '-y', '24', '-e', `XDG_CONFIG_HOME=${configHome}`, '-e', 'NO_COLOR=1', 'sh', '-c', command);
  await until('the node row', () => /^top-node\s+online/m.test(tmux('capture-pane', '-p', '-t', 'ctrlc')));
  tmux('send-keys', '-t', 'ctrlc', 'C-c');
  const exit = await until('top to exit', () => existsSync(exitFile) && readFileSync(exitFile, 'utf8'));
  assert.is(exit.trim(), 'top exited 0');
  assert.is(tmux('display', '-p', '-t', 'ctrlc', '#{alternate_on}').trim(), '0');
  assert.is(tmux('display', '-p', '-t', 'ctrlc', '#{cursor_flag}').trim(), '1');
});

test('an unreachable manager is one error line and exit 1, on a terminal or not', async () => {
  if (!hasTmux) return;
  const nobody = `http://127.0.0.1:${await freePort()}`;
  // A token, so that what fails is reaching the manager, not the login.
  const piped = await runBin('opsctl', ['top', '--server', nobody], { ...env(), OPSCTL_TOKEN: 'some-token' });
  assert.is(piped.code, 1);
  assert.match(piped.stderr, /^Error: cannot reach the manager at http:\/\/127\.0\.0\.1:\d+ \(connection refused\)$/m);
  rmSync(exitFile, { force: true });
  const command = `${q(process.execPath)} ${q(binPath('opsctl'))} top --server ${nobody} 2>&1; echo "top exited $?" >> ${q(exitFile)}; exec sleep 600`;
  tmux('new-session', '-d', '-s', 'down', '-x', '80', '-y', '24', '-e', `XDG_CONFIG_HOME=${configHome}`, '-e', 'OPSCTL_TOKEN=some-token', 'sh', '-c', command);
  const exit = await until('top to exit', () => existsSync(exitFile) && readFileSync(exitFile, 'utf8'));
  assert.is(exit.trim(), 'top exited 1');
  assert.match(tmux('capture-pane', '-p', '-t', 'down'), /Error: .*connection refused/);
});

test('a bad selector is a usage error (exit 2) before anything is sent', async () => {
  if (!hasTmux) return;
  const r = await runBin('opsctl', ['top', '-l', 'env=(x'], env());
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, /^Error: .*label/m);
});

test.run();
