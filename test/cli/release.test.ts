// opsctl release against the real manager and the built CLI: keygen (0600, never overwrites),
// create (signs locally, reads the version from the bundle's manifest.json or its name, uploads),
// ls / show / the `releases` alias, refusals with their exit codes, and the rollout commands
// (rollout, status, pause, resume, rollback) on an enrolled host that is offline, so it waits.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReleaseDetail, RolloutDetail } from '../../proto/rest/releases.js';
import { enrollHost, startManager, type TestManager } from './manager.js';
import { ConfigHome, ensureBuilt, opsctl, type RunOptions } from './run-opsctl.js';
import { makeBundle } from '../helpers/release-bundle.js';

const home = new ConfigHome();
const dir = mkdtempSync(join(tmpdir(), 'opsctl-release-cli-'));
let m: TestManager;
const run = (args: string[], opts: RunOptions = {}) => opsctl(home, args, { ...opts, env: { OPSCTL_SERVER: m.url, OPSCTL_TOKEN: m.token, ...opts.env } });

const bundle = (version: string, name: string, withManifest = true) => makeBundle(dir, version, name, { manifest: withManifest });

let keyFile = '';
let publicKey = '';

test.before(async () => {
  ensureBuilt();
  // keygen needs no manager; the manager then trusts the key it printed.
  keyFile = join(dir, 'release.key');
  const r = await opsctl(home, ['release', 'keygen', '--out', keyFile]);
  assert.is(r.code, 0, r.stderr);
  publicKey = /^publicKey\t(ed25519:\S+)$/m.exec(r.stdout)![1];
  m = await startManager({ 'releases.trustedKeys': publicKey });
});
test.after(async () => {
  await m?.stop();
  home.remove();
  rmSync(dir, { recursive: true, force: true });
});

test('keygen writes a 0600 key file with the key it prints, and never overwrites one', async () => {
  assert.is(statSync(keyFile).mode & 0o777, 0o600);
  const key = JSON.parse(readFileSync(keyFile, 'utf8')) as { publicKey: string; secretKey: string };
  assert.is(key.publicKey, publicKey);
  const again = await opsctl(home, ['release', 'keygen', '--out', keyFile]);
  assert.is(again.code, 1);
  assert.match(again.stderr, /exists: not overwriting a key/);
  assert.equal(JSON.parse(readFileSync(keyFile, 'utf8')), key, 'the key file is unchanged');
});

test('create signs and uploads; ls, the releases alias and show print it; a second upload is refused', async () => {
  const file = await bundle('0.2.0', 'local-build.tar.gz');
  const r = await run(['release', 'create', '--bundle', file, '--key', keyFile, '--notes', 'first', '--expires', '30d']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /Release 0.2.0 \(linux-x64\) signed with key [0-9a-f]{16} and stored/);
  const ls = await run(['release', 'ls']);
  assert.is(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, /^0\.2\.0\tlinux-x64\t\d+\t[0-9a-f]{16}\t\S+\t\S+\tadmin\n$/);
  assert.is((await run(['releases'])).stdout, ls.stdout);
  const show = await run(['release', 'show', '0.2.0', '--json']);
  const shown = JSON.parse(show.stdout) as ReleaseDetail;
  assert.equal(shown, await m.apiData<ReleaseDetail>('/releases/0.2.0'));
  assert.is(shown.builds[0].notes, 'first');
  assert.match(shown.builds[0].manifest, /"file":"opsctl-host-0.2.0-linux-x64.tar.gz"/, 'signed under its canonical name, whatever the local file is called');
  const expires = Date.parse(shown.builds[0].expiresAt) - Date.parse(shown.builds[0].createdAt);
  assert.is(Math.round(expires / 86400e3), 30);
  const dup = await run(['release', 'create', '--bundle', file, '--key', keyFile]);
  assert.is(dup.code, 1);
  assert.match(dup.stderr, /release 0.2.0 for linux-x64 is stored already.*\(code 1005\)/);
});

test('a bundle without manifest.json is read by its name; --version must agree; an untrusted key is refused', async () => {
  const named = await bundle('0.3.0-rc.1', 'opsctl-host-0.3.0-rc.1-linux-x64.tar.gz', false);
  const r = await run(['release', 'create', '--bundle', named, '--key', keyFile, '--version', '0.3.0-rc.1']);
  assert.is(r.code, 0, r.stderr);
  const wrong = await run(['release', 'create', '--bundle', named, '--key', keyFile, '--version', '0.3.0']);
  assert.is(wrong.code, 2);
  assert.match(wrong.stderr, /--version 0.3.0 does not match the bundle, whose file name says 0.3.0-rc.1/);
  const unnamed = await bundle('0.4.0', 'whatever.tar.gz', false);
  assert.is((await run(['release', 'create', '--bundle', unnamed, '--key', keyFile])).code, 2);
  const otherKey = join(dir, 'other.key');
  assert.is((await opsctl(home, ['release', 'keygen', '--out', otherKey])).code, 0);
  const untrusted = await run(['release', 'create', '--bundle', await bundle('0.5.0', 'b5.tar.gz'), '--key', otherKey]);
  assert.is(untrusted.code, 1);
  assert.match(untrusted.stderr, /not signed by a trusted key.*\(code 3002\)/);
  assert.not.match((await run(['release', 'ls'])).stdout, /0\.5\.0/);
});

test('rollout, status, pause, resume, rollback: an offline host waits, a second rollout is refused', async () => {
  await enrollHost(m, 'web-1', '127.0.0.1', new Date(Date.now() + 86400e3));
  const started = await run(['release', 'rollout', '0.2.0', 'web-1', '--canary', '1', '--batch', '50%', '--max-fail', '10%', '--health-wait', '10s', '--json']);
  assert.is(started.code, 0, started.stderr);
  const rollout = JSON.parse(started.stdout) as RolloutDetail;
  assert.equal([rollout.state, rollout.healthSeconds, rollout.hosts.map((h) => [h.node, h.wave, h.state])], ['running', 10, [['web-1', 0, 'pending']]]);
  const second = await run(['release', 'rollout', '0.2.0', '--all']);
  assert.is(second.code, 1);
  assert.match(second.stderr, /is running: let it finish, or roll it back.*\(code 3010\)/);
  const status = await run(['release', 'status']);
  assert.is(status.code, 0, status.stderr);
  assert.match(status.stdout, new RegExp(`^id\\t${rollout.id}\\n`));
  assert.match(status.stdout, /\nwave\t0\t1\t0\t0\t1\t0\t0\n/);
  assert.match(status.stdout, /\nhost\tweb-1\t0\tpending\t\t\n/);
  const tty = await run(['release', 'status', rollout.id, '--all'], { tty: true });
  assert.match(tty.stdout, /canary \*\s+\[-{20}\]\s+1/);
  assert.is((await run(['release', 'pause'])).code, 0);
  assert.is((await m.apiData<RolloutDetail>(`/rollouts/${rollout.id}`)).state, 'paused');
  const again = await run(['release', 'pause', rollout.id]);
  assert.is(again.code, 1);
  assert.match(again.stderr, /only a running rollout can pause/);
  assert.is((await run(['release', 'resume', rollout.id])).code, 0);
  const back = await run(['release', 'rollback', '--json']);
  assert.is(back.code, 0, back.stderr);
  // The host was never sent anything, so there is nothing to revert: the rollback ends at once.
  const done = await m.apiData<RolloutDetail>(`/rollouts/${rollout.id}`);
  assert.ok(['rolling-back', 'rolled-back'].includes(done.state), done.state);
  const audit = await m.apiData<{ action: string }[]>('/audit?limit=1000');
  for (const action of ['releases.create', 'releases.rollout', 'releases.pause', 'releases.resume', 'releases.rollback']) {
    assert.ok(audit.some((a) => a.action === action), action);
  }
});

test.run();
