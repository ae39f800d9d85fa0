// First start: trade the enrollment token for a client certificate. The key is generated here
// and only its CSR leaves the host. When the name is already enrolled with another key (a
// re-installed host), the manager holds the request for an operator: hostd logs its key's
// fingerprint once ("waiting for approval") and asks again with the same key, backing off up to
// 30 s, until `opsctl nodes approve NAME` lets it collect its certificate (or deny drops it).
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { parseHostPort } from '../lib/host-port.js';
import type { Logger } from '../lib/log.js';
import type { EnrollResponse__Output } from '../proto/hostlink.js';
import type { HostdConfig } from './config.js';
import { createHostLinkClient } from './grpc-client.js';
import { status, type ServiceError } from './grpc-h2-client.js';
import { keyFingerprint } from '../proto/key-fingerprint.js';
import { Backoff } from './backoff.js';
import { csrFor } from './csr.js';
import { enrollmentKey, forgetEnrollmentKey, readIdentity, saveIdentity, type NodeIdentity } from './identity.js';
import { caHashOfPem, fetchCaByHash, readCaFile, TrustError } from './trust.js';

/** Enrollment cannot go on; the message is what the operator sees on stderr. */
export class EnrollError extends Error {
  constructor(message: string) { super(message); this.name = 'EnrollError'; }
}

/**
 * One Enroll's deadline. Long: in an enrollment storm requests queue on the manager, and a request
 * given up on may still have been granted there, so the retry (same name, same key) finds the name
 * taken and waits for an operator.
 */
const ENROLL_DEADLINE_MS = 60_000;

/** Waiting for approval: retries back off from 1 s to this. */
const HELD_RETRY_MAX_MS = 30_000;

export function createKey(): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
}

export function createKeyAndCsr(nodeName: string): { keyPem: string; csrPem: string } {
  const keyPem = createKey();
  return { keyPem, csrPem: csrFor(keyPem, nodeName) };
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

function explain(err: ServiceError, address: string, wasHeld: boolean): EnrollError {
  switch (err.code) {
    case status.PERMISSION_DENIED:
    case status.UNAUTHENTICATED:
    case status.INVALID_ARGUMENT:
    case status.ALREADY_EXISTS:
      // A denied request is forgotten by the manager: the retry is then a new request with a used token.
      return new EnrollError(`enrollment refused${wasHeld ? ' after waiting for approval (was the request denied?)' : ''}: ${err.details}`);
    case status.UNAVAILABLE:
    case status.DEADLINE_EXCEEDED:
      return new EnrollError(`cannot reach the manager at ${address}: ${err.details}`);
    default:
      return new EnrollError(`enrollment failed: ${err.details || err.message}`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
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
  const keyPem = enrollmentKey(cfg.dataDir, createKey);
  const csrPem = csrFor(keyPem, cfg.node.name);
  log.info({ manager: cfg.manager.address, nodeName: cfg.node.name }, 'enrolling');
  const backoff = new Backoff(1000, HELD_RETRY_MAX_MS);
  let held = false;
  let res: EnrollResponse__Output;
  for (;;) {
    try {
      res = await callEnroll(cfg.manager.address, caPem, { token: cfg.enroll.token, nodeName: cfg.node.name, csrPem });
    } catch (err) {
      const e = err as ServiceError;
      // Once held, the request lives on the manager: a manager restart must not make us give up.
      if (held && (e.code === status.UNAVAILABLE || e.code === status.DEADLINE_EXCEEDED)) {
        await sleep(backoff.next());
        continue;
      }
      throw explain(e, cfg.manager.address, held);
    }
    if (!res.held) break;
    if (!held) {
      log.info({ nodeName: cfg.node.name, keyFingerprint: keyFingerprint(keyPem), manager: cfg.manager.address, reason: res.heldMessage },
        `waiting for approval: an operator must run opsctl nodes approve ${cfg.node.name} (compare the key fingerprint)`);
      held = true;
    }
    await sleep(backoff.next());
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
  forgetEnrollmentKey(cfg.dataDir);
  log.info({ nodeId: identity.nodeId, nodeName: identity.nodeName, keyFingerprint: keyFingerprint(keyPem) }, held ? 'enrolled: approved by an operator' : 'enrolled');
  return identity;
}
