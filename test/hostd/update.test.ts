// hostd updating itself and agentd, for real: bundles built by scripts/package.ts (some crafted to
// fail), installed as the install script installs them, hostd run by the real launcher, a HostLink
// server over real mTLS sending UpdateHost and serving FetchRelease. Every case ends with exactly
// one valid version running. Needs the build (dist/): the bundles are made from it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateReleaseKey } from '../../proto/release.js';
import { ErrorCode } from '../../proto/errors.js';
import { readMarker } from '../../hostd/updater/marker.js';
import { freePort } from '../helpers/ports.js';
import { killAllUnder, startHostd, waitUntil, type HostdRun } from './helpers.js';
import { UpdateServer } from './update-server.js';
import { rssAnonKb } from '../helpers/installed-host.js';
import { buildBundle, type Bundle } from '../helpers/release-bundle.js';
import { installHost, manifestFor, oneVersionRunning, sign, updateFor, type InstalledHost } from './update-host.js';

const work = mkdtempSync(join(tmpdir(), 'ops-update-test-'));
const key = generateReleaseKey();
const stranger = generateReleaseKey();
const bundles: Record<string, Bundle> = {};
let server: UpdateServer;
const hosts: InstalledHost[] = [];
const HEALTH = 3;
/** The host most cases run on, one after the other. */
const FIRST = 'refusals';
const hellosOf = (node: string) => server.hellos.filter((x) => x.node === node).length;

const serve = (b: Bundle, mode: 'honest' | 'endless' = 'honest') => server.releases.set(b.version, { data: b.data, mode });
const reportsOf = (rolloutId: string) => server.reports.filter((r) => r.rolloutId === rolloutId);
const final = (rolloutId: string, timeoutMs = 90_000) =>
  server.waitReport(`the end of ${rolloutId}`, (r) => r.rolloutId === rolloutId && ['committed', 'rolled-back', 'refused', 'failed'].includes(r.state), timeoutMs);

async function newHost(name: string, version = '1.0.0', env: NodeJS.ProcessEnv = {}): Promise<InstalledHost> {
  const h = await installHost(server, bundles[version], name, [key.publicKey]);
  hosts.push(h);
  h.start(env);
  await waitUntil(`${name} to say hello`, () => hellosOf(name) > 0, 30_000);
  await oneVersionRunning(h, server, version);
  return h;
}

async function update(rolloutId: string, version: string, health = HEALTH, over = {}) {
  await server.sendUpdate(FIRST, updateFor(sign(manifestFor(bundles[version], over), key), rolloutId, health));
  return final(rolloutId);
}

test.before(async () => {
  server = new UpdateServer();
  await server.start();
  const plan: [string, Parameters<typeof buildBundle>[2]?][] = [
    ['1.0.0'], ['2.0.0'], ['3.0.0'], ['2.1.0', 'exits-at-once'], ['2.2.0', 'crashes-later'], ['2.3.0', 'agent-never-healthy'], ['2.4.0', 'hangs'],
  ];
  for (const [version, fault] of plan) bundles[version] = await buildBundle(join(work, 'bundles'), version, fault);
});

test.after(async () => {
  for (const h of hosts) await h.stop().catch(() => undefined);
  await server.close();
  for (const h of hosts) rmSync(h.root, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

test('refused before anything changes: bad signature, untrusted key, downgrade, equal version, expired, other platform', async () => {
  // 2.2.0 crashes this long after it starts (the real case is 20 s; the mechanism is the same).
  const h = await newHost(FIRST, '1.0.0', { OPS_TEST_CRASH_AFTER_MS: '2000', OPS_TEST_CRASH_MARK: join(work, 'crashed-at') });
  const pid = h.hostdPids()[0];
  const good = sign(manifestFor(bundles['2.0.0']), key);
  const flipped = Buffer.from(good.signature, 'base64');
  flipped[0] ^= 1;
  const cases: [string, ReturnType<typeof updateFor>, number, RegExp][] = [
    ['bad-signature', { ...updateFor(good, 'bad-signature', HEALTH), signature: flipped.toString('base64') }, ErrorCode.RELEASE_KEY_UNTRUSTED, /not signed by a trusted key/],
    ['short-signature', { ...updateFor(good, 'short-signature', HEALTH), signature: 'AAAA' }, ErrorCode.RELEASE_SIGNATURE_INVALID, /64 bytes/],
    ['edited-manifest', { ...updateFor(good, 'edited-manifest', HEALTH), manifest: good.manifest.replace('"2.0.0"', '"2.0.1"') }, ErrorCode.RELEASE_KEY_UNTRUSTED, /not signed by a trusted key/],
    ['untrusted', updateFor(sign(manifestFor(bundles['2.0.0']), stranger), 'untrusted', HEALTH), ErrorCode.RELEASE_KEY_UNTRUSTED, /not signed by a trusted key/],
    ['downgrade', updateFor(sign(manifestFor(bundles['1.0.0'], { version: '0.9.0' }), key), 'downgrade', HEALTH), ErrorCode.RELEASE_NOT_NEWER, /0\.9\.0 is not newer than the running 1\.0\.0/],
    ['equal', updateFor(sign(manifestFor(bundles['1.0.0']), key), 'equal', HEALTH), ErrorCode.RELEASE_NOT_NEWER, /1\.0\.0 is not newer than the running 1\.0\.0/],
    ['expired', updateFor(sign(manifestFor(bundles['2.0.0'], { expiresAt: new Date(Date.now() - 1000).toISOString() }), key), 'expired', HEALTH), ErrorCode.RELEASE_EXPIRED, /expired at/],
    ['platform', updateFor(sign(manifestFor(bundles['2.0.0'], { arch: 'mips' }), key), 'platform', HEALTH), ErrorCode.RELEASE_INCOMPATIBLE, /this host is/],
  ];
  for (const [rollout, u, code, message] of cases) {
    await server.sendUpdate(FIRST, u);
    const r = await final(rollout);
    assert.is(r.state, 'refused', rollout);
    assert.is(r.code, code, `${rollout}: ${r.message}`);
    assert.match(r.message, message);
    assert.is(reportsOf(rollout).length, 1, `${rollout}: refused at once, no step taken`);
  }
  assert.is(server.fetches.length, 0, 'nothing was downloaded');
  assert.equal(h.hostdPids(), [pid], 'the same hostd still runs');
  await oneVersionRunning(h, server, '1.0.0');
  assert.not.ok(existsSync(join(h.prefix, 'versions', '2.0.0')));
});

test('a tampered bundle (hash mismatch) and endless data fail the download; nothing is installed; then the real one commits', async () => {
  const h = hosts[0];
  const tampered = Buffer.from(bundles['2.0.0'].data);
  tampered[tampered.length - 100] ^= 0xff;
  server.releases.set('2.0.0', { data: tampered });
  const r1 = await update('tampered', '2.0.0');
  assert.is(r1.state, 'failed');
  assert.is(r1.code, ErrorCode.RELEASE_HASH_MISMATCH, r1.message);
  assert.not.ok(existsSync(join(h.prefix, 'downloads', manifestFor(bundles['2.0.0']).file)), 'the tampered download is deleted');

  // Endless: the honest bundle, then junk for ever. The host takes exactly the declared size and hangs up.
  server.releases.set('2.0.0', { data: bundles['2.0.0'].data, mode: 'endless' });
  const r2 = await update('endless', '2.0.0');
  assert.is(r2.state, 'failed');
  assert.is(r2.code, ErrorCode.RELEASE_TOO_LARGE, r2.message);
  const fetch = server.fetches[server.fetches.length - 1];
  await waitUntil('the server to see the hang-up', () => fetch.cancelled);
  const file = join(h.prefix, 'downloads', manifestFor(bundles['2.0.0']).file);
  assert.not.ok(existsSync(file), 'what an overrunning sender sent is deleted');
  assert.ok(fetch.sent > bundles['2.0.0'].data.length, 'the server did send more than the declared size');
  assert.not.ok(existsSync(join(h.prefix, 'versions', '2.0.0')));
  await oneVersionRunning(h, server, '1.0.0');

  // Honest now: every step reported, committed, the previous version kept as the backup.
  serve(bundles['2.0.0']);
  const oldPid = h.hostdPids()[0];
  const idle = rssAnonKb(oldPid);
  let updating = 0;
  let newStart = 0;
  const sampler = setInterval(() => {
    for (const pid of h.hostdPids()) {
      if (pid === oldPid) updating = Math.max(updating, rssAnonKb(pid));
      else newStart = Math.max(newStart, rssAnonKb(pid));
    }
  }, 20);
  const sentAt = Date.now();
  const honest = update('honest', '2.0.0');
  // A second update while the first runs is refused, and does not disturb it.
  await server.waitReport('the first step', (r) => r.rolloutId === 'honest');
  await server.sendUpdate(FIRST, updateFor(sign(manifestFor(bundles['3.0.0']), key), 'meanwhile', HEALTH));
  const busy = await final('meanwhile');
  assert.is(busy.state, 'refused');
  assert.is(busy.code, ErrorCode.UPDATE_BUSY, busy.message);
  assert.match(busy.message, /already updating from 1\.0\.0 to 2\.0\.0 \(rollout honest/);
  const r3 = await honest;
  clearInterval(sampler);
  assert.is(r3.state, 'committed', r3.message);
  const states = reportsOf('honest').map((r) => r.state);
  for (const s of ['installing', 'restarting', 'health-check', 'committed']) assert.ok(states.includes(s), `${s} in ${states.join(' → ')}`);
  assert.ok(states.indexOf('restarting') < states.indexOf('health-check'));
  await oneVersionRunning(h, server, '2.0.0');
  assert.ok(existsSync(join(h.prefix, 'versions', '1.0.0')), 'the previous version is kept');
  assert.is(readMarker(h.prefix)?.state, 'committed');
  // The new hostd said in its hello how the update stood when it came up.
  assert.ok(server.hellos.some((x) => x.hostdVersion === '2.0.0' && x.lastUpdate?.rolloutId === 'honest'));
  const mb = (kb: number) => `${(kb / 1024).toFixed(1)} MB`;
  console.log(`  update 1.0.0 → 2.0.0 (health window ${HEALTH} s): ${((Date.now() - sentAt) / 1000).toFixed(1)} s. hostd private memory (RssAnon): ${mb(idle)} before, peak ${mb(updating)} while downloading/unpacking/swapping, new hostd peak ${mb(newStart)} through its health window (target: < 15 MB idle)`);
});

test('a new hostd that exits at once, crashes after a few seconds, whose agentd is never healthy, or that hangs: reverted, one valid version running', async () => {
  const h = hosts[0];
  const cases: [string, string, number, RegExp][] = [
    ['exits-at-once', '2.1.0', HEALTH, /hostd 2\.1\.0 ended within its health window/],
    ['crashes-later', '2.2.0', 10, /hostd 2\.2\.0 ended within its health window/],
    ['agent-never-healthy', '2.3.0', HEALTH, /agentd is unhealthy at the end of the 3 s health window/],
    ['hangs', '2.4.0', HEALTH, /hostd 2\.4\.0 did not commit before its deadline/],
  ];
  for (const [rollout, version, health, why] of cases) {
    serve(bundles[version]);
    const r = await update(rollout, version, health);
    assert.is(r.state, 'rolled-back', `${rollout}: ${r.message}`);
    assert.is(r.version, version);
    assert.is(r.fromVersion, '2.0.0');
    assert.match(r.message, why);
    await oneVersionRunning(h, server, '2.0.0');
    const restarting = reportsOf(rollout).find((x) => x.state === 'restarting')!;
    const crashedAt = rollout === 'crashes-later' ? Number(readFileSync(join(work, 'crashed-at'), 'utf8')) : 0;
    console.log(`  ${rollout}: reverted ${((r.atMs - restarting.atMs) / 1000).toFixed(1)} s after the old hostd handed over${crashedAt ? `, ${((r.atMs - crashedAt) / 1000).toFixed(1)} s after the new one crashed` : ''}`);
  }
});

test('RevertHost: back to a kept version; a version not kept is refused; one that fails its health check goes back again', async () => {
  const h = hosts[0];
  // 2.3.0 is still on disk (reverted, not pruned): going "back" to it fails its health check.
  await server.sendRevert(FIRST, { rolloutId: 'revert-bad', version: '2.3.0' });
  const bad = await final('revert-bad');
  assert.is(bad.state, 'failed', bad.message);
  assert.is(bad.code, ErrorCode.UPDATE_UNHEALTHY);
  assert.match(bad.message, /back on 2\.0\.0: agentd is unhealthy/);
  await oneVersionRunning(h, server, '2.0.0');
  await server.sendRevert(FIRST, { rolloutId: 'revert-missing', version: '0.5.0' });
  const refused = await final('revert-missing');
  assert.is(refused.state, 'refused');
  assert.is(refused.code, ErrorCode.NOT_FOUND);
  await server.sendRevert(FIRST, { rolloutId: 'revert', version: '1.0.0' });
  const r = await final('revert');
  assert.is(r.state, 'rolled-back', r.message);
  await oneVersionRunning(h, server, '1.0.0');
});

test('an expired manifest never stops the running version, even across a restart', async () => {
  const h = hosts[0];
  serve(bundles['3.0.0']);
  const expiresAt = Date.now() + 20_000;
  const r = await update('short-lived', '3.0.0', 2, { expiresAt: new Date(expiresAt).toISOString() });
  assert.is(r.state, 'committed', r.message);
  await oneVersionRunning(h, server, '3.0.0');
  await waitUntil('the manifest to expire', () => Date.now() > expiresAt + 1000, 30_000);
  const hellos = hellosOf(h.name);
  process.kill(h.hostdPids()[0], 'SIGKILL');
  await waitUntil('hostd to come back', () => hellosOf(h.name) > hellos, 30_000);
  await oneVersionRunning(h, server, '3.0.0');
  assert.is(reportsOf('short-lived').filter((x) => x.atMs > r.atMs).length, 0, 'nothing happened to it');
});

test('kill -9 of hostd after download, after unpacking, after the swap: resumed and committed; during the health window: reverted', async () => {
  const cases: [string, string, string][] = [
    ['downloaded', 'committed', '2.0.0'], ['installed', 'committed', '2.0.0'], ['swapped', 'committed', '2.0.0'], ['health-check', 'rolled-back', '1.0.0'],
  ];
  for (const [point, outcome, running] of cases) {
    serve(bundles['2.0.0']);
    const env = point === 'health-check' ? {} : { OPS_TEST_KILL_AT: point };
    const h = await newHost(`kill-${point}`, '1.0.0', env);
    const rollout = `kill-${point}`;
    await server.sendUpdate(h.name, updateFor(sign(manifestFor(bundles['2.0.0']), key), rollout, 4));
    if (point === 'health-check') {
      await server.waitReport('the health check', (r) => r.rolloutId === rollout && r.state === 'health-check');
      process.kill(h.hostdPids()[0], 'SIGKILL');
    } else {
      await waitUntil(`hostd to kill itself at ${point}`, () => existsSync(join(h.prefix, `.test-killed-at-${point}`)), 60_000);
    }
    const r = await final(rollout);
    assert.is(r.state, outcome, `${point}: ${r.message}`);
    await oneVersionRunning(h, server, running);
    await h.stop();
  }
});

test('the manager unreachable during the health window: the new version commits by itself and says so when the link is back', async () => {
  serve(bundles['2.0.0']);
  const h = await newHost('offline', '1.0.0');
  const oldPid = h.hostdPids()[0];
  const idle = rssAnonKb(oldPid);
  let peak = 0;
  const sampler = setInterval(() => { peak = Math.max(peak, rssAnonKb(oldPid)); }, 20);
  await server.sendUpdate(h.name, updateFor(sign(manifestFor(bundles['2.0.0']), key), 'offline', 4));
  await server.waitReport('the health check', (r) => r.rolloutId === 'offline' && r.state === 'health-check');
  clearInterval(sampler);
  console.log(`  hostd private memory (RssAnon), a fresh host: ${(idle / 1024).toFixed(1)} MB idle, peak ${(peak / 1024).toFixed(1)} MB while downloading, unpacking and swapping`);
  await server.stop();
  await waitUntil('the marker to say committed', () => readMarker(h.prefix)?.state === 'committed', 30_000);
  assert.not.ok(server.reports.some((r) => r.rolloutId === 'offline' && r.state === 'committed'), 'nobody was there to hear it');
  const hellos = hellosOf(h.name);
  await server.start();
  await waitUntil('hostd to reconnect', () => hellosOf(h.name) > hellos, 60_000);
  const hello = server.helloOf(h.name)!;
  assert.is(hello.lastUpdate?.rolloutId, 'offline');
  assert.is(hello.lastUpdate?.state, 'committed');
  await server.waitReport('the queued report', (r) => r.rolloutId === 'offline' && r.state === 'committed');
  await oneVersionRunning(h, server, '2.0.0');
  await h.stop();
});

test('a hostd not installed from a bundle refuses updates (3011) and says why', async () => {
  const dataDir = join(work, 'package-hostd');
  const runs: HostdRun[] = [];
  runs.push(startHostd(['--manager', server.address, '--ca-hash', server.caHash, '--token', 't', '--name', 'from-package', '--data-dir', dataDir, '--agent-listen', `127.0.0.1:${await freePort()}`], { OPS_UPDATE_TRUSTED_KEYS: key.publicKey, OPS_AGENT_STOP_ON_EXIT: 'true' }));
  try {
    await waitUntil('hello', () => hellosOf('from-package') > 0, 30_000);
    await server.sendUpdate('from-package', updateFor(sign(manifestFor(bundles['2.0.0']), key), 'from-package', HEALTH));
    const r = await final('from-package');
    assert.is(r.state, 'refused');
    assert.is(r.code, ErrorCode.UPDATE_UNSUPPORTED);
    assert.match(r.message, /runs from the opsctl package .* not from an installed host bundle/);
  } finally {
    await killAllUnder(dataDir, runs);
  }
});

test.run();
