// The one-line host install, for real: a manager serving HTTPS on loopback hands out install.sh and
// a host bundle built by `npm run package`'s script; real curl fetches them with the manager's pin;
// the script runs with sh in temporary prefixes, with a stand-in systemctl (this machine runs no
// systemd) that starts the unit's ExecStart as systemd would, so the installed hostd really starts
// from PREFIX/current and enrolls. Bad input and faults: a wrong pin, a tampered bundle, no root,
// Node too old, no token, a hostd already running, a second run, uninstall. Needs `npm run build`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawn } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { createLogger } from '../../lib/log.js';
import { packageRoot } from '../../lib/version.js';
import { generateReleaseKey } from '../../proto/release.js';
import { installCommand } from '../../cli/commands/nodes/token/create.js';
import { runManager, type RunningManager } from '../../server/main.js';
import { pollUntil } from '../helpers/poll.js';
import { freePorts } from '../helpers/ports.js';

const work = mkdtempSync(join(tmpdir(), 'ops-install-'));
const bundleDir = join(work, 'bundles');
const version = (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
const bundleName = `opsctl-host-${version}-${process.platform}-${process.arch}.tar.gz`;
const FAKE_SYSTEMCTL = join(packageRoot(), 'test', 'helpers', 'fake-systemctl.sh');
const UNIT = 'opsctl-hostd.service';
let m: RunningManager;
let token: string;
let oneLiner: string;
const prefixes: string[] = [];

interface Run { code: number; stdout: string; stderr: string }

/** Runs `command` with `input` on its stdin, as `curl … | sh` does, without blocking the manager in this process. */
function run(command: string[], input: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TMPDIR: work, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}

const curl = (args: string[]) => promisify(execFile)('curl', args, { encoding: 'utf8' }).then(
  (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
  (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
);
const fetchScript = async (pin = m.https!.spkiPin) => {
  const r = await curl(['-fsS', '-k', '--pinnedpubkey', pin, `${m.httpUrl}/install.sh`]);
  assert.is(r.code, 0, r.stderr);
  return r.stdout;
};

/** A prefix path (not created) and a systemd of its own: unit folder, runtime marker, systemctl state. */
function host(name: string) {
  const root = join(work, name);
  mkdirSync(join(root, 'systemd', 'system'), { recursive: true });
  mkdirSync(join(root, 'run-systemd'), { recursive: true });
  mkdirSync(join(root, 'systemctl'), { recursive: true });
  const prefix = join(root, 'opt');
  prefixes.push(prefix);
  return {
    prefix,
    unitFile: join(root, 'systemd', 'system', UNIT),
    calls: () => (existsSync(join(root, 'systemctl', 'calls')) ? readFileSync(join(root, 'systemctl', 'calls'), 'utf8').trim().split('\n') : []),
    mainPid: () => Number(existsSync(join(root, 'systemctl', `${UNIT}.pid`)) ? readFileSync(join(root, 'systemctl', `${UNIT}.pid`), 'utf8') : 0),
    env: (agentPort: number, extra: Record<string, string> = {}) => ({
      OPS_ENROLL_TOKEN: token,
      OPS_INSTALL_SYSTEMD_DIR: join(root, 'systemd', 'system'),
      OPS_INSTALL_SYSTEMD_RUNTIME: join(root, 'run-systemd'),
      OPS_INSTALL_SYSTEMCTL: FAKE_SYSTEMCTL,
      OPS_INSTALL_ENROLL_SECONDS: '60',
      FAKE_SYSTEMCTL_STATE: join(root, 'systemctl'),
      // Its own node name and agentd port, so hosts of one test run do not collide: the script writes
      // them into hostd.yaml (the stand-in systemctl, like systemd, starts hostd with a clean environment).
      OPS_NODE_NAME: name,
      // 0: a run that never starts hostd (the script refuses port 0: agentd needs a port hostd can reach).
      ...(agentPort ? { OPS_AGENT_LISTEN: `127.0.0.1:${agentPort}` } : {}),
      ...extra,
    }),
  };
}

/** pid and command line of every process running a file from under `dir`. */
function processesUnder(dir: string): { pid: number; cmd: string }[] {
  const out: { pid: number; cmd: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmd: string;
    try { cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' '); } catch { continue; }
    if (cmd.includes(`${dir}/`)) out.push({ pid: Number(entry), cmd });
  }
  return out;
}

const nodeNames = async () => (await m.services.nodes.targets()).map((n) => n.name);

test.before(async () => {
  const built = await run([process.execPath, join(packageRoot(), 'dist', 'scripts', 'package.js'), '--out-dir', bundleDir], '');
  assert.is(built.code, 0, built.stderr);
  m = await runManager({
    env: {}, log: createLogger({ component: 'manager', level: 'silent' }),
    flags: {
      dataDir: join(work, 'manager'), 'http.host': '127.0.0.1', 'http.port': 0, 'http.tls': 'on',
      'grpc.host': '127.0.0.1', 'grpc.port': 0, 'grpc.advertise': '127.0.0.1:0', 'install.bundleDir': bundleDir,
    },
  });
  const created = await m.services.tokens.create({ uses: 20 }, 'install test');
  token = created.token;
  oneLiner = installCommand(created) ?? '';
});

test.after(async () => {
  // Whatever a failed test left running from a temporary prefix (only ours: the paths are this run's).
  for (const prefix of prefixes) for (const p of processesUnder(prefix)) { try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ } }
  await m?.stop();
  rmSync(work, { recursive: true, force: true });
});

test('the token carries the install source, and the one-liner is curl with the pin piped to sh', () => {
  const url = new URL(m.httpUrl);
  assert.is(oneLiner, `curl -fsSL -k --pinnedpubkey ${m.https!.spkiPin} https://127.0.0.1:${url.port}/install.sh | sudo OPS_ENROLL_TOKEN=${token} sh`);
});

test('GET /install.sh: the manager\'s address, pin, host-link address, CA hash and bundle filled in; no token in it', async () => {
  const script = await fetchScript();
  assert.match(script, /^#!\/bin\/sh\n/);
  assert.not.match(script, /@@[A-Z_]+@@/);
  assert.ok(script.includes(`\nMANAGER_URL=${m.httpUrl}\n`), 'the address curl reached');
  assert.ok(script.includes(`\nPIN=${m.https!.spkiPin}\n`));
  assert.ok(script.includes(`\nGRPC_ADDRESS=${m.grpcAddress}\n`));
  assert.ok(script.includes(`\nCA_HASH=${(await m.services.tokens.create({}, 't')).caHash}\n`));
  const sha = (await promisify(execFile)('sha256sum', [join(bundleDir, bundleName)])).stdout.split(' ')[0];
  assert.ok(script.includes(`\nBUNDLES='${process.platform}-${process.arch} ${sha} ${bundleName}'\n`), script.split('\n').find((l) => l.startsWith('BUNDLES=')));
  assert.not.ok(script.includes(token));
  // A Host header a shell would read is not written into the script.
  const evil = await curl(['-fsS', '-k', '--pinnedpubkey', m.https!.spkiPin, '-H', 'Host: x$(reboot)', `${m.httpUrl}/install.sh`]);
  assert.is(evil.code, 0, evil.stderr);
  assert.not.ok(evil.stdout.includes('reboot'));
  assert.match(evil.stdout, /\nMANAGER_URL=https:\/\/127\.0\.0\.1:\d+\n/);
});

test('GET /bundles: the bundle itself; other names, other versions and ../ are 404 and never a file outside the folder', async () => {
  const pin = m.https!.spkiPin;
  const out = join(work, 'fetched.tar.gz');
  const ok = await curl(['-fsS', '-k', '--pinnedpubkey', pin, '-o', out, `${m.httpUrl}/bundles/${bundleName}`]);
  assert.is(ok.code, 0, ok.stderr);
  assert.ok(readFileSync(out).equals(readFileSync(join(bundleDir, bundleName))));
  writeFileSync(join(bundleDir, 'secret.txt'), 'not for hosts');
  for (const path of ['/bundles/secret.txt', '/bundles/..%2F..%2Fpackage.json', '/bundles/..%2fbundles%2f' + bundleName, `/bundles/${bundleName.replace(version, '0.0.1')}`, '/bundles/', '/bundles/%00']) {
    const r = await curl(['-sS', '-k', '--pinnedpubkey', pin, '-o', '/dev/null', '-w', '%{http_code}', '--path-as-is', `${m.httpUrl}${path}`]);
    assert.match(r.stdout, /^40[04]$/, path);
  }
  const named = await curl(['-sS', '-k', '--pinnedpubkey', pin, `${m.httpUrl}/bundles/secret.txt`]);
  assert.is(named.stdout, `no host bundle named "secret.txt"; this manager has: ${bundleName}\n`);
  rmSync(join(bundleDir, 'secret.txt'));
  // /api/ keeps its envelope: an unknown API path is still the API's (401 before 404, as for any unknown path).
  const api = await curl(['-sS', '-k', '--pinnedpubkey', pin, `${m.httpUrl}/api/v1/install.sh`]);
  assert.match(api.stdout, /"code":100[24]/);
});

test('a wrong pin: curl refuses the manager, sh gets nothing, nothing is installed; a script with a wrong pin cannot fetch the bundle', async () => {
  const h = host('wrong-pin');
  const wrong = `sha256//${Buffer.alloc(32, 7).toString('base64')}`;
  const piped = await run(['sh', '-c', `${oneLiner.replace(m.https!.spkiPin, wrong).replace('| sudo ', '| env ')} -s -- --prefix ${h.prefix}`], '', h.env(0));
  assert.match(piped.stderr, /curl: \(90\)/);
  assert.not.ok(existsSync(h.prefix));
  // The pin inside the script guards the bundle download too.
  const script = (await fetchScript()).replace(`PIN=${m.https!.spkiPin}`, `PIN='${wrong}'`);
  const r = await run(['sh', '-s', '--', '--prefix', h.prefix], script, h.env(0));
  assert.is(r.code, 1, r.stdout);
  assert.match(r.stderr, /curl: \(90\)[\s\S]*downloading https:\/\/127\.0\.0\.1:\d+\/bundles\/opsctl-host-.* failed \(curl's message above\); nothing was installed/);
  assert.not.ok(existsSync(h.prefix), 'no prefix left behind');
  assert.equal(h.calls(), []);
});

test('a tampered bundle: the SHA-256 the script carries does not match, nothing is unpacked or installed', async () => {
  const h = host('tampered');
  const script = await fetchScript();
  const original = join(work, 'original.tar.gz');
  copyFileSync(join(bundleDir, bundleName), original);
  appendFileSync(join(bundleDir, bundleName), Buffer.from('evil'));
  try {
    const r = await run(['sh', '-s', '--', '--prefix', h.prefix], script, h.env(0));
    assert.is(r.code, 1, r.stdout);
    assert.match(r.stderr, new RegExp(`${bundleName.replace(/\./g, '\\.')} has SHA-256 [0-9a-f]{64}, but the manager's install\\.sh says [0-9a-f]{64}: not unpacking it; nothing was installed`));
    assert.not.ok(existsSync(h.prefix));
    assert.not.ok(existsSync(h.unitFile));
    assert.equal(readdirSync(work).filter((f) => f.startsWith('opsctl-install.')), [], 'the download is cleaned up');
  } finally {
    copyFileSync(original, join(bundleDir, bundleName));
  }
});

test('bad input before anything changes: usage errors, no token, no root, Node too old or missing', async () => {
  const h = host('bad-input');
  const script = await fetchScript();
  const cases: [string[], Record<string, string>, number, RegExp][] = [
    [['--prefix', 'relative/dir'], {}, 2, /--prefix must be an absolute path, got relative\/dir/],
    [['--prefix', '/tmp/a b'], {}, 2, /--prefix may hold only letters, digits/],
    [['--prefix', '/tmp/../etc'], {}, 2, /must not hold \. or \.\. segments/],
    [['--prefix', '/'], {}, 2, /--prefix \/ is not a folder of its own/],
    [['--frobnicate'], {}, 2, /unknown option: --frobnicate/],
    [['--trust-key', 'rsa:AAAA'], {}, 2, /--trust-key takes ed25519:<base64>/],
    [['--trust-key', 'ed25519:"; rm -rf /'], {}, 2, /--trust-key takes ed25519:<base64>/],
    [['--trust-key'], {}, 2, /--trust-key needs a key/],
    [['--name', 'a b'], {}, 2, /--name may hold only letters, digits and \. _ -/],
    [['--name=-web'], {}, 2, /--name may hold only letters, digits and \. _ - \(starting with a letter or digit\), got -web/],
    [['--prefix', h.prefix], { OPS_NODE_NAME: 'x"; rm -rf /' }, 2, /--name may hold only/],
    [['--name'], {}, 2, /--name needs a node name/],
    [['--agent-listen', 'nope'], {}, 2, /--agent-listen must be HOST:PORT, got nope/],
    [['--agent-listen', '127.0.0.1:0'], {}, 2, /a port from 1 to 65535, got 127\.0\.0\.1:0/],
    [['--agent-listen=127.0.0.1:65536'], {}, 2, /a port from 1 to 65535/],
    [['--agent-listen', '127.0.0.1:84x2'], {}, 2, /a port from 1 to 65535/],
    [['--agent-listen', 'a b:8442'], {}, 2, /--agent-listen must be HOST:PORT/],
    [['--prefix', h.prefix], { OPS_ENROLL_TOKEN: '' }, 1, /OPS_ENROLL_TOKEN is not set: create a token with opsctl nodes token create/],
    [['--prefix', h.prefix], { OPS_ENROLL_TOKEN: 'x"; rm -rf /' }, 1, /OPS_ENROLL_TOKEN is not a token/],
  ];
  const help = await run(['sh', '-s', '--', '--help'], script, h.env(0));
  assert.is(help.code, 0, help.stderr);
  assert.match(help.stdout, /--prefix DIR[\s\S]*--name NAME[\s\S]*--agent-listen HOST:PORT[\s\S]*--no-start[\s\S]*--uninstall/);
  assert.ok(help.stdout.includes(`--pinnedpubkey '${m.https!.spkiPin}' ${m.httpUrl}/install.sh`));
  for (const [args, env, code, message] of cases) {
    const r = await run(['sh', '-s', '--', ...args], script, h.env(0, env));
    assert.is(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  // Node: an old one first on PATH, then none at all.
  const fakeBin = join(work, 'old-node-bin');
  mkdirSync(fakeBin);
  writeFileSync(join(fakeBin, 'node'), '#!/bin/sh\nprintf 18.19.1\n');
  chmodSync(join(fakeBin, 'node'), 0o755);
  const old = await run(['sh', '-s', '--', '--prefix', h.prefix], script, h.env(0, { PATH: `${fakeBin}:${process.env.PATH}` }));
  assert.is(old.code, 1);
  assert.match(old.stderr, /Node\.js 18\.19\.1 \(.*old-node-bin\/node\) is too old: hostd needs Node\.js 20 or later/);
  const noNodeBin = join(work, 'no-node-bin');
  mkdirSync(noNodeBin);
  for (const tool of ['id', 'tr', 'awk', 'curl', 'cat', 'rm']) {
    copyFileSync(existsSync(`/usr/bin/${tool}`) ? `/usr/bin/${tool}` : `/bin/${tool}`, join(noNodeBin, tool));
    chmodSync(join(noNodeBin, tool), 0o755);
  }
  const none = await run(['/bin/sh', '-s', '--', '--prefix', h.prefix], script, h.env(0, { PATH: noNodeBin }));
  assert.is(none.code, 1);
  assert.match(none.stderr, /Node\.js 20 or later is needed and node is not on PATH/);
  // Not root: a systemd install is refused; --no-start into a folder of one's own works, without a unit.
  const nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'sh', '-s', '--'];
  const refused = await run([...nobody, '--prefix', h.prefix], script, h.env(0));
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /run this as root \(sudo\): it installs and starts a systemd unit\. Without root: --prefix DIR --no-start/);
  assert.not.ok(existsSync(h.prefix));
  // A folder of nobody's own, in one nobody may change (uninstall removes the prefix itself).
  chownSync(dirname(h.prefix), 65534, 65534);
  chmodSync(work, 0o755);
  const own = await run([...nobody, '--prefix', h.prefix, '--no-start'], script, h.env(0, { TMPDIR: '/tmp' }));
  assert.is(own.code, 0, own.stderr);
  assert.match(own.stdout, /not root: no systemd unit\. Start hostd with: OPS_NODE=\S*node \S+\/bin\/hostd-launch --loop --config \S+\/etc\/hostd\.yaml/);
  assert.is(statSync(join(h.prefix, 'current', 'hostd.mjs')).uid, 65534);
  assert.not.ok(existsSync(h.unitFile));
  assert.equal(h.calls(), [], 'no systemctl without root');
  const gone = await run([...nobody, '--prefix', h.prefix, '--uninstall'], script, h.env(0));
  assert.is(gone.code, 0, gone.stderr);
  assert.not.ok(existsSync(h.prefix));
});

test('install: verified, unpacked, config and unit written, hostd started from PREFIX/current, enrolled; the unit passes systemd-analyze verify', async () => {
  const [agentPort] = await freePorts(1);
  const h = host('web-1');
  // The command `opsctl nodes token create` printed, as a host runs it (sudo aside: this test is root),
  // with the node name and agentd's address as options (sudo passes no OPS_NODE_NAME or OPS_AGENT_LISTEN),
  // and release keys both ways: the environment and --trust-key (hostd checks them when it starts).
  const [key1, key2] = [generateReleaseKey().publicKey, generateReleaseKey().publicKey];
  const asSudo = h.env(agentPort!, { OPS_NODE_NAME: '', OPS_AGENT_LISTEN: '', OPS_RELEASE_KEYS: key1 });
  const r = await run(['sh', '-c', `${oneLiner.replace('| sudo ', '| env ')} -s -- --prefix ${h.prefix} --name web-1 --agent-listen 127.0.0.1:${agentPort} --trust-key ${key2}`], '', asSudo);
  assert.is(r.code, 0, r.stderr + r.stdout);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.map((l) => l.replace(/\/\S+\/web-1\//g, '…/').replace(/[0-9a-f]{64}/, '<sha>')), [
    `opsctl install: downloaded ${bundleName} (SHA-256 <sha> matches)`,
    `opsctl install: unpacked to …/opt/versions/${version} (every file matches manifest.json)`,
    `opsctl install: …/opt/current -> versions/${version}`,
    'opsctl install: wrote …/opt/etc/hostd.yaml',
    `opsctl install: wrote …/systemd/system/${UNIT}`,
    `opsctl install: enabled and started ${UNIT}`,
    'opsctl install: enrolled with the manager as web-1',
  ]);
  assert.is(readlinkSync(join(h.prefix, 'current')), `versions/${version}`);
  const config = readFileSync(join(h.prefix, 'etc', 'hostd.yaml'), 'utf8');
  assert.is(statSync(join(h.prefix, 'etc', 'hostd.yaml')).mode & 0o777, 0o600, 'the token is in it');
  assert.ok(config.includes(`update:\n  # Release keys whose signatures this host accepts for updates (opsctl release keygen).\n  trustedKeys:\n    - "${key1}"\n    - "${key2}"\n`), config);
  assert.ok(config.includes(`dataDir: ${h.prefix}/data\n`) && config.includes(`address: "${m.grpcAddress}"`) && config.includes(`token: "${token}"`), config);
  assert.ok(config.endsWith(`\nnode:\n  # The name this host enrolls as (install.sh --name).\n  name: "web-1"\n` +
    `agent:\n  # The address of agentd's HTTP API (install.sh --agent-listen).\n  listen: "127.0.0.1:${agentPort}"\n`), config);
  const unit = readFileSync(h.unitFile, 'utf8');
  assert.ok(unit.includes(`\nExecStart=${h.prefix}/bin/hostd-launch --config ${h.prefix}/etc/hostd.yaml\nEnvironment=OPS_NODE=${process.execPath}\n`), unit);
  assert.is(statSync(join(h.prefix, 'bin', 'hostd-launch')).mode & 0o777, 0o755);
  for (const line of ['KillMode=process', 'Restart=always', 'LimitNOFILE=65536', 'Environment=MALLOC_ARENA_MAX=2', 'WantedBy=multi-user.target']) assert.ok(unit.includes(`\n${line}\n`), line);
  assert.equal(h.calls().slice(0, 3), ['daemon-reload', `is-active --quiet ${UNIT}`, `enable --now ${UNIT}`]);
  assert.ok(h.calls().slice(3).every((c) => c === `is-active --quiet ${UNIT}`), 'then only "still running?" while it waits for enrollment');
  assert.ok((await nodeNames()).includes('web-1'));
  const hostd = processesUnder(h.prefix).find((p) => p.cmd.includes('hostd.mjs'));
  assert.is(hostd?.pid, h.mainPid());
  assert.ok(hostd!.cmd.includes(`${h.prefix}/current/hostd.mjs`));
  const agentd = await pollUntil('agentd to start', () => processesUnder(h.prefix).find((p) => p.cmd.includes('agentd.mjs')), 30_000);
  assert.ok(agentd.cmd.includes(`${h.prefix}/versions/${version}/agentd.mjs`), agentd.cmd);
  assert.ok(agentd.cmd.includes(` --listen 127.0.0.1:${agentPort} `), `agentd at --agent-listen: ${agentd.cmd}`);

  if (existsSync('/usr/bin/systemd-analyze') || existsSync('/bin/systemd-analyze')) {
    const verify = await promisify(execFile)('systemd-analyze', ['verify', h.unitFile]).then((v) => ({ code: 0, out: v.stderr }), (e: { code: number; stderr: string }) => ({ code: e.code, out: e.stderr }));
    assert.is(verify.code, 0, verify.out);
    assert.is(verify.out.split('\n').filter((l) => l.includes(UNIT)).join('\n'), '', 'no complaint about the unit');
  } else {
    console.log('  (systemd-analyze not installed: the unit file was not verified)');
  }

  // Stopping hostd (systemctl stop signals only the main process: KillMode=process) leaves agentd
  // running; the next hostd adopts it.
  const stopped = await run([FAKE_SYSTEMCTL, 'restart', UNIT], '', h.env(agentPort!));
  assert.is(stopped.code, 0, stopped.stderr);
  assert.not.equal(h.mainPid(), hostd!.pid, 'a new hostd');
  process.kill(agentd.pid, 0);
  assert.ok(processesUnder(h.prefix).some((p) => p.pid === agentd.pid), 'the same agentd still runs');
});

test('a second run changes nothing: config kept, nothing downloaded, hostd left running, no second enrollment', async () => {
  const [agentPort] = await freePorts(1);
  const h = host('web-1');
  const configBefore = readFileSync(join(h.prefix, 'etc', 'hostd.yaml'));
  const pidBefore = h.mainPid();
  const callsBefore = h.calls().length;
  const script = await fetchScript();
  const r = await run(['sh', '-s', '--', '--prefix', h.prefix], script, h.env(agentPort!, { OPS_ENROLL_TOKEN: '' }));
  assert.is(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n').map((l) => l.replace(/\/\S+\/web-1\//g, '…/')), [
    `opsctl install: …/opt/versions/${version} is already installed and matches its manifest: nothing downloaded`,
    'opsctl install: kept …/opt/etc/hostd.yaml (written by an earlier install)',
    `opsctl install: kept …/systemd/system/${UNIT} (unchanged)`,
    `opsctl install: ${UNIT} is already running: left as it is`,
    'opsctl install: already enrolled as web-1: not enrolling again',
  ]);
  assert.ok(readFileSync(join(h.prefix, 'etc', 'hostd.yaml')).equals(configBefore));
  assert.is(h.mainPid(), pidBefore);
  assert.not.ok(h.calls().slice(callsBefore).some((c) => /^(restart|start|stop)/.test(c)), h.calls().join('\n'));
  assert.is((await nodeNames()).filter((n) => n === 'web-1').length, 1);
  // An option the kept hostd.yaml does not hold is refused before anything changes (the environment's
  // OPS_AGENT_LISTEN above, a port of this run, is not an option: only a new file takes it).
  for (const args of [['--agent-listen', '127.0.0.1:1'], ['--name', 'web-9']]) {
    const refused = await run(['sh', '-s', '--', '--prefix', h.prefix, ...args], script, h.env(agentPort!, { OPS_ENROLL_TOKEN: '' }));
    assert.is(refused.code, 1, refused.stdout);
    assert.match(refused.stderr, new RegExp(`hostd\\.yaml \\(kept from an earlier install\\) does not have ${args.join(' ')}: edit it and restart hostd, or --uninstall and install again`));
  }
  const same = await run(['sh', '-s', '--', '--prefix', h.prefix, '--name', 'web-1'], script, h.env(agentPort!, { OPS_ENROLL_TOKEN: '' }));
  assert.is(same.code, 0, same.stderr);
  assert.ok(readFileSync(join(h.prefix, 'etc', 'hostd.yaml')).equals(configBefore));
  assert.is(h.mainPid(), pidBefore);
});

test('a run that moves current to another version swaps the link in place and restarts hostd; agentd survives', async () => {
  const [agentPort] = await freePorts(1);
  const h = host('web-1');
  // As if an older version were current: its folder beside this one, the link pointing at it.
  cpSync(join(h.prefix, 'versions', version), join(h.prefix, 'versions', '0.0.9'), { recursive: true });
  symlinkSync('versions/0.0.9', join(h.prefix, 'current.tmp'));
  renameSync(join(h.prefix, 'current.tmp'), join(h.prefix, 'current'));
  const hostdBefore = h.mainPid();
  const agentdBefore = processesUnder(h.prefix).find((p) => p.cmd.includes('agentd.mjs'))!;
  const callsBefore = h.calls().length;
  const r = await run(['sh', '-s', '--', '--prefix', h.prefix], await fetchScript(), h.env(agentPort!));
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`current -> versions/${version.replace(/\./g, '\\.')} \\(was versions/0\\.0\\.9\\)\n`));
  assert.match(r.stdout, /restarted opsctl-hostd\.service \(a new version or unit; agentd keeps running and is adopted\)\n/);
  assert.is(readlinkSync(join(h.prefix, 'current')), `versions/${version}`);
  assert.ok(h.calls().slice(callsBefore).includes(`restart ${UNIT}`));
  assert.not.equal(h.mainPid(), hostdBefore);
  assert.ok(processesUnder(h.prefix).some((p) => p.pid === agentdBefore.pid), 'the same agentd');
});

test('--no-start, then hostd run by hand from PREFIX/current enrolls; a run while it runs outside systemd is refused; uninstall leaves nothing', async () => {
  const [agentPort] = await freePorts(1);
  const h = host('web-2');
  const script = await fetchScript();
  const r = await run(['sh', '-s', '--', '--prefix', h.prefix, '--no-start'], script, h.env(agentPort!));
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`not started \\(--no-start\\)\\. Start it with: \\S+ enable --now ${UNIT}\\n$`));
  // web-1's hostd (another prefix) is not refused, but named: it would want the same agentd port and name.
  assert.match(r.stderr, /warning: another hostd runs on this host \(pid \d+: \S+ \S+\/web-1\/opt\/current\/hostd\.mjs /);
  assert.ok(existsSync(h.unitFile));
  assert.not.ok(h.calls().some((c) => c.startsWith('enable') || c.startsWith('start')));

  const hostd = spawn(process.execPath, [join(h.prefix, 'current', 'hostd.mjs'), '--config', join(h.prefix, 'etc', 'hostd.yaml')], {
    env: { PATH: process.env.PATH, OPS_NODE_NAME: 'web-2', OPS_AGENT_LISTEN: `127.0.0.1:${agentPort}` }, stdio: 'ignore',
  });
  try {
    await pollUntil('hostd to enroll', () => existsSync(join(h.prefix, 'data', 'node.json')), 60_000);
    assert.ok((await nodeNames()).includes('web-2'));
    const again = await run(['sh', '-s', '--', '--prefix', h.prefix], script, h.env(agentPort!));
    assert.is(again.code, 1, again.stdout);
    assert.match(again.stderr, new RegExp(`hostd already runs from ${h.prefix} outside systemd \\(pid ${hostd.pid} .*\\): stop it \\(kill ${hostd.pid}\\), then run this again`));
    assert.not.ok(h.calls().some((c) => c.startsWith('enable') || c.startsWith('start')), 'no second hostd');
  } catch (err) {
    hostd.kill('SIGKILL');
    throw err;
  }
  // Uninstall stops the hand-started hostd, and the agentd it started, itself.
  const gone = await run(['sh', '-s', '--', '--prefix', h.prefix, '--uninstall'], script, h.env(agentPort!));
  assert.is(gone.code, 0, gone.stderr);
  assert.match(gone.stdout, /stopped hostd\.mjs \(pid \d+\)\n.*stopped agentd\.mjs \(pid \d+\)\n/);
  assert.match(gone.stdout, /the manager still knows node web-2: opsctl nodes rm web-2\n$/);
  assert.not.ok(existsSync(h.prefix));
  assert.not.ok(existsSync(h.unitFile));
  assert.equal(processesUnder(h.prefix), []);
  await pollUntil('hostd to be reaped', () => hostd.exitCode !== null || hostd.signalCode !== null, 10_000);
});

test('--uninstall: unit stopped, disabled and removed, agentd stopped too, the prefix gone; a second uninstall and a foreign folder', async () => {
  const h = host('web-1');
  const script = await fetchScript();
  assert.ok(processesUnder(h.prefix).length >= 2, 'hostd and agentd run');
  const r = await run(['sh', '-s', '--', '--prefix', h.prefix, '--uninstall'], script, h.env(0));
  assert.is(r.code, 0, r.stderr);
  assert.ok(h.calls().includes(`disable --now ${UNIT}`), h.calls().join('\n'));
  assert.not.ok(existsSync(h.unitFile));
  assert.not.ok(existsSync(h.prefix));
  assert.equal(processesUnder(h.prefix), [], 'agentd outlives hostd by design, so uninstall stops it');
  const twice = await run(['sh', '-s', '--', '--prefix', h.prefix, '--uninstall'], script, h.env(0));
  assert.is(twice.code, 0, twice.stderr);
  assert.match(twice.stdout, /nothing installed at /);

  const foreign = join(work, 'foreign');
  mkdirSync(foreign);
  writeFileSync(join(foreign, 'precious'), 'keep me');
  for (const args of [['--uninstall'], []]) {
    const refused = await run(['sh', '-s', '--', '--prefix', foreign, ...args], script, h.env(0));
    assert.is(refused.code, 1);
    assert.match(refused.stderr, /was not made by this script \(no \.opsctl-install in it\)/);
  }
  assert.is(readFileSync(join(foreign, 'precious'), 'utf8'), 'keep me');
  assert.ok(lstatSync(foreign).isDirectory());
});

test('a token the manager refuses: hostd stops, the script says so and fails; a second run with a good token finishes', async () => {
  const [agentPort] = await freePorts(1);
  const h = host('bad-token');
  const script = await fetchScript();
  const r = await run(['sh', '-s', '--', '--prefix', h.prefix], script, h.env(agentPort!, { OPS_ENROLL_TOKEN: 'not-a-token-the-manager-made' }));
  assert.is(r.code, 1, r.stdout);
  assert.match(r.stderr, /hostd stopped before it enrolled \(a used, expired or unknown token\?\): journalctl -u opsctl-hostd\.service says why/);
  assert.ok(existsSync(join(h.prefix, 'current', 'hostd.mjs')), 'installed; only enrollment failed');
  assert.not.ok(existsSync(join(h.prefix, 'data', 'node.json')));
  assert.not.ok((await nodeNames()).includes('bad-token'));
  // A second run with a good token puts it in the config it keeps, starts hostd again and enrolls.
  const again = await run(['sh', '-s', '--', '--prefix', h.prefix], script, h.env(agentPort!));
  assert.is(again.code, 0, again.stderr);
  assert.match(again.stdout, /kept \S+\/etc\/hostd\.yaml, with the new enrollment token \(this host has not enrolled yet\)\n[\s\S]*enrolled with the manager as bad-token\n$/);
  assert.ok(readFileSync(join(h.prefix, 'etc', 'hostd.yaml'), 'utf8').includes(`\n  token: "${token}"\n`));
  assert.is(statSync(join(h.prefix, 'etc', 'hostd.yaml')).mode & 0o777, 0o600);
  const gone = await run(['sh', '-s', '--', '--prefix', h.prefix, '--uninstall'], script, h.env(0));
  assert.is(gone.code, 0, gone.stderr);
  assert.not.ok(existsSync(h.prefix));
});

test('without systemd: installed, no unit, and the command that starts hostd is printed', async () => {
  const h = host('no-systemd');
  const script = await fetchScript();
  const r = await run(['sh', '-s', '--', '--prefix', h.prefix], script, h.env(0, { OPS_INSTALL_SYSTEMD_RUNTIME: join(work, 'no-such-dir') }));
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /systemd is not running on this host \(.*no-such-dir is missing\): no unit installed\. Start hostd with: OPS_NODE=\S+ \S+\/bin\/hostd-launch --loop --config \S+\/etc\/hostd\.yaml\n$/);
  assert.not.ok(existsSync(h.unitFile));
  assert.equal(h.calls(), []);
  const gone = await run(['sh', '-s', '--', '--prefix', h.prefix, '--uninstall'], script, h.env(0));
  assert.is(gone.code, 0, gone.stderr);
  assert.not.ok(existsSync(h.prefix));
});

test('a manager with no bundle built: the script says to run npm run package, and installs nothing', async () => {
  const h = host('no-bundle');
  const aside = join(work, 'aside.tar.gz');
  copyFileSync(join(bundleDir, bundleName), aside);
  rmSync(join(bundleDir, bundleName));
  try {
    const script = await fetchScript();
    assert.ok(script.includes("\nBUNDLES=''\n"));
    const r = await run(['sh', '-s', '--', '--prefix', h.prefix], script, h.env(0));
    assert.is(r.code, 1);
    assert.match(r.stderr, /the manager has no host bundle to give: on the manager, run npm run package/);
    assert.not.ok(existsSync(h.prefix));
    const missing = await curl(['-sS', '-k', '--pinnedpubkey', m.https!.spkiPin, '-w', ' %{http_code}', `${m.httpUrl}/bundles/${bundleName}`]);
    assert.is(missing.stdout, `this manager has no host bundle: run npm run package on it (bundles are read from ${bundleDir}, install.bundleDir)\n 404`);
  } finally {
    copyFileSync(aside, join(bundleDir, bundleName));
  }
});

test.run();
