// End to end: a manager issuing 40-second certificates; the real hostd renews before expiry (new
// key pair, over its current mTLS certificate), stays connected across the old certificate's
// expiry, and the old certificate is refused once the new one is in use.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as grpc from '../../hostd/grpc-h2-client.js';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { createHostLinkClient } from '../../hostd/grpc-client.js';
import type { NodeDetail } from '../../proto/rest/nodes.js';
import { freePorts } from '../helpers/ports.js';
import { pollUntil as until } from '../helpers/poll.js';

const NAME = 'renewal-node';
const dataDir = mkdtempSync(join(tmpdir(), 'ops-e2e-renewal-'));
const hostdDir = join(dataDir, 'hostd');
let stack: LocalStack;

test.before(async () => {
  const [httpPort, grpcPort, agentPort] = await freePorts(3);
  stack = await startLocalStack({
    dataDir, httpPort, grpcPort, agentPort, nodeName: NAME,
    env: { OPS_HOSTLINK_CERTIFICATE_DAYS: String(40 / 86_400), OPS_HOSTLINK_HEARTBEAT_SECONDS: '2', OPS_HOSTLINK_OFFLINE_AFTER_SECONDS: '8' },
  });
});

test.after(async () => {
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Renew with a garbage CSR: harmless either way; the status says whether the certificate is still accepted. */
function probe(keyPem: string, certPem: string, caPem: string): Promise<grpc.ServiceError> {
  const client = createHostLinkClient(stack.grpcAddress, { caPem, keyPem, certPem });
  return new Promise((resolve) => {
    client.Renew({ csrPem: 'garbage' }, { deadline: Date.now() + 10_000 }, (err) => { client.close(); resolve(err as grpc.ServiceError); });
  });
}

test('hostd renews before expiry, stays connected past the old expiry, and the old certificate is refused', async () => {
  const caPem = readFileSync(join(hostdDir, 'ca.crt'), 'utf8');
  const oldKey = readFileSync(join(hostdDir, 'node.key'), 'utf8');
  const oldCert = readFileSync(join(hostdDir, 'node.crt'), 'utf8');
  const oldExpiry = Date.parse(new X509Certificate(oldCert).validTo);
  const first = (await probe(oldKey, oldCert, caPem));
  assert.is(first.code, grpc.status.INVALID_ARGUMENT, 'before renewal the certificate is accepted (the CSR is not)');

  const newCert = await until('node.crt to be replaced', () => {
    const now = readFileSync(join(hostdDir, 'node.crt'), 'utf8');
    return now !== oldCert ? now : undefined;
  });
  assert.ok(Date.now() < oldExpiry, 'renewed before the old certificate expired');
  assert.is.not(readFileSync(join(hostdDir, 'node.key'), 'utf8'), oldKey, 'a new key pair');
  assert.ok(new X509Certificate(newCert).checkPrivateKey(createPrivateKey(readFileSync(join(hostdDir, 'node.key'), 'utf8'))));

  // Once hostd reconnected with the new certificate, the old one is refused by fingerprint (not for being out of date).
  const refused = await until('the old certificate to be refused', async () => {
    const err = await probe(oldKey, oldCert, caPem);
    return err.code === grpc.status.UNAUTHENTICATED ? err : undefined;
  }, 30_000);
  assert.match(refused.details, /is not accepted/);
  const current = await probe(readFileSync(join(hostdDir, 'node.key'), 'utf8'), readFileSync(join(hostdDir, 'node.crt'), 'utf8'), caPem);
  assert.is(current.code, grpc.status.INVALID_ARGUMENT, 'the manager holds the new fingerprint');

  await until('the old certificate\'s expiry to pass', () => Date.now() > oldExpiry + 3000 || undefined, 60_000);
  const node = await until('the node online after the old expiry', async () => {
    const n = (await api<NodeDetail>(stack.httpUrl, stack.token, 'GET', `/nodes/${NAME}`)).body.data;
    return n.status === 'online' && n.lastSeenAt && Date.parse(n.lastSeenAt) > oldExpiry ? n : undefined;
  }, 20_000);
  assert.ok(Date.parse(node.certificateExpiresAt!) > oldExpiry, 'the manager recorded the renewed certificate');
  const log = readFileSync(join(stack.logDir, 'hostd.log'), 'utf8');
  assert.match(log, /client certificate renewed/);
  assert.not.match(log, /refused this host's certificate/);
});

test.run();
