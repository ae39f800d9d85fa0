// The HostLinkBackend the gRPC gateway calls, on a real database: enrollment refusals, certificate
// authentication, connect / heartbeat / metrics / disconnect and the offline sweep.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { EnrollmentRefused } from '../../server/hostlink/contract.js';
import { EnrollmentToken } from '../../server/modules/enrollment-tokens/enrollment-token.entity.js';
import { MetricSample } from '../../server/modules/nodes/metric-sample.entity.js';
import { Node } from '../../server/modules/nodes/node.entity.js';
import type { NodeDetail } from '../../proto/rest/nodes.js';
import { DB_KINDS, FakeSession, hello, makeHarness, type Harness } from './harness.js';

async function refused(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, EnrollmentRefused);
    return (err as Error).message;
  }
  throw new Error('expected EnrollmentRefused');
}

async function newToken(h: Harness, uses = 1, ttlSeconds = 600): Promise<{ id: string; token: string }> {
  const r = await h.api<{ id: string; token: string }>('POST', '/enrollment-tokens', { uses, ttlSeconds });
  return r.body.data;
}

for (const kind of DB_KINDS) {
  const test = suite<{ h: Harness }>(`host link backend on ${kind}`);
  test.before(async (ctx) => { ctx.h = await makeHarness(kind, { config: { 'hostlink.offlineAfterSeconds': 60, 'hostlink.heartbeatSeconds': 20 } }); });
  test.after(async (ctx) => { await ctx.h?.close(); });

  test('an unknown token is refused', async ({ h }) => {
    const msg = await refused(h.services.hostLink.redeemEnrollmentToken({ token: 'not-a-real-token', nodeName: 'x1', address: '127.0.0.1', keyFingerprint: '0'.repeat(64) }));
    assert.is(msg, 'unknown enrollment token');
  });

  test('a one-use token works once, then "already used"', async ({ h }) => {
    const { token } = await newToken(h);
    const { nodeId } = await h.services.hostLink.redeemEnrollmentToken({ token, nodeName: 'once-1', address: '10.0.0.1', keyFingerprint: '0'.repeat(64) });
    assert.ok(nodeId);
    const msg = await refused(h.services.hostLink.redeemEnrollmentToken({ token, nodeName: 'once-2', address: '10.0.0.2', keyFingerprint: '0'.repeat(64) }));
    assert.is(msg, 'enrollment token already used');
    assert.is((await h.api('GET', '/nodes/once-2')).status, 404);
  });

  test('uses=3 enrolls three nodes, the fourth is refused', async ({ h }) => {
    const { token } = await newToken(h, 3);
    for (const n of ['multi-1', 'multi-2', 'multi-3']) await h.services.hostLink.redeemEnrollmentToken({ token, nodeName: n, address: '10.0.0.3', keyFingerprint: '0'.repeat(64) });
    assert.is(await refused(h.services.hostLink.redeemEnrollmentToken({ token, nodeName: 'multi-4', address: '10.0.0.3', keyFingerprint: '0'.repeat(64) })), 'enrollment token already used');
  });

  test('two hosts racing for the last use: exactly one wins', async ({ h }) => {
    const { token } = await newToken(h, 1);
    const results = await Promise.allSettled([
      h.services.hostLink.redeemEnrollmentToken({ token, nodeName: 'race-a', address: '10.0.0.4', keyFingerprint: '0'.repeat(64) }),
      h.services.hostLink.redeemEnrollmentToken({ token, nodeName: 'race-b', address: '10.0.0.5', keyFingerprint: '0'.repeat(64) }),
    ]);
    assert.is(results.filter((r) => r.status === 'fulfilled').length, 1);
    const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.instance(loser.reason, EnrollmentRefused);
  });

  test('twenty hosts at once on a twenty-use token: all enroll (none refused for the race), the next is refused', async ({ h }) => {
    const { token } = await newToken(h, 20);
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) =>
      h.services.hostLink.redeemEnrollmentToken({ token, nodeName: `crowd-${i}`, address: '10.0.0.8', keyFingerprint: '0'.repeat(64) })));
    assert.equal(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)), []);
    assert.is(await refused(h.services.hostLink.redeemEnrollmentToken({ token, nodeName: 'crowd-20', address: '10.0.0.8', keyFingerprint: '0'.repeat(64) })), 'enrollment token already used');
  });

  test('a mixed crowd at once: new names enroll together, a known name is held, a name twice is held once, the audit chain holds', async ({ h }) => {
    const { token } = await newToken(h, 8);
    const key = (c: string) => c.repeat(64);
    await h.services.hostLink.redeemEnrollmentToken({ token: (await newToken(h)).token, nodeName: 'mixed-known', address: '10.0.1.1', keyFingerprint: key('1') });
    const ask = (nodeName: string, k: string) => h.services.hostLink.redeemEnrollmentToken({ token, nodeName, address: '10.0.1.2', keyFingerprint: key(k) });
    const results = await Promise.allSettled([
      ask('mixed-0', '2'), ask('MIXED-KNOWN', '3'), ask('mixed-1', '4'), ask('mixed-1.', '5'), ask('mixed-2', '6'), ask('mixed-3', '7'), ask('mixed-4', '8'), ask('mixed-5', '9'),
    ]);
    const outcome = results.map((r) => (r.status === 'fulfilled' ? r.value.outcome : (r.reason as Error).message));
    // The known name and the second mixed-1 each take a use to be held; the six new names enroll.
    assert.equal(outcome.filter((o) => o !== 'held' && o !== 'issue'), [], JSON.stringify(outcome));
    assert.is(outcome.filter((o) => o === 'held').length, 2, JSON.stringify(outcome));
    assert.is(outcome[1], 'held');
    assert.is(await refused(ask('mixed-6', 'a')), 'enrollment token already used');
    const nodes = (await h.api<{ name: string }[]>('GET', '/nodes?limit=1000')).body.data.map((n) => n.name).filter((n) => n.startsWith('mixed'));
    assert.is(nodes.filter((n) => n === 'mixed-1').length, 1);
    assert.is(nodes.length, 7, nodes.join()); // mixed-known, mixed-0 … mixed-5
    const verify = await h.api<{ ok: boolean; checked: number }>('GET', '/audit/verify');
    assert.ok(verify.body.data.ok, JSON.stringify(verify.body.data));
  });

  test('an expired token is refused', async ({ h }) => {
    const { id, token } = await newToken(h);
    await h.orm.em.fork().nativeUpdate(EnrollmentToken, { id }, { expiresAt: new Date(Date.now() - 1000) });
    assert.is(await refused(h.services.hostLink.redeemEnrollmentToken({ token, nodeName: 'late-1', address: '10.0.0.6', keyFingerprint: '0'.repeat(64) })), 'enrollment token expired');
  });

  test('a name already enrolled with another key is held: token use taken, node unchanged, audited', async ({ h }) => {
    const nodeId = await h.enroll('taken-1');
    const { id, token } = await newToken(h);
    const decision = await h.services.hostLink.redeemEnrollmentToken({ token, nodeName: 'taken-1', address: '10.0.0.7', keyFingerprint: 'a'.repeat(64) });
    assert.equal(decision, {
      outcome: 'held', nodeId,
      message: `node taken-1 is already enrolled with another key; this request is held: an operator must run \`opsctl nodes approve taken-1\` (key ${'a'.repeat(64)})`,
    });
    assert.is((await h.orm.em.fork().findOneOrFail(EnrollmentToken, { id })).used, 1);
    assert.equal(await h.services.hostLink.authenticate(nodeId, 'f'.repeat(64)), { nodeId, nodeName: 'taken-1' }, 'the old certificate still works');
    // The same key again (the host retrying, its token spent): held, no second use, no audit row per retry.
    const again = await h.services.hostLink.redeemEnrollmentToken({ token, nodeName: 'taken-1', address: '10.0.0.7', keyFingerprint: 'a'.repeat(64) });
    assert.is(again.outcome, 'held');
    const detail = (await h.api<NodeDetail>('GET', '/nodes/taken-1')).body.data;
    assert.is(detail.pendingApproval, true);
    assert.equal({ ...detail.pendingEnrollment, requestedAt: typeof detail.pendingEnrollment?.requestedAt }, {
      keyFingerprint: 'a'.repeat(64), address: '10.0.0.7', requestedAt: 'string', approvedAt: null,
    });
    const audit = (await h.api<{ action: string; target: string; params: Record<string, unknown> }[]>('GET', '/audit?action=nodes.enroll&limit=100')).body.data
      .filter((a) => a.target === 'taken-1');
    assert.is(audit.filter((a) => a.params.held === true).length, 1, JSON.stringify(audit));
  });

  test('names are one regardless of case and trailing dots: VM and vm. are held as vm; a trailing dot is dropped', async ({ h }) => {
    await h.enroll('dns-vm');
    for (const nodeName of ['DNS-VM', 'dns-vm.', 'Dns-Vm..']) {
      const { token } = await newToken(h);
      const decision = await h.services.hostLink.redeemEnrollmentToken({ token, nodeName, address: '10.0.0.9', keyFingerprint: 'b'.repeat(64) });
      assert.is(decision.outcome, 'held', nodeName);
      assert.match(decision.outcome === 'held' ? decision.message : '', /^node dns-vm is already enrolled with another key/);
    }
    const { token } = await newToken(h);
    await h.services.hostLink.redeemEnrollmentToken({ token, nodeName: 'Dotted-1.', address: '10.0.0.9', keyFingerprint: '0'.repeat(64) });
    const names = (await h.api<{ name: string }[]>('GET', '/nodes')).body.data.map((n) => n.name);
    assert.ok(names.includes('Dotted-1') && !names.includes('Dotted-1.'), names.join(','));
  });

  test('approve: 409 with nothing pending, 403 for an operator; revokes the old certificate, ends its stream, keeps the node; the key collects', async ({ h }) => {
    const nodeId = await h.enroll('appr-1', { env: 'prod' });
    const stream = await h.connect(nodeId, 'appr-1');
    const nothing = await h.api('POST', '/nodes/appr-1/approve');
    assert.is(nothing.status, 409);
    assert.is(nothing.body.code, 1005);
    assert.is(nothing.body.message, 'node appr-1 has no pending enrollment request to approve');
    assert.is((await h.api('POST', '/nodes/appr-1/deny')).status, 409);

    const { token } = await newToken(h);
    const key = 'c'.repeat(64);
    await h.services.hostLink.redeemEnrollmentToken({ token, nodeName: 'appr-1', address: '10.0.0.10', keyFingerprint: key });
    for (const role of ['viewer', 'operator']) {
      const who = await h.user(`appr-${role}`, role);
      const denied = await h.api('POST', '/nodes/appr-1/approve', undefined, who);
      assert.is(denied.status, 403, role);
      assert.is((await h.api('POST', '/nodes/appr-1/deny', undefined, who)).status, 403, role);
    }
    const approved = await h.api<NodeDetail>('POST', '/nodes/appr-1/approve');
    assert.is(approved.status, 200, JSON.stringify(approved.body));
    assert.ok(approved.body.data.pendingEnrollment?.approvedAt);
    assert.is(approved.body.data.id, nodeId);
    assert.equal(approved.body.data.labels, { env: 'prod' });
    assert.is(await h.services.hostLink.authenticate(nodeId, 'f'.repeat(64)), null, 'the old certificate no longer authenticates');
    assert.match(stream.closedBecause ?? '', /approved a new key/, 'the old stream was ended');
    assert.is((await h.api('POST', '/nodes/appr-1/approve')).status, 409, 'already approved');

    // Another key cannot take the approved one's place, even with a fresh token (which stays unspent);
    // the approved key collects without a token.
    const fresh = await newToken(h);
    assert.is(await refused(h.services.hostLink.redeemEnrollmentToken({ token: fresh.token, nodeName: 'appr-1', address: '10.0.0.11', keyFingerprint: 'd'.repeat(64) })),
      'node appr-1 has an approved request for another key waiting to be collected; an operator can drop it with opsctl nodes deny appr-1');
    assert.is((await h.orm.em.fork().findOneOrFail(EnrollmentToken, { id: fresh.id })).used, 0);
    const collect = await h.services.hostLink.redeemEnrollmentToken({ token: 'spent', nodeName: 'appr-1', address: '10.0.0.10', keyFingerprint: key });
    assert.equal(collect, { outcome: 'issue', nodeId });
    await h.services.hostLink.recordCertificate(nodeId, { fingerprint: 'E'.repeat(64), serial: '02', notAfter: new Date(Date.now() + 86400e3), keyFingerprint: key });
    assert.equal(await h.services.hostLink.authenticate(nodeId, 'e'.repeat(64)), { nodeId, nodeName: 'appr-1' });
    const after = (await h.api<NodeDetail>('GET', '/nodes/appr-1')).body.data;
    assert.is(after.pendingEnrollment, null);
    assert.is(after.pendingApproval, false);
    const audit = (await h.api<{ action: string; target: string; result: string }[]>('GET', '/audit?action=nodes.approve&limit=100')).body.data;
    assert.ok(audit.some((a) => a.target === 'appr-1' && a.result === 'ok'), JSON.stringify(audit));
  });

  test('deny drops the pending request; the node keeps its certificate', async ({ h }) => {
    const nodeId = await h.enroll('deny-1');
    const { token } = await newToken(h);
    await h.services.hostLink.redeemEnrollmentToken({ token, nodeName: 'deny-1', address: '10.0.0.12', keyFingerprint: '1'.repeat(64) });
    const denied = await h.api<NodeDetail>('POST', '/nodes/deny-1/deny');
    assert.is(denied.status, 200);
    assert.is(denied.body.data.pendingEnrollment, null);
    assert.equal(await h.services.hostLink.authenticate(nodeId, 'f'.repeat(64)), { nodeId, nodeName: 'deny-1' });
    assert.is(await refused(h.services.hostLink.redeemEnrollmentToken({ token, nodeName: 'deny-1', address: '10.0.0.12', keyFingerprint: '1'.repeat(64) })), 'enrollment token already used');
  });

  test('renewal: the new certificate is current, the old one is accepted until the new one is presented', async ({ h }) => {
    const nodeId = await h.enroll('renew-1');
    const next = { fingerprint: '2'.repeat(64), serial: '03', notAfter: new Date(Date.now() + 2 * 86400e3), keyFingerprint: '3'.repeat(64) };
    assert.ok(await h.services.hostLink.recordRenewal(nodeId, 'f'.repeat(64), next));
    assert.ok(await h.services.hostLink.authenticate(nodeId, 'f'.repeat(64)), 'overlap: the old one still works');
    assert.ok(await h.services.hostLink.authenticate(nodeId, '2'.repeat(64)));
    assert.is(await h.services.hostLink.authenticate(nodeId, 'f'.repeat(64)), null, 'the new one was presented: the old one is refused');
    assert.not.ok(await h.services.hostLink.recordRenewal(nodeId, 'f'.repeat(64), { ...next, fingerprint: '4'.repeat(64) }), 'an old certificate cannot renew');
    assert.is((await h.api<NodeDetail>('GET', '/nodes/renew-1')).body.data.certificateExpiresAt, next.notAfter.toISOString());
    assert.is((await h.api('DELETE', '/nodes/renew-1')).status, 200);
    assert.not.ok(await h.services.hostLink.recordRenewal(nodeId, '2'.repeat(64), { ...next, fingerprint: '5'.repeat(64) }), 'a deleted node cannot renew');
  });

  test('authenticate: only the recorded certificate of an existing node; deleting the node revokes it', async ({ h }) => {
    const { token } = await newToken(h);
    const { nodeId } = await h.services.hostLink.redeemEnrollmentToken({ token, nodeName: 'cert-1', address: '10.0.0.8', keyFingerprint: '0'.repeat(64) });
    assert.is(await h.services.hostLink.authenticate(nodeId, 'a'.repeat(64)), null, 'no certificate recorded yet');
    await h.services.hostLink.recordCertificate(nodeId, { fingerprint: 'A'.repeat(64), serial: '0a1b', notAfter: new Date(Date.now() + 365 * 86400e3), keyFingerprint: '0'.repeat(64) });
    assert.equal(await h.services.hostLink.authenticate(nodeId, 'a'.repeat(64)), { nodeId, nodeName: 'cert-1' });
    assert.is(await h.services.hostLink.authenticate(nodeId, 'b'.repeat(64)), null);
    assert.is(await h.services.hostLink.authenticate('00000000-0000-0000-0000-000000000000', 'a'.repeat(64)), null);
    assert.is((await h.api('DELETE', '/nodes/cert-1')).status, 200);
    assert.is(await h.services.hostLink.authenticate(nodeId, 'a'.repeat(64)), null);
  });

  test('connect, heartbeat (degraded when the agent is unhealthy), metrics, disconnect', async ({ h }) => {
    const id = await h.enroll('life-1');
    const session = await h.connect(id, 'life-1');
    let node = (await h.api<{ status: string; address: string; agentStatus: string; lastSeenAt: string }>('GET', '/nodes/life-1')).body.data;
    assert.is(node.status, 'online');
    assert.is(node.address, session.address);
    assert.ok(node.lastSeenAt);

    await h.services.hostLink.onHeartbeat(id, 'unhealthy', '0.1.1');
    await h.services.nodes.reports.flush();
    node = (await h.api<{ status: string; address: string; agentStatus: string; lastSeenAt: string }>('GET', '/nodes/life-1')).body.data;
    assert.is(node.status, 'degraded');
    assert.is(node.agentStatus, 'unhealthy');
    await h.services.hostLink.onHeartbeat(id, 'healthy', '0.1.1');
    await h.services.nodes.reports.flush();
    assert.is((await h.api<{ status: string; agentVersion: string }>('GET', '/nodes/life-1')).body.data.agentVersion, '0.1.1');

    // agentd's capabilities: from the hello, replaced when a heartbeat brings new ones, kept otherwise.
    type Agent = { facts: { hostname: string; agent?: { serviceManager: string; plugins: string[]; interpreters: string[] } } };
    assert.equal((await h.api<Agent>('GET', '/nodes/life-1')).body.data.facts.agent?.plugins, ['http-probe@1.0.0']);
    await h.services.hostLink.onHeartbeat(id, 'healthy', '0.1.1', { taskKinds: ['script'], interpreters: ['sh'], serviceManager: 'systemd', plugins: [] });
    await h.services.nodes.reports.flush();
    const agent = (await h.api<Agent>('GET', '/nodes/life-1')).body.data.facts;
    assert.is(agent.hostname, 'life-1');
    assert.equal(agent.agent, { taskKinds: ['script'], interpreters: ['sh'], serviceManager: 'systemd', plugins: [] });
    await h.services.hostLink.onConnected(session, { ...hello('life-1'), capabilities: null });
    assert.is((await h.api<Agent>('GET', '/nodes/life-1')).body.data.facts.agent?.serviceManager, 'systemd');

    const sample = { atMs: Date.now(), cpuPercent: 12.5, memUsedBytes: 1e9, memTotalBytes: 4e9, load1: 0.5, load5: 0.4, load15: 0.3, disks: [{ mount: '/', sizeBytes: 1e11, usedBytes: 5e10 }], netRxBytes: 123456789012, netTxBytes: 42 };
    await h.services.hostLink.onMetrics(id, sample);
    await h.services.nodes.reports.flush();
    await h.services.hostLink.onMetrics(id, { ...sample, cpuPercent: 50 });
    await h.services.nodes.reports.flush();
    const detail = (await h.api<{ metrics: { cpuPercent: number; netRxBytes: number; disks: unknown[] } }>('GET', '/nodes/life-1')).body.data;
    assert.is(detail.metrics.cpuPercent, 50);
    assert.is(detail.metrics.netRxBytes, 123456789012);
    assert.is(detail.metrics.disks.length, 1);
    assert.is(await h.orm.em.fork().count(MetricSample, { node: id }), 2);

    // A newer stream replaced this one: the old one ending must not mark the node offline.
    const newer = new FakeSession(id, 'life-1', '127.0.0.1:50001');
    await h.services.hostLink.onConnected(newer, hello('life-1'));
    await h.services.hostLink.onDisconnected(session);
    assert.is((await h.api<{ status: string }>('GET', '/nodes/life-1')).body.data.status, 'online');
    await h.services.hostLink.onDisconnected(newer);
    assert.is((await h.api<{ status: string }>('GET', '/nodes/life-1')).body.data.status, 'offline');
  });

  test('streams cut at once: every node goes offline, and one that came straight back stays online', async ({ h }) => {
    const names = Array.from({ length: 20 }, (_, i) => `blip-${i}`);
    const sessions: FakeSession[] = [];
    for (const name of names) {
      const session = new FakeSession(await h.enroll(name), name, '127.0.0.1:40000');
      await h.services.hostLink.onConnected(session, hello(name));
      sessions.push(session);
    }
    // Leaving and arriving are recorded in the order they happened, in batches (nodes/host-arrivals.ts).
    const back = new FakeSession(sessions[0].nodeId, names[0], '127.0.0.1:40001');
    await Promise.all([...sessions.map((s) => h.services.hostLink.onDisconnected(s)), h.services.hostLink.onConnected(back, hello(names[0]))]);
    const status = async (name: string) => (await h.api<{ status: string }>('GET', `/nodes/${name}`)).body.data.status;
    assert.is(await status(names[0]), 'online');
    for (const name of names.slice(1)) assert.is(await status(name), 'offline', name);
    await h.services.hostLink.onDisconnected(back);
    assert.is(await status(names[0]), 'offline');
    // A hello and the stream's end in one batch: what the hello said is kept, and the node is offline.
    const brief = new FakeSession(sessions[1].nodeId, names[1], '127.0.0.1:40002');
    await Promise.all([h.services.hostLink.onConnected(brief, { ...hello(names[1]), agentVersion: '9.9.9' }), h.services.hostLink.onDisconnected(brief)]);
    const node = (await h.api<{ status: string; agentVersion: string }>('GET', `/nodes/${names[1]}`)).body.data;
    assert.equal([node.status, node.agentVersion], ['offline', '9.9.9']);
  });

  test('the sweep marks nodes offline when they have been silent longer than offlineAfterSeconds', async ({ h }) => {
    const id = await h.enroll('quiet-1');
    await h.connect(id, 'quiet-1');
    assert.is(await h.services.nodes.sweepOffline(), 0);
    await h.orm.em.fork().nativeUpdate(Node, { id }, { lastSeenAt: new Date(Date.now() - 61_000) });
    assert.ok((await h.services.nodes.sweepOffline()) >= 1);
    assert.is((await h.api<{ status: string }>('GET', '/nodes/quiet-1')).body.data.status, 'offline');
  });
  test.run();
}
