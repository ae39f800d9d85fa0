// The releases module on a real database: a signed upload stored once, and every refusal keeping
// nothing (bad signature, untrusted key, tampered bundle, more bytes than signed or than the limit,
// a malformed manifest, a path for a file name, a wrong token or permission). Rollouts against
// hosts played by FakeSessions through the real host-link backend: waves, the failure budget that
// halts (event + audit), one active rollout, pause/resume, rollback, a manager restart mid-rollout.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { bundleFileName } from '../../proto/host-bundle.js';
import { generateReleaseKey, signRelease, type ReleaseKeyFile, type ReleaseManifest } from '../../proto/release.js';
import type { AuditEntryView } from '../../proto/rest/audit.js';
import type { EventView } from '../../proto/rest/events.js';
import { RELEASE_HEADERS, type ReleaseDetail, type ReleaseView, type RolloutDetail } from '../../proto/rest/releases.js';
import { DB_KINDS, FakeSession, hello, makeHarness, until, type Harness } from './harness.js';

const KEY = generateReleaseKey();
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const LIMIT_MB = 1;

function manifestFor(version: string, bundle: Buffer, over: Partial<ReleaseManifest> = {}): ReleaseManifest {
  return {
    format: 1, component: 'host', version, platform: 'linux', arch: 'x64', file: bundleFileName(version, 'linux', 'x64'),
    size: bundle.length, sha256: sha(bundle), createdAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 86400e3).toISOString(), ...over,
  };
}

interface Upload { version: string; bundle: Buffer; manifestText?: string; signature?: string; key?: ReleaseKeyFile; token?: string | null; over?: Partial<ReleaseManifest> }

async function upload(h: Harness, u: Upload) {
  const signed = signRelease(manifestFor(u.version, u.bundle, u.over), u.key ?? KEY);
  const text = u.manifestText ?? signed.manifest;
  const headers: Record<string, string> = {
    'content-type': 'application/octet-stream',
    [RELEASE_HEADERS.manifest]: Buffer.from(text).toString('base64'),
    [RELEASE_HEADERS.signature]: u.signature ?? signed.signature,
    [RELEASE_HEADERS.keyId]: signed.keyId,
  };
  if (u.token !== null) headers.authorization = `Bearer ${u.token ?? h.token}`;
  const res = await h.app.inject({ method: 'POST', url: `/api/v1/releases/${u.version}`, payload: u.bundle, headers });
  return { status: res.statusCode, body: res.json() as { code: number; message: string; data: ReleaseView } };
}

/** Bundles on disk (the temp folder must be empty too). */
function stored(h: Harness): string[] {
  const dir = join(h.config.dataDir, 'releases');
  return [...readdirSync(dir).filter((f) => f !== 'tmp'), ...readdirSync(join(dir, 'tmp')).map((f) => `tmp/${f}`)];
}

const bundleOf = (n: number, seed = 7) => Buffer.from(Array.from({ length: n }, (_, i) => (i * seed) % 251));

for (const kind of DB_KINDS) {
  const t = suite<{ h: Harness }>(`releases on ${kind}`, { h: undefined as unknown as Harness });
  t.before.each(async (ctx) => {
    ctx.h = await makeHarness(kind, { config: { 'releases.trustedKeys': KEY.publicKey, 'releases.maxBundleMB': LIMIT_MB }, rollouts: { tickMs: 50 } });
  });
  t.after.each(async ({ h }) => { await h.close(); });

  t('a signed upload is stored once, listed and shown with its manifest; a second upload of the version is refused', async ({ h }) => {
    const bundle = bundleOf(100_000);
    const first = await upload(h, { version: '0.2.0', bundle, over: { notes: 'fixes' } });
    assert.is(first.status, 201, first.body.message);
    assert.is(first.body.data.sha256, sha(bundle));
    assert.is(first.body.data.notes, 'fixes');
    assert.equal(stored(h), [bundleFileName('0.2.0', 'linux', 'x64')]);
    assert.is((await upload(h, { version: '0.10.0', bundle })).status, 201);
    const list = await h.api<ReleaseView[]>('GET', '/releases');
    assert.equal(list.body.data.map((r) => r.version), ['0.10.0', '0.2.0'], 'newest version first (by version order, not text)');
    const shown = await h.api<ReleaseDetail>('GET', '/releases/0.2.0');
    assert.is(shown.body.data.builds.length, 1);
    assert.match(shown.body.data.builds[0].manifest, /"version":"0.2.0"/);
    const again = await upload(h, { version: '0.2.0', bundle });
    assert.is(again.status, 409);
    assert.is(again.body.code, 1005);
    assert.is((await h.api('GET', '/releases/9.9.9')).body.code, 1004);
    const audit = (await h.api<AuditEntryView[]>('GET', '/audit?limit=1000')).body.data.filter((a) => a.action === 'releases.create');
    assert.equal(audit.map((a) => `${a.target} ${a.result} ${a.code}`).sort(), ['0.10.0 ok 0', '0.2.0 error 1005', '0.2.0 ok 0']);
  });

  t('every refusal keeps nothing and says why', async ({ h }) => {
    const bundle = bundleOf(50_000);
    const other = generateReleaseKey();
    const cases: [string, Upload, number, RegExp][] = [
      ['bad signature', { version: '0.3.0', bundle, signature: Buffer.alloc(64, 1).toString('base64') }, 3002, /not signed by a trusted key/],
      ['malformed signature', { version: '0.3.0', bundle, signature: 'AAAA' }, 3001, /64 bytes/],
      ['untrusted key', { version: '0.3.0', bundle, key: other }, 3002, /not signed by a trusted key/],
      ['tampered bundle', { version: '0.3.0', bundle: Buffer.concat([bundle.subarray(0, -1), Buffer.from([bundle[bundle.length - 1] ^ 1])]), over: { sha256: sha(bundle) } }, 3003, /SHA-256/],
      ['short bundle', { version: '0.3.0', bundle: bundle.subarray(0, 1000), over: { size: bundle.length, sha256: sha(bundle) } }, 3003, /1000 bytes, its manifest declares/],
      ['more than signed', { version: '0.3.0', bundle, over: { size: 1000 } }, 3006, /more than the 1000 its manifest declares/],
      ['past the limit', { version: '0.3.0', bundle, over: { size: LIMIT_MB * 1024 * 1024 + 1 } }, 3006, /releases.maxBundleMB/],
      ['malformed manifest', { version: '0.3.0', bundle, over: { sha256: 'nope' } }, 1001, /sha256 must be 64/],
      ['../ in the file name', { version: '0.3.0', bundle, over: { file: '../../evil.tar.gz' } }, 1001, /plain file name/],
      ['another name', { version: '0.3.0', bundle, over: { file: 'evil.tar.gz' } }, 1001, /file must be opsctl-host-0.3.0-linux-x64.tar.gz/],
      ['version not the path', { version: '0.3.0', bundle, over: { version: '0.4.0', file: bundleFileName('0.4.0', 'linux', 'x64') } }, 1001, /for version 0.4.0, not 0.3.0/],
      ['expired', { version: '0.3.0', bundle, over: { expiresAt: '2020-01-01T00:00:00Z' } }, 3005, /expired/],
    ];
    for (const [what, u, code, message] of cases) {
      const res = await upload(h, u);
      assert.is(res.body.code, code, `${what}: ${res.body.message}`);
      assert.match(res.body.message, message, what);
      assert.equal(stored(h), [], `${what}: nothing stored`);
    }
    // A body that keeps coming past the signed size, with no content-length to refuse it early
    // (chunked): cut off at the manifest's size while it streams, nothing kept.
    const signed = signRelease(manifestFor('0.3.0', bundle.subarray(0, 10_000)), KEY);
    const address = await h.app.listen({ host: '127.0.0.1', port: 0 });
    let sent = 0;
    const streamed = await new Promise<{ json(): { code: number; message: string }; body: string }>((resolve, reject) => {
      const req = httpRequest(`${address}/api/v1/releases/0.3.0`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${h.token}`, 'content-type': 'application/octet-stream', [RELEASE_HEADERS.manifest]: Buffer.from(signed.manifest).toString('base64'),
          [RELEASE_HEADERS.signature]: signed.signature, [RELEASE_HEADERS.keyId]: signed.keyId,
        },
      }, (res) => {
        let body = '';
        res.on('data', (d) => { body += d; });
        res.on('end', () => { req.destroy(); resolve({ body, json: () => JSON.parse(body) }); });
      });
      req.on('error', reject);
      // Sends until the manager answers (never ending by itself), 16 KiB at a time.
      let answered = false;
      const pump = () => { if (answered || req.destroyed || sent > 50 * 1024 * 1024) return; sent += 16_384; if (req.write(Buffer.alloc(16_384, 7))) setImmediate(pump); else req.once('drain', pump); };
      req.on('response', () => { answered = true; });
      pump();
    });
    // The refused request's socket is done with; don't let the harness's close wait for it.
    h.app.server.closeAllConnections();
    assert.is(streamed.json().code, 3006, streamed.body);
    assert.match(streamed.json().message, /larger than the 10000 bytes its manifest declares/);
    // What the client got into socket buffers before the answer; without the cut it would be all 50 MiB.
    assert.ok(sent < 16 * 1024 * 1024, `the manager stopped reading early (${sent} bytes sent)`);
    assert.equal(stored(h), [], 'endless body: nothing stored');
    // Signed text that is not a manifest at all.
    const notJson = signRelease(manifestFor('0.3.0', bundle), KEY);
    const res = await upload(h, { version: '0.3.0', bundle, manifestText: 'x' + notJson.manifest });
    assert.is(res.body.code, 3002, 'changed text no longer matches its signature');
    assert.equal((await h.api<ReleaseView[]>('GET', '/releases')).body.data, []);
  });

  t('a wrong token or a viewer cannot upload; a viewer can read', async ({ h }) => {
    const bundle = bundleOf(1000);
    assert.is((await upload(h, { version: '0.3.0', bundle, token: null })).status, 401);
    assert.is((await upload(h, { version: '0.3.0', bundle, token: 'opst_wrong' })).status, 401);
    const viewer = await h.user('vera', 'viewer');
    const refused = await upload(h, { version: '0.3.0', bundle, token: viewer });
    assert.is(refused.status, 403);
    assert.match(refused.body.message, /releases:write/);
    assert.equal(stored(h), []);
    assert.is((await h.api('GET', '/releases', undefined, viewer)).status, 200);
    const operator = await h.user('olga', 'operator');
    assert.is((await upload(h, { version: '0.3.0', bundle, token: operator })).status, 201);
    // Rollouts: a viewer may look, not start; a scoped operator cannot reach outside its groups; an unknown version is 1004.
    await h.enroll('in-scope', {}, ['web']);
    await h.enroll('outside', {}, ['db']);
    const viewerRollout = await h.api('POST', '/rollouts', { version: '0.3.0', selector: { all: true } }, viewer);
    assert.is(viewerRollout.status, 403);
    assert.match(viewerRollout.body.message, /releases:write/);
    const scoped = await h.user('sam', 'operator', ['web']);
    const outside = await h.api('POST', '/rollouts', { version: '0.3.0', selector: { all: true } }, scoped);
    assert.is(outside.body.code, 1003, outside.body.message);
    assert.match(outside.body.message, /1 node outside your scope/);
    assert.is((await h.api('POST', '/rollouts', { version: '9.9.9', selector: { all: true } })).body.code, 1004);
    assert.is((await h.api('POST', '/rollouts', { version: '0.3.0', selector: { names: ['nope'] } })).body.code, 2002);
    assert.is((await h.api('POST', '/rollouts', { version: '0.3.0', selector: { all: true }, batch: '0' })).body.code, 1001);
    assert.is((await h.api('GET', '/rollouts', undefined, viewer)).status, 200);
    const inScope = await h.api<RolloutDetail>('POST', '/rollouts', { version: '0.3.0', selector: { groups: ['web'] } }, scoped);
    assert.is(inScope.status, 201, inScope.body.message);
    assert.equal(inScope.body.data.hosts.map((x) => x.node), ['in-scope']);
  });

  /** n connected fake hosts named host-1..n running 0.1.0 (the harness's hello), and release 0.2.0 stored. */
  async function fleet(h: Harness, n: number): Promise<Map<string, { id: string; s: FakeSession }>> {
    assert.is((await upload(h, { version: '0.2.0', bundle: bundleOf(2000) })).status, 201);
    const hosts = new Map<string, { id: string; s: FakeSession }>();
    for (let i = 1; i <= n; i++) {
      const id = await h.enroll(`host-${i}`);
      hosts.set(`host-${i}`, { id, s: await h.connect(id, `host-${i}`) });
    }
    return hosts;
  }

  const updates = (s: FakeSession) => s.sent.flatMap((m) => (m.updateHost ? [m.updateHost] : []));
  const reverts = (s: FakeSession) => s.sent.flatMap((m) => (m.revertHost ? [m.revertHost] : []));
  const report = (h: Harness, id: string, rolloutId: string, state: string, version = '0.2.0', message = '') =>
    h.services.hostLink.onUpdateReport!(id, { rolloutId, version, fromVersion: '0.1.0', state, message, code: state === 'failed' ? 3003 : 0, atMs: Date.now() });
  const rollout = (h: Harness, id = '') => h.api<RolloutDetail>('GET', id ? `/rollouts/${id}` : '/rollouts/current').then((r) => r.body.data);

  t('waves: the canary alone, then batches, each after the one before committed', async ({ h }) => {
    const hosts = await fleet(h, 5);
    const created = await h.api<RolloutDetail>('POST', '/rollouts', { version: '0.2.0', selector: { all: true }, canary: 1, batch: '2', healthSeconds: 5 });
    assert.is(created.status, 201, created.body.message);
    const id = created.body.data.id;
    assert.equal(created.body.data.hosts.map((x) => [x.node, x.wave]), [['host-1', 0], ['host-2', 1], ['host-3', 1], ['host-4', 2], ['host-5', 2]]);
    const h1 = hosts.get('host-1')!;
    await until('the canary gets UpdateHost', () => updates(h1.s).length === 1);
    const sent = updates(h1.s)[0];
    assert.is(sent.healthSeconds, 5);
    assert.match(sent.manifest!, /"version":"0.2.0"/);
    assert.is(updates(hosts.get('host-2')!.s).length, 0, 'the next wave waits for the canary');
    const second = await h.api('POST', '/rollouts', { version: '0.2.0', selector: { all: true } });
    assert.is(second.body.code, 3010);
    await report(h, h1.id, id, 'downloading');
    assert.is((await rollout(h, id)).hosts[0].state, 'downloading');
    await report(h, h1.id, id, 'committed');
    await until('wave 1 is sent', () => updates(hosts.get('host-2')!.s).length === 1 && updates(hosts.get('host-3')!.s).length === 1);
    assert.is(updates(hosts.get('host-4')!.s).length, 0);
    for (const n of ['host-2', 'host-3']) await report(h, hosts.get(n)!.id, id, 'committed');
    await until('wave 2 is sent', () => updates(hosts.get('host-5')!.s).length === 1);
    for (const n of ['host-4', 'host-5']) await report(h, hosts.get(n)!.id, id, 'committed');
    const done = await until('completed', async () => { const r = await rollout(h, id); return r.state === 'completed' ? r : undefined; });
    assert.equal(done.waves.map((w) => w.committed), [1, 2, 2]);
    // The completion's audit row is written after the state it records, so a reader may see the state first.
    const audit = await until('the completion is audited', async () => {
      const rows = (await h.api<AuditEntryView[]>('GET', '/audit?limit=1000')).body.data;
      return rows.some((a) => a.action === 'releases.rollout.complete' && a.target === id && a.actorKind === 'system') ? rows : undefined;
    });
    assert.ok(audit.some((a) => a.action === 'releases.rollout' && a.result === 'ok' && a.target === id), 'the audit row names the rollout it started');
  });

  t('past the failure budget the rollout halts by itself: later waves untouched, event raised, audit says why', async ({ h }) => {
    const hosts = await fleet(h, 4);
    const id = (await h.api<RolloutDetail>('POST', '/rollouts', { version: '0.2.0', selector: { all: true }, canary: 1, batch: '3', maxFail: '0' })).body.data.id;
    const h1 = hosts.get('host-1')!;
    await until('the canary gets UpdateHost', () => updates(h1.s).length === 1);
    await report(h, h1.id, id, 'rolled-back', '0.2.0', 'health check failed: agentd exited');
    const halted = await until('halted', async () => { const r = await rollout(h, id); return r.state === 'halted' ? r : undefined; });
    assert.match(halted.stopReason, /1 host failed, more than the budget of 0/);
    assert.match(halted.hosts[0].message, /rolled-back: health check failed/);
    for (const n of ['host-2', 'host-3', 'host-4']) assert.is(updates(hosts.get(n)!.s).length, 0, `${n} untouched`);
    const events = await until('the event', async () => (await h.api<EventView[]>('GET', '/events')).body.data.find((e) => e.kind === 'rollout.halted'));
    assert.is(events.subject, id);
    const audit = await until('the audit row', async () => (await h.api<AuditEntryView[]>('GET', '/audit?limit=1000')).body.data.find((a) => a.action === 'releases.rollout.halt'));
    assert.is(audit.target, id);
    assert.match(JSON.stringify(audit.params), /host-1.*health check failed/);
    // A halted rollout no longer blocks a new one, and can be rolled back.
    const back = await h.api<RolloutDetail>('POST', `/rollouts/${id}/rollback`);
    assert.is(back.status, 200, back.body.message);
    await until('RevertHost to the canary', () => reverts(h1.s).length === 1);
    assert.equal(reverts(h1.s)[0], { rolloutId: id, version: '0.1.0' });
    for (const n of ['host-2', 'host-3', 'host-4']) assert.is(reverts(hosts.get(n)!.s).length, 0, `${n} was never touched`);
    // hostd's own words for a revert that held (hostd/updater): rolled-back, to the version asked for.
    await report(h, h1.id, id, 'rolled-back', '0.1.0');
    const rolledBack = await until('rolled back', async () => { const r = await rollout(h, id); return r.state === 'rolled-back' ? r : undefined; });
    assert.is(rolledBack.hosts[0].state, 'reverted');
  });

  t('pause holds the next wave; resume goes on; a restarted manager resumes the rollout; an offline host waits for its stream', async ({ h: first }) => {
    const hosts = await fleet(first, 3);
    const id = (await first.api<RolloutDetail>('POST', '/rollouts', { version: '0.2.0', selector: { all: true }, canary: 1, batch: '1', healthSeconds: 1 })).body.data.id;
    await until('canary sent', () => updates(hosts.get('host-1')!.s).length === 1);
    assert.is((await first.api('POST', `/rollouts/${id}/pause`)).status, 200);
    await report(first, hosts.get('host-1')!.id, id, 'committed');
    await new Promise((r) => setTimeout(r, 200));
    assert.is(updates(hosts.get('host-2')!.s).length, 0, 'paused: wave 1 not sent');
    assert.is((await first.api('POST', `/rollouts/${id}/pause`)).body.code, 1005);
    assert.is((await first.api('POST', `/rollouts/${id}/resume`)).status, 200);
    await until('wave 1 sent', () => updates(hosts.get('host-2')!.s).length === 1);

    const h = await first.restart();
    try {
      // host-2 reconnects with its report in the hello (made while the manager was down); host-3 is offline.
      const h2 = hosts.get('host-2')!;
      const s2 = new FakeSession(h2.id, 'host-2');
      h.sessions.byNode.set(h2.id, s2);
      const lastUpdate = { rolloutId: id, version: '0.2.0', fromVersion: '0.1.0', state: 'committed', message: 'healthy for 1 s', code: 0, atMs: Date.now() };
      await h.services.hostLink.onConnected(s2, { ...hello('host-2'), hostdVersion: '0.2.0', lastUpdate });
      const waiting = await until('wave 2 started', async () => { const r = await rollout(h, id); return r.currentWave === 2 ? r : undefined; });
      assert.is(waiting.hosts.find((x) => x.node === 'host-3')!.state, 'pending', 'offline: waits');
      assert.is(updates(s2).length, 0, 'nothing sent twice to host-2');
      const s3 = await h.connect(hosts.get('host-3')!.id, 'host-3');
      await until('host-3 gets UpdateHost once connected', () => updates(s3).length === 1);
      await report(h, hosts.get('host-3')!.id, id, 'committed');
      await until('completed', async () => (await rollout(h, id)).state === 'completed');
    } finally {
      await h.close();
    }
    first.close = async () => undefined;
  });

  t('rollback of a completed rollout: a revert that held (rolled-back, or committed) is reverted, one that did not is failed; stale reports are ignored', async ({ h }) => {
    const hosts = await fleet(h, 3);
    const id = (await h.api<RolloutDetail>('POST', '/rollouts', { version: '0.2.0', selector: { all: true }, canary: 1, batch: '2', healthSeconds: 1 })).body.data.id;
    await until('the canary gets UpdateHost', () => updates(hosts.get('host-1')!.s).length === 1);
    await report(h, hosts.get('host-1')!.id, id, 'committed');
    await until('wave 1 is sent', () => updates(hosts.get('host-3')!.s).length === 1);
    for (const n of ['host-2', 'host-3']) await report(h, hosts.get(n)!.id, id, 'committed');
    await until('completed', async () => (await rollout(h, id)).state === 'completed');
    assert.is((await h.api('POST', `/rollouts/${id}/rollback`)).status, 200);
    await until('RevertHost to all three', () => ['host-1', 'host-2', 'host-3'].every((n) => reverts(hosts.get(n)!.s).length === 1));
    // A late report about the rolled-out version changes nothing while rolling back.
    await report(h, hosts.get('host-1')!.id, id, 'rolled-back', '0.2.0', 'stale');
    assert.is((await rollout(h, id)).hosts[0].state, 'reverting');
    await report(h, hosts.get('host-1')!.id, id, 'rolled-back', '0.1.0', '0.1.0 stayed healthy for 30 s: rolled-back');
    await report(h, hosts.get('host-2')!.id, id, 'committed', '0.1.0');
    await report(h, hosts.get('host-3')!.id, id, 'failed', '0.1.0', 'back on 0.2.0: agentd is unhealthy');
    const back = await until('rolled back', async () => { const r = await rollout(h, id); return r.state === 'rolled-back' ? r : undefined; });
    assert.equal(back.hosts.map((x) => [x.node, x.state]), [['host-1', 'reverted'], ['host-2', 'reverted'], ['host-3', 'failed']]);
    assert.match(back.hosts[2].message, /revert to 0\.1\.0 failed: back on 0\.2\.0: agentd is unhealthy/);
    const audit = await until('the audit row', async () => (await h.api<AuditEntryView[]>('GET', '/audit?limit=1000')).body.data.find((a) => a.action === 'releases.rollout.rolled-back' && a.target === id));
    assert.match(JSON.stringify(audit.params), /"reverted":2.*host-3/);
  });

  t.run();
}
