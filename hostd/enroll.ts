// First start: trade the enrollment token for a client certificate. The key is generated here
// and only its CSR leaves the host.
import * as grpc from '@grpc/grpc-js';
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { parseHostPort } from '../lib/host-port.js';
import type { Logger } from '../lib/log.js';
import type { EnrollResponse__Output } from '../proto/hostlink.js';
import type { HostdConfig } from './config.js';
import { createHostLinkClient } from './grpc-client.js';
import { readIdentity, saveIdentity, type NodeIdentity } from './identity.js';
import { caHashOfPem, fetchCaByHash, readCaFile, TrustError } from './trust.js';

/** Enrollment cannot go on; the message is what the operator sees on stderr. */
export class EnrollError extends Error {
  constructor(message: string) { super(message); this.name = 'EnrollError'; }
}

const ENROLL_DEADLINE_MS = 20_000;

export function createKeyAndCsr(nodeName: string): { keyPem: string; csrPem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.rsa.setPublicKey(forgeKey.n, forgeKey.e);
  csr.setSubject([{ name: 'commonName', value: nodeName }]);
  csr.sign(forgeKey, forge.md.sha256.create());
  return { keyPem, csrPem: forge.pki.certificationRequestToPem(csr) };
}

/** The CA to trust for enrollment: --ca-file (checked against --ca-hash when both), else --ca-hash. */
async function trustedCa(cfg: HostdConfig): Promise<string> {
  if (cfg.manager.caFile) return readCaFile(cfg.manager.caFile, cfg.manager.caHash || undefined);
  if (cfg.manager.caHash) return fetchCaByHash(parseHostPort(cfg.manager.address, 'manager.address'), cfg.manager.caHash);
  throw new EnrollError("cannot enroll without trusting the manager: pass --ca-hash SHA256HEX (printed by 'opsctl nodes token create') or --ca-file FILE");
}

function callEnroll(address: string, caPem: string, request: { token: string; nodeName: string; csrPem: string }): Promise<EnrollResponse__Output> {
  const client = createHostLinkClient(address, { caPem });
  return new Promise<EnrollResponse__Output>((resolve, reject) => {
    client.Enroll(request, { deadline: Date.now() + ENROLL_DEADLINE_MS }, (err, res) => {
      client.close();
      if (err) reject(err);
      else resolve(res!);
    });
  });
}

function explain(err: grpc.ServiceError, address: string): EnrollError {
  switch (err.code) {
    case grpc.status.PERMISSION_DENIED:
    case grpc.status.UNAUTHENTICATED:
    case grpc.status.INVALID_ARGUMENT:
    case grpc.status.ALREADY_EXISTS:
      return new EnrollError(`enrollment refused: ${err.details}`);
    case grpc.status.UNAVAILABLE:
    case grpc.status.DEADLINE_EXCEEDED:
      return new EnrollError(`cannot reach the manager at ${address}: ${err.details}`);
    default:
      return new EnrollError(`enrollment failed: ${err.details || err.message}`);
  }
}

/** The identity in dataDir, enrolling first when there is none (which needs a token). */
export async function ensureIdentity(cfg: HostdConfig, log: Logger): Promise<NodeIdentity> {
  const existing = readIdentity(cfg.dataDir);
  if (existing) {
    if (cfg.enroll.token) log.info({ nodeId: existing.nodeId }, 'already enrolled; ignoring the enrollment token');
    return existing;
  }
  if (!cfg.enroll.token) throw new EnrollError('not enrolled: pass --token');
  if (!cfg.manager.address) throw new EnrollError('not enrolled: pass --manager HOST:PORT with --token');

  let caPem: string;
  try {
    caPem = await trustedCa(cfg);
  } catch (err) {
    if (err instanceof TrustError || err instanceof EnrollError) throw new EnrollError(err.message);
    throw err;
  }
  const { keyPem, csrPem } = createKeyAndCsr(cfg.node.name);
  log.info({ manager: cfg.manager.address, nodeName: cfg.node.name }, 'enrolling');
  let res: EnrollResponse__Output;
  try {
    res = await callEnroll(cfg.manager.address, caPem, { token: cfg.enroll.token, nodeName: cfg.node.name, csrPem });
  } catch (err) {
    throw explain(err as grpc.ServiceError, cfg.manager.address);
  }

  if (res.caPem && caHashOfPem(res.caPem) !== caHashOfPem(caPem)) {
    throw new EnrollError('the manager answered with a CA other than the one trusted; refusing the certificate');
  }
  const cert = new X509Certificate(res.certificatePem);
  if (!cert.checkPrivateKey(createPrivateKey(keyPem))) throw new EnrollError('the manager issued a certificate for a different key');
  if (!cert.verify(new X509Certificate(caPem).publicKey)) throw new EnrollError('the issued certificate is not signed by the trusted CA');

  const identity: NodeIdentity = {
    nodeId: res.nodeId, nodeName: cfg.node.name, managerAddress: cfg.manager.address,
    enrolledAt: new Date().toISOString(), keyPem, certPem: res.certificatePem, caPem,
  };
  saveIdentity(cfg.dataDir, identity);
  log.info({ nodeId: identity.nodeId, nodeName: identity.nodeName }, 'enrolled');
  return identity;
}
