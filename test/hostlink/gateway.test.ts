// The manager's gRPC host gateway over real TLS on loopback, with the backend seam in memory.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as grpc from '../../hostd/grpc-h2-client.js';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import { join } from 'node:path';
import { ManagerPki } from '../../server/hostlink/pki.js';
import { nodeIdFromSubjectAltName } from '../../server/hostlink/client-cert.js';
import { createKeyAndCsr } from '../../hostd/enroll.js';
import type { HostLinkClient } from '../../hostd/grpc-client.js';
import { client, enroll, FACTS, openStream, startGateway, type TestGateway } from './helpers.js';

let gw: TestGateway;
const clients: HostLinkClient[] = [];
const track = (c: HostLinkClient) => { clients.push(c); return c; };

test.before(async () => { gw = await startGateway(); });
test.after(async () => {
  for (const c of clients) c.close();
  await gw.close();
});

async function enrolledIdentity(name: string) {
  const { keyPem, csrPem } = createKeyAndCsr(name);
  const token = gw.backend.addToken(`tok-${name}`);
  const res = await enroll(track(client(gw.address, { caPem: gw.gateway.caPem() })), { token, nodeName: name, csrPem });
  return { keyPem, certPem: res.certificatePem, nodeId: res.nodeId, caPem: res.caPem };
}

async function enrollError(req: { token: string; nodeName: string; csrPem: string }): Promise<grpc.ServiceError> {
  try {
    await enroll(track(client(gw.address, { caPem: gw.gateway.caPem() })), req);
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error('enrollment was accepted');
}

test('enroll with a good token: certificate for our key, chained to the CA, naming the node', async () => {
  const id = await enrolledIdentity('web-01');
  const cert = new X509Certificate(id.certPem);
  const ca = new X509Certificate(gw.gateway.caPem());
  assert.is(id.caPem, gw.gateway.caPem());
  assert.ok(cert.checkIssued(ca) && cert.verify(ca.publicKey));
  assert.ok(cert.checkPrivateKey(createPrivateKey(id.keyPem)));
  assert.is(nodeIdFromSubjectAltName(cert.subjectAltName), id.nodeId);
  assert.match(cert.subject, /CN=web-01/);
  assert.ok(gw.backend.nodes.get(id.nodeId)?.fingerprint, 'the certificate was recorded');
});

test('enroll refusals carry the backend message: unknown, used, expired token; a taken name is held, not refused', async () => {
  const { csrPem } = createKeyAndCsr('x');
  const unknown = await enrollError({ token: 'nope', nodeName: 'a1', csrPem });
  assert.is(unknown.code, grpc.status.PERMISSION_DENIED);
  assert.is(unknown.details, 'unknown enrollment token');

  gw.backend.addToken('once', 1);
  await enroll(track(client(gw.address, { caPem: gw.gateway.caPem() })), { token: 'once', nodeName: 'a2', csrPem });
  const used = await enrollError({ token: 'once', nodeName: 'a3', csrPem });
  assert.is(used.details, 'enrollment token already used');

  gw.backend.addToken('old', 5, -1000);
  const expired = await enrollError({ token: 'old', nodeName: 'a4', csrPem });
  assert.is(expired.code, grpc.status.PERMISSION_DENIED);
  assert.is(expired.details, 'enrollment token expired');

  gw.backend.addToken('multi', 5);
  const taken = await enroll(track(client(gw.address, { caPem: gw.gateway.caPem() })), { token: 'multi', nodeName: 'a2', csrPem: createKeyAndCsr('a2').csrPem });
  assert.ok(taken.held);
  assert.is(taken.certificatePem, '');
  assert.match(taken.heldMessage, /opsctl nodes approve a2/);
});

test('malformed CSR → INVALID_ARGUMENT, and the token is not consumed', async () => {
  gw.backend.addToken('keep', 1);
  const bad = await enrollError({ token: 'keep', nodeName: 'b1', csrPem: 'not a csr' });
  assert.is(bad.code, grpc.status.INVALID_ARGUMENT);
  assert.match(bad.details, /malformed CSR/);
  assert.is(gw.backend.tokens.get('keep')!.uses, 1);
});

test('bad node names and a missing token are refused before the backend sees them', async () => {
  const { csrPem } = createKeyAndCsr('x');
  gw.backend.addToken('names', 10);
  for (const nodeName of ['', '-lead', 'has space', 'x'.repeat(254), 'semi;colon']) {
    const err = await enrollError({ token: 'names', nodeName, csrPem });
    assert.is(err.code, grpc.status.INVALID_ARGUMENT, nodeName);
    assert.match(err.details, /invalid node name/);
  }
  assert.is(gw.backend.tokens.get('names')!.uses, 10);
  const none = await enrollError({ token: '', nodeName: 'ok', csrPem });
  assert.is(none.code, grpc.status.UNAUTHENTICATED);
});

test('TLS 1.2 is refused by the host-link port', async () => {
  const outcome = await new Promise<string>((resolve) => {
    const s = connect({ host: '127.0.0.1', port: gw.gateway.port, maxVersion: 'TLSv1.2', rejectUnauthorized: false });
    s.once('secureConnect', () => { s.destroy(); resolve('connected'); });
    s.once('error', (err) => resolve(err.message));
  });
  assert.is.not(outcome, 'connected');
});

test('Connect without a client certificate → UNAUTHENTICATED', async () => {
  const s = openStream(track(client(gw.address, { caPem: gw.gateway.caPem() })));
  s.call.write({ hello: { facts: FACTS, hostdVersion: '1', agentVersion: '1', agentStatus: 'healthy' } });
  const status = await s.status;
  assert.is(status.code, grpc.status.UNAUTHENTICATED);
  assert.match(status.details, /client certificate/);
});

test('Connect with a certificate from another CA → UNAUTHENTICATED', async () => {
  const other = ManagerPki.loadOrCreate({ pkiDir: join(gw.dir, 'rogue-ca'), advertiseHost: '' });
  const { keyPem, csrPem } = createKeyAndCsr('web-01');
  const known = [...gw.backend.nodes.values()][0];
  // Same node id as a real node, signed by a CA that is not the manager's.
  const certPem = other.signNodeCsr(csrPem, 'web-01', known.id, 1).certificatePem;
  const s = openStream(track(client(gw.address, { caPem: gw.gateway.caPem(), keyPem, certPem })));
  s.call.write({ hello: { facts: FACTS, hostdVersion: '1', agentVersion: '1', agentStatus: 'healthy' } });
  const status = await s.status;
  assert.is(status.code, grpc.status.UNAUTHENTICATED);
  assert.not.ok(gw.backend.records.some((r) => r.type === 'connected' && r.nodeId === known.id));
});

test('Connect with a valid but revoked certificate → UNAUTHENTICATED naming the node', async () => {
  const id = await enrolledIdentity('revoked-01');
  gw.backend.nodes.get(id.nodeId)!.revoked = true;
  const s = openStream(track(client(gw.address, { caPem: id.caPem, keyPem: id.keyPem, certPem: id.certPem })));
  s.call.write({ hello: { facts: FACTS, hostdVersion: '1', agentVersion: '1', agentStatus: 'healthy' } });
  const status = await s.status;
  assert.is(status.code, grpc.status.UNAUTHENTICATED);
  assert.match(status.details, new RegExp(`node ${id.nodeId} is not accepted`));
});

test('Connect whose first message is not hello → INVALID_ARGUMENT', async () => {
  const id = await enrolledIdentity('rude-01');
  const s = openStream(track(client(gw.address, { caPem: id.caPem, keyPem: id.keyPem, certPem: id.certPem })));
  s.call.write({ heartbeat: { sentAtMs: Date.now(), agentStatus: 'healthy', agentVersion: '1' } });
  const status = await s.status;
  assert.is(status.code, grpc.status.INVALID_ARGUMENT);
  assert.match(status.details, /first message on the stream must be hello/);
});

test('a valid stream: hello → backend, welcome back, messages routed in order, dispatch and cancel down', async () => {
  const id = await enrolledIdentity('good-01');
  const s = openStream(track(client(gw.address, { caPem: id.caPem, keyPem: id.keyPem, certPem: id.certPem })));
  s.call.write({ hello: { facts: FACTS, hostdVersion: '0.1.0', agentVersion: '0.1.0', agentStatus: 'healthy' } });
  const welcome = await s.next('welcome', (m) => m.kind === 'welcome');
  assert.equal(welcome.welcome, { nodeId: id.nodeId, nodeName: 'good-01', heartbeatSeconds: 1, metricsSeconds: 60, acceptsTaskEvents: true });
  const connected = await gw.backend.waitFor('connected', (r) => r.type === 'connected' && r.nodeId === id.nodeId);
  assert.equal(connected.type === 'connected' && connected.hello.facts, FACTS);
  assert.is(connected.type === 'connected' && connected.session.address, '127.0.0.1');
  assert.is(gw.gateway.sessions.get(id.nodeId)?.nodeName, 'good-01');

  s.call.write({ heartbeat: { sentAtMs: Date.now(), agentStatus: 'unhealthy', agentVersion: '0.1.1' } });
  s.call.write({ metrics: { atMs: 1, cpuPercent: 12.5, memUsedBytes: 1, memTotalBytes: 2, load1: 0.1, load5: 0.2, load15: 0.3, disks: [{ mount: '/', sizeBytes: 10, usedBytes: 5 }], netRxBytes: 7, netTxBytes: 8 } });
  for (let i = 0; i < 50; i++) s.call.write({ taskEvent: { runId: 'r1', output: { stream: 'stdout', data: `line ${i}\n`, atMs: i } } });
  s.call.write({ taskEvent: { runId: 'r1', exited: { atMs: 99, exitCode: 0, signal: '', durationMs: 5, status: 'succeeded', error: '' } } });
  await gw.backend.waitFor('exit of r1', (r) => r.type === 'task' && r.event.runId === 'r1' && r.event.kind === 'exited');
  const events = gw.backend.taskEvents('r1');
  assert.equal(events.slice(0, 50).map((e) => e.output?.data), Array.from({ length: 50 }, (_, i) => `line ${i}\n`));
  const hb = await gw.backend.waitFor('heartbeat', (r) => r.type === 'heartbeat' && r.nodeId === id.nodeId);
  assert.equal(hb.type === 'heartbeat' && [hb.agentStatus, hb.agentVersion], ['unhealthy', '0.1.1']);
  const metrics = await gw.backend.waitFor('metrics', (r) => r.type === 'metrics' && r.nodeId === id.nodeId);
  assert.is(metrics.type === 'metrics' && metrics.sample.disks[0].mount, '/');

  assert.ok(gw.gateway.sessions.dispatch(id.nodeId, { runId: 'r2', taskId: 't2', timeoutMs: 1000, script: { script: 'echo hi', interpreter: 'sh', env: { A: 'b' } } }));
  const d = await s.next('dispatch', (m) => m.kind === 'dispatch');
  assert.equal(d.dispatch, { runId: 'r2', taskId: 't2', timeoutMs: 1000, script: { script: 'echo hi', interpreter: 'sh', env: { A: 'b' } }, kind: 'script', acks: [] });
  assert.ok(gw.gateway.sessions.cancel(id.nodeId, 'r2'));
  const c = await s.next('cancel', (m) => m.kind === 'cancel');
  assert.is(c.cancel?.runId, 'r2');
  assert.not.ok(gw.gateway.sessions.dispatch('no-such-node', { runId: 'x', taskId: 'x', timeoutMs: 0, script: { script: '', interpreter: '', env: {} } }));

  s.call.end();
  const status = await s.status;
  assert.is(status.code, grpc.status.OK);
  await gw.backend.waitFor('disconnected', (r) => r.type === 'disconnected' && r.nodeId === id.nodeId);
  assert.is(gw.gateway.sessions.get(id.nodeId), undefined);
});

test('task_events: several events in one message reach the backend one by one, in order, between the singles around them', async () => {
  const id = await enrolledIdentity('batch-01');
  const s = openStream(track(client(gw.address, { caPem: id.caPem, keyPem: id.keyPem, certPem: id.certPem })));
  s.call.write({ hello: { facts: FACTS, hostdVersion: '0.1.0', agentVersion: '0.1.0', agentStatus: 'healthy' } });
  await s.next('welcome', (m) => m.kind === 'welcome');
  const before = gw.gateway.received('taskEvents');
  s.call.write({ taskEvent: { runId: 'b1', seq: 1, started: { atMs: 1, pid: 42 } } });
  s.call.write({ taskEvents: { events: [
    { runId: 'b1', seq: 2, output: { stream: 'stdout', data: 'one\n', atMs: 2 } },
    { runId: 'b2', seq: 1, started: { atMs: 2, pid: 43 } },
    { runId: 'b1', seq: 3, output: { stream: 'stdout', data: 'two\n', atMs: 3 } },
  ] } });
  s.call.write({ taskEvents: { events: [] } });
  s.call.write({ taskEvent: { runId: 'b1', seq: 4, exited: { atMs: 4, exitCode: 0, signal: '', durationMs: 3, status: 'succeeded', error: '' } } });
  await gw.backend.waitFor('exit of b1', (r) => r.type === 'task' && r.event.runId === 'b1' && r.event.kind === 'exited');
  const order = gw.backend.records.flatMap((r) => (r.type === 'task' && r.nodeId === id.nodeId ? [`${r.event.runId}/${r.event.seq}/${r.event.kind}`] : []));
  assert.equal(order, ['b1/1/started', 'b1/2/output', 'b2/1/started', 'b1/3/output', 'b1/4/exited']);
  assert.is(gw.gateway.received('taskEvents') - before, 2);
  s.call.end();
  await s.status;
});

test('a second stream for the same node replaces the first, which is ended', async () => {
  const id = await enrolledIdentity('twice-01');
  const tls = { caPem: id.caPem, keyPem: id.keyPem, certPem: id.certPem };
  const first = openStream(track(client(gw.address, tls)));
  first.call.write({ hello: { facts: FACTS, hostdVersion: '1', agentVersion: '1', agentStatus: 'healthy' } });
  await first.next('first welcome', (m) => m.kind === 'welcome');
  const firstSession = gw.gateway.sessions.get(id.nodeId);
  const second = openStream(track(client(gw.address, tls)));
  second.call.write({ hello: { facts: FACTS, hostdVersion: '1', agentVersion: '1', agentStatus: 'healthy' } });
  await second.next('second welcome', (m) => m.kind === 'welcome');
  await first.status; // the old stream was ended by the manager
  const gone = await gw.backend.waitFor('old session disconnected', (r) => r.type === 'disconnected' && r.session === firstSession);
  assert.ok(gone);
  assert.is.not(gw.gateway.sessions.get(id.nodeId), firstSession, 'the newer session stays registered');
  assert.ok(gw.gateway.sessions.dispatch(id.nodeId, { runId: 'r9', taskId: 't', timeoutMs: 0, script: { script: 'true', interpreter: 'sh', env: {} } }));
  await second.next('dispatch on the new stream', (m) => m.kind === 'dispatch');
  assert.not.ok(first.messages.some((m) => m.kind === 'dispatch'));
  second.call.end();
  await second.status;
});

test('a connection the backend fails to record ends the stream (UNAVAILABLE) and leaves no session; the next one is welcomed', async () => {
  const id = await enrolledIdentity('unrecorded-01');
  const creds = { caPem: id.caPem, keyPem: id.keyPem, certPem: id.certPem };
  gw.backend.failConnects = 1;
  const s = openStream(track(client(gw.address, creds)));
  s.call.write({ hello: { facts: FACTS, hostdVersion: '1', agentVersion: '1', agentStatus: 'healthy' } });
  const status = await s.status;
  assert.is(status.code, grpc.status.UNAVAILABLE);
  assert.match(status.details, /could not record this host's connection/);
  await gw.backend.waitFor('disconnected', (r) => r.type === 'disconnected' && r.nodeId === id.nodeId);
  assert.is(gw.gateway.sessions.get(id.nodeId), undefined);

  const again = openStream(track(client(gw.address, creds)));
  again.call.write({ hello: { facts: FACTS, hostdVersion: '1', agentVersion: '1', agentStatus: 'healthy' } });
  await again.next('welcome', (m) => m.kind === 'welcome');
  assert.is(gw.gateway.sessions.get(id.nodeId)?.nodeName, 'unrecorded-01');
  again.call.end();
  await again.status;
});

test('sessions.disconnect ends the node\'s stream and the backend hears of it', async () => {
  const id = await enrolledIdentity('revoked-live-01');
  const s = openStream(track(client(gw.address, { caPem: id.caPem, keyPem: id.keyPem, certPem: id.certPem })));
  s.call.write({ hello: { facts: FACTS, hostdVersion: '1', agentVersion: '1', agentStatus: 'healthy' } });
  await s.next('welcome', (m) => m.kind === 'welcome');
  const session = gw.gateway.sessions.get(id.nodeId);
  assert.ok(gw.gateway.sessions.disconnect(id.nodeId, 'node deleted'));
  await s.status;
  await gw.backend.waitFor('disconnected', (r) => r.type === 'disconnected' && r.session === session);
  assert.not.ok(gw.gateway.sessions.get(id.nodeId));
  assert.not.ok(gw.gateway.sessions.disconnect(id.nodeId, 'again'), 'nothing left to end');
});

test('stop() ends open streams and shuts the port', async () => {
  const local = await startGateway();
  const { keyPem, csrPem } = createKeyAndCsr('stop-01');
  local.backend.addToken('t');
  const c1 = track(client(local.address, { caPem: local.gateway.caPem() }));
  const res = await enroll(c1, { token: 't', nodeName: 'stop-01', csrPem });
  const s = openStream(track(client(local.address, { caPem: res.caPem, keyPem, certPem: res.certificatePem })));
  s.call.write({ hello: { facts: FACTS, hostdVersion: '1', agentVersion: '1', agentStatus: 'healthy' } });
  await s.next('welcome', (m) => m.kind === 'welcome');
  await local.close();
  await s.status;
  await local.backend.waitFor('disconnected', (r) => r.type === 'disconnected');
  assert.is(local.gateway.sessions.size, 0);
  assert.is(local.gateway.port, 0);
});

test.run();
