// Host identity over the real gateway (TLS, mTLS) with the in-memory backend: a known name with a
// new key is held until approved and only that key collects the certificate; Renew trades the
// current certificate and a CSR for a new key pair for a fresh certificate, the old one staying
// good only until the new one is presented.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as grpc from '../../hostd/grpc-h2-client.js';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { csrFor } from '../../hostd/csr.js';
import { createKeyAndCsr } from '../../hostd/enroll.js';
import { keyFingerprint } from '../../proto/key-fingerprint.js';
import { fingerprintOfPem } from '../../server/hostlink/x509.js';
import type { HostLinkClient } from '../../hostd/grpc-client.js';
import { client, enroll, FACTS, openStream, renew, startGateway, type TestGateway } from './helpers.js';

let gw: TestGateway;
const clients: HostLinkClient[] = [];
const track = (c: HostLinkClient) => { clients.push(c); return c; };

test.before(async () => { gw = await startGateway(); });
test.after(async () => {
  for (const c of clients) c.close();
  await gw.close();
});

const anon = () => track(client(gw.address, { caPem: gw.gateway.caPem() }));
const mtls = (id: { keyPem: string; certPem: string }) => track(client(gw.address, { caPem: gw.gateway.caPem(), keyPem: id.keyPem, certPem: id.certPem }));

async function enrolled(name: string) {
  const { keyPem, csrPem } = createKeyAndCsr(name);
  const res = await enroll(anon(), { token: gw.backend.addToken(`tok-${name}-${Math.random()}`), nodeName: name, csrPem });
  return { keyPem, certPem: res.certificatePem, nodeId: res.nodeId };
}

async function failure(p: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error('the call was accepted');
}

/** Opens a stream with this identity: 'welcome' or the refusal's status code. */
async function tryConnect(id: { keyPem: string; certPem: string }): Promise<'welcome' | grpc.status> {
  const s = openStream(mtls(id));
  s.call.write({ hello: { facts: FACTS, hostdVersion: '1', agentVersion: '1', agentStatus: 'healthy' } });
  const outcome = await Promise.race([s.next('welcome', (m) => m.kind === 'welcome').then(() => 'welcome' as const), s.status.then((st) => st.code)]);
  if (outcome === 'welcome') { s.call.end(); await s.status; }
  return outcome;
}

test('a known name with a new key is held; the token use is taken once; only that key collects after approval', async () => {
  const first = await enrolled('held-01');
  const node = gw.backend.nodes.get(first.nodeId)!;
  const oldFingerprint = node.fingerprint;
  const { keyPem, csrPem } = createKeyAndCsr('held-01');
  const token = gw.backend.addToken('held-tok', 1);

  const held = await enroll(anon(), { token, nodeName: 'held-01', csrPem });
  assert.ok(held.held);
  assert.is(held.certificatePem, '');
  assert.is(held.keyFingerprint, keyFingerprint(keyPem), 'the manager and hostd fingerprint the key alike');
  assert.match(held.heldMessage, /an operator must run `opsctl nodes approve held-01`/);
  assert.is(gw.backend.tokens.get('held-tok')!.uses, 0, 'holding took the token use');
  assert.is(node.fingerprint, oldFingerprint, 'the node keeps its certificate while the request waits');
  assert.is(await tryConnect(first), 'welcome');

  // The host asks again with the same key (its token is spent): still held, not refused.
  assert.ok((await enroll(anon(), { token, nodeName: 'held-01', csrPem })).held);

  gw.backend.approve('held-01');
  assert.is(await tryConnect(first), grpc.status.UNAUTHENTICATED, 'approval revokes the old certificate');
  // Another key cannot collect what was approved for this one, nor take its place, even with a fresh token.
  const intruder = createKeyAndCsr('held-01');
  const refused = await failure(enroll(anon(), { token: gw.backend.addToken('intruder-tok'), nodeName: 'held-01', csrPem: intruder.csrPem }));
  assert.is(refused.code, grpc.status.PERMISSION_DENIED);
  assert.match(refused.details, /approved request for another key waiting to be collected/);
  assert.is(gw.backend.tokens.get('intruder-tok')!.uses, 1);

  const collected = await enroll(anon(), { token, nodeName: 'held-01', csrPem });
  assert.not.ok(collected.held);
  assert.is(collected.nodeId, first.nodeId, 'same node: id and history kept');
  assert.ok(new X509Certificate(collected.certificatePem).checkPrivateKey(createPrivateKey(keyPem)));
  assert.is(node.pending, undefined, 'the pending request is collected');
  assert.is(await tryConnect({ keyPem, certPem: collected.certificatePem }), 'welcome');
});

test('a second different key while one is pending replaces it (and takes its own token use)', async () => {
  await enrolled('held-02');
  const a = createKeyAndCsr('held-02');
  const b = createKeyAndCsr('held-02');
  assert.ok((await enroll(anon(), { token: gw.backend.addToken('h2a'), nodeName: 'held-02', csrPem: a.csrPem })).held);
  assert.ok((await enroll(anon(), { token: gw.backend.addToken('h2b'), nodeName: 'held-02', csrPem: b.csrPem })).held);
  assert.is(gw.backend.byName('held-02')!.pending?.keyFingerprint, keyFingerprint(b.keyPem));
});

test('Renew: a certificate for the new key; the old one is accepted until the new one is presented, then refused', async () => {
  const id = await enrolled('renew-01');
  const node = gw.backend.nodes.get(id.nodeId)!;
  const newKey = createKeyAndCsr('renew-01');
  const res = await renew(mtls(id), newKey.csrPem);
  const cert = new X509Certificate(res.certificatePem);
  assert.ok(cert.checkPrivateKey(createPrivateKey(newKey.keyPem)));
  assert.is(res.caPem, gw.gateway.caPem());
  assert.match(cert.subjectAltName ?? '', new RegExp(id.nodeId));
  assert.is(node.fingerprint, fingerprintOfPem(res.certificatePem), 'the new fingerprint is recorded');

  // A crash before the new pair reached the disk: the host comes back with the old one.
  assert.is(await tryConnect(id), 'welcome');
  const renewed = { keyPem: newKey.keyPem, certPem: res.certificatePem };
  assert.is(await tryConnect(renewed), 'welcome');
  assert.is(await tryConnect(id), grpc.status.UNAUTHENTICATED, 'the old certificate is refused once the new one was used');
  const again = await failure(renew(mtls(id), createKeyAndCsr('renew-01').csrPem));
  assert.is(again.code, grpc.status.UNAUTHENTICATED);
});

test('Renew with a garbage CSR → INVALID_ARGUMENT and nothing changes', async () => {
  const id = await enrolled('renew-02');
  const before = gw.backend.nodes.get(id.nodeId)!.fingerprint;
  for (const csrPem of ['', 'not a csr', '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n']) {
    const err = await failure(renew(mtls(id), csrPem));
    assert.is(err.code, grpc.status.INVALID_ARGUMENT, csrPem);
    assert.match(err.details, /malformed CSR/);
  }
  assert.is(gw.backend.nodes.get(id.nodeId)!.fingerprint, before);
  assert.is(await tryConnect(id), 'welcome');
});

test('Renew from a revoked (deleted) node, without a certificate, or with an expired one → refused', async () => {
  const id = await enrolled('renew-03');
  gw.backend.nodes.get(id.nodeId)!.revoked = true;
  const revoked = await failure(renew(mtls(id), createKeyAndCsr('renew-03').csrPem));
  assert.is(revoked.code, grpc.status.UNAUTHENTICATED);
  assert.match(revoked.details, /is not accepted/);

  const none = await failure(renew(anon(), createKeyAndCsr('x').csrPem));
  assert.is(none.code, grpc.status.UNAUTHENTICATED);

  // A certificate that expired: signed by our CA for a real node, but out of date.
  const live = await enrolled('renew-04');
  const pki = (gw.gateway as unknown as { loadPki(): { signNodeCsr(csr: string, name: string, id: string, days: number): { certificatePem: string } } }).loadPki();
  const key = createKeyAndCsr('renew-04');
  const expiredPem = pki.signNodeCsr(csrFor(key.keyPem, 'renew-04'), 'renew-04', live.nodeId, -1).certificatePem;
  const expired = await failure(renew(mtls({ keyPem: key.keyPem, certPem: expiredPem }), createKeyAndCsr('renew-04').csrPem));
  assert.is(expired.code, grpc.status.UNAUTHENTICATED);
  assert.match(expired.details, /an expired certificate cannot renew: enroll again/, expired.details);
});

test.run();
