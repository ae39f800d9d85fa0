// opsctl against the real manager, started the way operators start it (`opsctl server`) as its
// own process on ephemeral loopback ports. Streaming task output from real hosts is covered by
// test/e2e, which also runs hostd and agentd.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePorts } from '../helpers/ports.js';
import { ConfigHome, ensureBuilt, opsctl, opsctlBin } from './run-opsctl.js';

const home = new ConfigHome();
const dataDir = mkdtempSync(join(tmpdir(), 'opsctl-cli-manager-'));
let manager: ChildProcess;
let managerErr = '';
let url = '';
let admin = { username: '', password: '' };

function waitFor(pattern: RegExp, what: string): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = pattern.exec(managerErr);
      if (m) { manager.stderr!.off('data', check); manager.off('exit', exited); resolve(m); }
    };
    const exited = (code: number | null) => reject(new Error(`opsctl server exited (${code}) before ${what}:\n${managerErr}`));
    manager.stderr!.on('data', check);
    manager.once('exit', exited);
    check();
  });
}

test.before(async () => {
  ensureBuilt();
  const [httpPort, grpcPort] = await freePorts(2);
  manager = spawn(process.execPath, [opsctlBin, 'server', '--log-level', 'warn'], {
    env: {
      ...process.env, OPS_DATA_DIR: dataDir, OPS_HTTP_HOST: '127.0.0.1', OPS_HTTP_PORT: String(httpPort),
      OPS_GRPC_HOST: '127.0.0.1', OPS_GRPC_PORT: String(grpcPort), OPS_GRPC_ADVERTISE: `127.0.0.1:${grpcPort}`,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  manager.stderr!.on('data', (d: Buffer) => (managerErr += d));
  const [, httpUrl] = await waitFor(/^opsctl manager listening: REST (\S+), hosts \(gRPC\) \S+$/m, 'listening');
  url = httpUrl.replace(/,$/, '');
  // Standard error is a pipe here, not a terminal: the password is not printed, only where it is.
  const [, username, file] = await waitFor(/--username (\S+)\n\s+password: in (\S+) \(mode 0600; not printed because standard error is not a terminal\)\n/, 'printing the first admin');
  assert.is(file, join(dataDir, 'initial-admin.txt'));
  const password = /^password: (\S+)$/m.exec(readFileSync(file, 'utf8'))?.[1] ?? '';
  assert.not.ok(managerErr.includes(password), 'the password is not on standard error');
  admin = { username, password };
});

test.after(async () => {
  if (manager.exitCode === null && manager.signalCode === null) {
    manager.kill('SIGKILL');
    await new Promise((resolve) => manager.once('exit', resolve));
  }
  home.remove();
  rmSync(dataDir, { recursive: true, force: true });
});

test('opsctl server printed its address and the first admin on stderr (the password in a file)', () => {
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.is(admin.username, 'admin');
  assert.ok(admin.password.length >= 12);
});

test('login against the manager writes the config with mode 0600; a wrong password leaves it alone', async () => {
  const ok = await opsctl(home, ['login', '--server', url, '--username', admin.username, '--password', admin.password]);
  assert.is(ok.code, 0, ok.stderr);
  assert.is(statSync(home.configFile).mode & 0o777, 0o600);
  const saved = readFileSync(home.configFile, 'utf8');
  assert.not.ok(saved.includes(admin.password));

  const other = new ConfigHome();
  try {
    mkdirSync(dirname(other.configFile), { recursive: true });
    writeFileSync(other.configFile, 'server: http://old.example\n', { mode: 0o600 });
    const bad = await opsctl(other, ['login', '--server', url, '--username', admin.username, '--password', 'wrong']);
    assert.is(bad.code, 1);
    assert.match(bad.stderr, /^Error: .+ \(code 1002\)\n$/);
    assert.is(readFileSync(other.configFile, 'utf8'), 'server: http://old.example\n');
  } finally {
    other.remove();
  }
});

test('nodes ls with no hosts: empty rows piped, [] as JSON', async () => {
  const tsv = await opsctl(home, ['nodes', 'ls']);
  assert.is(tsv.code, 0, tsv.stderr);
  assert.is(tsv.stdout, '');
  const json = await opsctl(home, ['nodes', 'ls', '--json']);
  assert.is(json.stdout, '[]\n');
});

test('nodes token create prints the hostd command with the manager CA hash', async () => {
  const r = await opsctl(home, ['nodes', 'token', 'create', '--uses', '2', '--ttl', '10m']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^command\tOPS_ENROLL_TOKEN=\S+ hostd --manager 127\.0\.0\.1:\d+ --ca-hash [0-9a-f]{64}$/m);
  const json = JSON.parse((await opsctl(home, ['nodes', 'token', 'create', '--json'])).stdout) as { uses: number; caHash: string };
  assert.is(json.uses, 1);
  assert.match(json.caHash, /^[0-9a-f]{64}$/);
});

test('the manager\'s errors: no matching node (2002), unknown node and task (1004)', async () => {
  const none = await opsctl(home, ['tasks', 'run', '-l', 'env=nowhere', '--', 'true']);
  assert.is(none.code, 1);
  assert.match(none.stderr, /^Error: no node matches the selector.* \(code 2002\)\n$/);
  const tasks = await opsctl(home, ['tasks', '--json']);
  assert.is(tasks.stdout, '[]\n', 'no task was stored');
  const node = await opsctl(home, ['nodes', 'show', 'nope']);
  assert.is(node.code, 1);
  assert.match(node.stderr, /^Error: .*not found.* \(code 1004\)\n$/);
  const task = await opsctl(home, ['tasks', 'show', 'nope']);
  assert.is(task.code, 1);
  assert.match(task.stderr, /^Error: .*not found.* \(code 1004\)\n$/);
});

test('SIGTERM stops opsctl server cleanly (exit 0)', async () => {
  const exited = new Promise<number | null>((resolve) => manager.once('exit', (code) => resolve(code)));
  manager.kill('SIGTERM');
  assert.is(await exited, 0, managerErr);
  assert.match(managerErr, /SIGTERM: stopping the manager\n$/);
});

test.run();
