// opsctl as an npm package: the real `npm pack` tarball, installed with `npm install -g` into a temp
// prefix, runs (CLI, man pages, completion, and `opsctl server` on a temp data directory) and
// carries only what runs. Dependencies come from the npm cache when it has them (--prefer-offline).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MANAGER_NODE_FLAGS } from '../../scripts/local-stack.js';
import { pollUntil } from '../helpers/poll.js';
import { ensureBuilt, root } from './run-opsctl.js';

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'opsctl-package-'));
const prefix = join(work, 'prefix');
const installed = join(prefix, 'bin', 'opsctl');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const INSTALL_TIMEOUT_MS = 180_000;
let tarball = '';
let server: ChildProcess | undefined;

/** The installed opsctl, with a config home of its own inside the work folder. */
const opsctl = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  run(installed, args, { env: { ...process.env, XDG_CONFIG_HOME: join(work, 'config'), NO_COLOR: '1', ...env }, timeout: 30_000 });

test.before(async () => {
  ensureBuilt();
  // dist/ is already built (the suites run after `npm run build`); prepack would rebuild it under
  // the other suites' feet, so its build is skipped here: `npm pack` alone runs it.
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: root, timeout: 60_000 });
  tarball = join(work, (JSON.parse(stdout) as { filename: string }[])[0].filename);
});
test.after(async () => {
  if (server?.exitCode === null) server.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

test('the tarball carries the built code, man pages and run-time files, and no tests, benchmarks or sources', async () => {
  const { stdout } = await run('tar', ['-tzf', tarball], { timeout: 30_000 });
  const files = stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
  for (const f of ['package.json', 'README.md', 'bin/opsctl.cjs', 'bin/hostd.js', 'bin/agentd.js', 'dist/cli/main.js', 'dist/server/main.js',
    'oclif.manifest.json', 'man/opsctl.1', 'man/hostd.8', 'man/agentd.8', 'proto/hostlink/v1/hostlink.proto', 'scripts/install.sh',
    'configs/manager.yaml', 'dist/cli/commands/completion.js']) {
    assert.ok(files.includes(f), `${f} is missing`);
  }
  assert.ok(files.some((f) => f.startsWith('dist/migrations/sqlite/')), 'the SQLite migrations are missing');
  const unwanted = files.filter((f) => /^(dist\/(test|bench|scripts)\/|test\/|bench\/|node_modules\/|data\/)|\.ts$/.test(f) && !f.endsWith('.d.ts'));
  assert.equal(unwanted, []);
});

test('npm install -g puts opsctl, hostd and agentd on the prefix\'s PATH and the man pages in share/man', async () => {
  await run('npm', ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel', 'error', tarball],
    { cwd: work, timeout: INSTALL_TIMEOUT_MS });
  assert.equal(readdirSync(join(prefix, 'bin')).sort(), ['agentd', 'hostd', 'opsctl']);
  assert.equal(readdirSync(join(prefix, 'share', 'man', 'man1')), ['opsctl.1']);
  assert.equal(readdirSync(join(prefix, 'share', 'man', 'man8')).sort(), ['agentd.8', 'hostd.8']);
  const { stdout } = await run('man', ['--manpath', join(prefix, 'share', 'man'), '-P', 'cat', 'opsctl'], { env: { ...process.env, MANWIDTH: '80' }, timeout: 30_000 })
    .catch(() => ({ stdout: readFileSync(join(prefix, 'share', 'man', 'man1', 'opsctl.1'), 'utf8') }));
  assert.match(stdout, /completion/);
});

test('the installed opsctl runs: --version, help, completion', async () => {
  const version = await opsctl(['--version']);
  assert.is(version.stdout, `opsctl/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`);
  const help = await opsctl(['nodes', 'ls', '--help']);
  assert.match(help.stdout, /^List nodes/);
  assert.match(help.stdout, /\$ opsctl nodes ls/);
  const completion = await opsctl(['completion', 'bash']);
  assert.match(completion.stdout, /^complete -o default -F _opsctl opsctl$/m);
  const hostd = await run(join(prefix, 'bin', 'hostd'), ['--help'], { timeout: 30_000 });
  assert.match(hostd.stdout, /hostd/);
});

test('opsctl server starts from the installed package on a temp data directory and the installed CLI uses it', async () => {
  const dataDir = join(work, 'manager');
  server = spawn(installed, ['server'], {
    env: { ...process.env, OPS_DATA_DIR: dataDir, OPS_HTTP_PORT: '0', OPS_HTTP_HOST: '127.0.0.1', OPS_GRPC_PORT: '0', OPS_GRPC_HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  server.stderr!.on('data', (d: Buffer) => { stderr += d; });
  const url = await pollUntil('the installed manager to listen', () => {
    assert.is(server!.exitCode, null, `opsctl server stopped: ${stderr}`);
    return /listening: REST (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1];
  }, 60_000);
  // The installed command's first line gives node the manager's flags (bin/opsctl.cjs).
  const argv = readFileSync(`/proc/${server.pid}/cmdline`, 'utf8').split('\0');
  for (const flag of MANAGER_NODE_FLAGS) assert.ok(argv.includes(flag), `${flag} in ${argv.join(' ')}`);
  const [, password] = /password: (\S+)/.exec(readFileSync(join(dataDir, 'initial-admin.txt'), 'utf8'))!;
  const login = await opsctl(['login', '--server', url, '--username', 'admin', '--password', password]);
  assert.match(login.stderr, /admin/);
  const nodes = await opsctl(['nodes', 'ls', '--json']);
  assert.equal(JSON.parse(nodes.stdout), []);
  assert.ok(existsSync(join(dataDir, 'pki')), 'the manager keeps its CA in the data directory');
  server.kill('SIGTERM');
  const code = await new Promise((resolve) => server!.once('exit', resolve));
  assert.is(code, 0, stderr);
});

test.run();
