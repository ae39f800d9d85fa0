// hostd's configuration, its documented YAML, the backoff, and how it finds the agentd to adopt.
// The agent keys file and pid file formats (proto/) are tested in test/unit/.
import { test } from 'uvu';
import { generateReleaseKey } from '../../proto/release.js';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { flatten, type ConfigTree } from '../../lib/config.js';
import { packageRoot } from '../../lib/version.js';
import { agentCommand, HOSTD_DEFAULTS, loadHostdConfig } from '../../hostd/config.js';
import { HOSTD_SPEC } from '../../hostd/cli-spec.js';
import { parseDaemonArgs } from '../../lib/daemon-cli.js';
import { Backoff } from '../../hostd/backoff.js';
import { agentEnvironment, findRunningAgent, removeStalePidFile, restartDelayMs } from '../../hostd/agent-process.js';

const dir = mkdtempSync(join(tmpdir(), 'ops-hostd-cfg-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const yamlPath = join(packageRoot(), 'configs', 'hostd.yaml');

test('configs/hostd.yaml documents every option with its default value', () => {
  const documented = flatten(parse(readFileSync(yamlPath, 'utf8')) as ConfigTree);
  const defaults = flatten(HOSTD_DEFAULTS as unknown as ConfigTree);
  assert.equal(Object.keys(documented).sort(), Object.keys(defaults).sort());
  assert.equal(documented, defaults);
  assert.equal(loadHostdConfig(yamlPath, {}, {}), loadHostdConfig(undefined, {}, {}), 'loading the documented file changes nothing');
});

test('defaults: host name as node name, bin/agentd.js under this Node', () => {
  const cfg = loadHostdConfig(undefined, {}, {});
  assert.is(cfg.node.name, hostname());
  assert.is(cfg.agent.listen, '127.0.0.1:8442');
  assert.equal(agentCommand(cfg), [process.execPath, join(packageRoot(), 'bin', 'agentd.js')]);
});

test('flags > OPS_* env > file', () => {
  const file = join(dir, 'h.yaml');
  writeFileSync(file, 'manager:\n  address: file:1\nnode:\n  name: from-file\nagent:\n  stopOnExit: false\n');
  const { configFlags } = parseDaemonArgs(HOSTD_SPEC, ['--manager', 'flag:3', '--token', 'tok-flag']);
  const cfg = loadHostdConfig(file, configFlags, { OPS_MANAGER_ADDRESS: 'env:2', OPS_NODE_NAME: 'from-env', OPS_AGENT_STOP_ON_EXIT: 'true', OPS_ENROLL_TOKEN: 'tok-env' });
  assert.is(cfg.manager.address, 'flag:3');
  assert.is(cfg.node.name, 'from-env');
  assert.is(cfg.agent.stopOnExit, true);
  assert.is(cfg.enroll.token, 'tok-flag');
  assert.is(loadHostdConfig(undefined, {}, { OPS_ENROLL_TOKEN: 'tok-env' }).enroll.token, 'tok-env');
});

test('labels: a map in hostd.yaml (keys with dots and slashes), or OPS_LABELS=k=v,k2=v2; a bad key or value stops hostd', () => {
  const file = join(dir, 'labels.yaml');
  writeFileSync(file, 'labels:\n  env: prod\n  example.com/rack: r12\n  port: 8080\n');
  assert.equal(loadHostdConfig(file, {}, {}).labels, { env: 'prod', 'example.com/rack': 'r12', port: '8080' });
  assert.equal(loadHostdConfig(file, {}, { OPS_LABELS: 'env=staging,tier=' }).labels, { env: 'staging', tier: '' }, 'the environment replaces the map');
  assert.equal(loadHostdConfig(undefined, {}, {}).labels, {});
  const bad: [string, RegExp][] = [
    ['labels:\n  "bad key": x\n', /labels: label key "bad key"/],
    ['labels:\n  env: "not ok!"\n', /labels: label env: the value "not ok!"/],
    ['labels:\n  Example.COM/x: y\n', /the prefix must be a lower-case DNS subdomain/],
    ['labels:\n  env:\n    nested: x\n', /must be a mapping of names to plain values/],
    ['labels: [a, b]\n', /labels .*must be a mapping/],
  ];
  for (const [yaml, message] of bad) {
    writeFileSync(file, yaml);
    assert.throws(() => loadHostdConfig(file, {}, {}), message, yaml);
  }
  assert.throws(() => loadHostdConfig(undefined, {}, { OPS_LABELS: 'novalue' }), /key=value pairs/);
});

test('bad values fail at start-up naming the option', () => {
  const bad: [Record<string, string>, RegExp][] = [
    [{ OPS_AGENT_LISTEN: '8442' }, /agent\.listen must be HOST:PORT/],
    [{ OPS_AGENT_LISTEN: '127.0.0.1:99999' }, /agent\.listen/],
    [{ OPS_MANAGER_ADDRESS: 'no-port' }, /manager\.address must be HOST:PORT/],
    [{ OPS_MANAGER_CA_HASH: 'abc' }, /manager\.caHash must be 64 hex/],
    [{ OPS_AGENT_MAX_CONCURRENT: '0' }, /agent\.maxConcurrent/],
    [{ OPS_AGENT_MAX_CONCURRENT: 'many' }, /must be a number/],
    [{ OPS_HEARTBEAT_SECONDS: '0.5' }, /heartbeatSeconds/],
    [{ OPS_RECONNECT_MIN_SECONDS: '10', OPS_RECONNECT_MAX_SECONDS: '5' }, /reconnect\.maxSeconds/],
    [{ OPS_RECONNECT_MIN_SECONDS: '0' }, /reconnect\.minSeconds/],
    [{ OPS_UPDATE_TRUSTED_KEYS: 'ed25519:AAAA' }, /update\.trustedKeys: release public key must be "ed25519:" and 32 bytes/],
    [{ OPS_UPDATE_TRUSTED_KEYS: 'ssh-ed25519 AAAAC3Nza' }, /update\.trustedKeys/],
    [{ OPS_UPDATE_START_GRACE_SECONDS: '0' }, /update\.startGraceSeconds/],
  ];
  for (const [env, reason] of bad) assert.throws(() => loadHostdConfig(undefined, {}, env), reason, JSON.stringify(env));
  const keys = [generateReleaseKey().publicKey, generateReleaseKey().publicKey];
  assert.equal(loadHostdConfig(undefined, {}, { OPS_UPDATE_TRUSTED_KEYS: keys.join(',') }).update.trustedKeys, keys);
  const unknown = join(dir, 'unknown.yaml');
  writeFileSync(unknown, 'agent:\n  lisen: 1\n');
  assert.throws(() => loadHostdConfig(unknown, {}, {}), /unknown option "agent\.lisen"/);
  assert.throws(() => loadHostdConfig(join(dir, 'missing.yaml'), {}, {}), /reading config file/);
});

test('backoff grows exponentially with jitter between min and the cap, and resets', () => {
  const lows = new Backoff(1000, 60_000, () => 0);
  assert.equal([1, 2, 3].map(() => lows.next()), [1000, 1000, 1000]);
  const highs = new Backoff(1000, 60_000, () => 1);
  assert.equal(Array.from({ length: 8 }, () => highs.next()), [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000]);
  highs.reset();
  assert.is(highs.next(), 1000);
  assert.is(highs.max(), 60_000);
  const mid = new Backoff(1000, 60_000, () => 0.5);
  mid.next(); mid.next();
  assert.is(mid.next(), 2500);
});

test('crash restart schedule: 0, 10 s, 10 s, 30 s, 30 s, then 60 s', () => {
  assert.equal([1, 2, 3, 4, 5, 6, 7, 50].map(restartDelayMs), [0, 10_000, 10_000, 30_000, 30_000, 60_000, 60_000, 60_000]);
});

test('the pid file: a live agentd is adopted; a file naming hostd or another program is removed', async () => {
  const pidFile = join(dir, 'agentd.pid');
  const started: ChildProcess[] = [];
  const run = (args: string[]) => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)', ...args], { stdio: 'ignore' });
    started.push(child);
    return child.pid!;
  };
  try {
    const agent = run(['--', 'agentd', '--pid-file', pidFile]);
    const other = run(['--', 'something-else']);
    // /proc/<pid>/cmdline holds the new argv once exec is done.
    const execed = () => readFileSync(`/proc/${agent}/cmdline`, 'utf8').includes('agentd') && readFileSync(`/proc/${other}/cmdline`, 'utf8').includes('something-else');
    for (const deadline = Date.now() + 5000; !execed() && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 20));

    writeFileSync(pidFile, `${agent}\n`);
    assert.is(findRunningAgent(pidFile), agent);
    assert.is(removeStalePidFile(pidFile), undefined, 'an agentd\'s pid file is kept');
    assert.ok(existsSync(pidFile));

    writeFileSync(pidFile, `${other}\n`);
    assert.is(findRunningAgent(pidFile), undefined);
    assert.is(removeStalePidFile(pidFile), other, 'agentd would refuse to start over it');
    assert.not.ok(existsSync(pidFile));

    writeFileSync(pidFile, `${process.pid}\n`);
    assert.is(findRunningAgent(pidFile), undefined, 'hostd is not its own agent');
    assert.is(removeStalePidFile(pidFile), process.pid);

    writeFileSync(pidFile, '999999999\n');
    assert.is(removeStalePidFile(pidFile), undefined, 'a dead pid is left for agentd to replace');
    assert.ok(existsSync(pidFile));
  } finally {
    for (const child of started) child.kill('SIGKILL');
  }
});

test('agentd does not inherit the enrollment token', () => {
  const env = agentEnvironment({ OPS_ENROLL_TOKEN: 'secret', OPS_HEARTBEAT_SECONDS: '5', PATH: '/bin' });
  assert.equal(env, { OPS_HEARTBEAT_SECONDS: '5', PATH: '/bin' });
});

test.run();
