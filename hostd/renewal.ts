// Renews the node's client certificate before it expires: once less than a third of its lifetime
// is left (a fixed rule, minus a little jitter so hosts enrolled together do not renew together),
// hostd makes a NEW key pair and calls Renew over mTLS with its current certificate. The new pair
// is written to disk whole (identity.ts saveRenewedPair), then the link reconnects with it.
// Checked at start, then at the renewal time, and at least hourly (a clock jump, a suspended VM).
// A failed renewal is retried every tenth of what is left (1 s to 1 min); an expired certificate
// cannot renew: the host enrolls again and an operator approves it.
import { X509Certificate } from 'node:crypto';
import type { Logger } from '../lib/log.js';
import type { Subsystem } from '../lib/run-group.js';
import { keyFingerprint } from '../proto/key-fingerprint.js';
import type { RenewResponse__Output } from '../proto/hostlink.js';
import { csrFor } from './csr.js';
import { createKey } from './enroll.js';
import { createHostLinkClient } from './grpc-client.js';
import { status } from './grpc-h2-client.js';
import { pairMatches, saveRenewedPair, type NodeIdentity } from './identity.js';

/** Renew when less than this part of the lifetime is left. */
export const RENEW_WHEN_LEFT = 1 / 3;
const MAX_CHECK_MS = 3_600_000;
const RENEW_DEADLINE_MS = 20_000;

export interface RenewalOptions {
  address: string;
  dataDir: string;
  identity: NodeIdentity;
  /** Called with the renewed identity once it is on disk. */
  onRenewed: (identity: NodeIdentity) => void;
  log: Logger;
  random?: () => number;
}

/** When to renew a certificate: a third of its lifetime before it expires, minus up to a twelfth as jitter. */
export function renewalTime(certPem: string, random: () => number = Math.random): { renewAt: number; notAfter: number } {
  const cert = new X509Certificate(certPem);
  const notBefore = Date.parse(cert.validFrom);
  const notAfter = Date.parse(cert.validTo);
  const lifetime = Math.max(0, notAfter - notBefore);
  return { renewAt: notAfter - lifetime * RENEW_WHEN_LEFT - random() * lifetime / 12, notAfter };
}

export class CertificateRenewer implements Subsystem {
  readonly name = 'certificate renewal';
  private identity: NodeIdentity;
  private timer?: NodeJS.Timeout;
  private stopped = true;
  private renewAt = 0;
  private notAfter = 0;
  private busy = false;

  constructor(private readonly opts: RenewalOptions) {
    this.identity = opts.identity;
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.plan();
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private plan(): void {
    ({ renewAt: this.renewAt, notAfter: this.notAfter } = renewalTime(this.identity.certPem, this.opts.random));
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.check(), Math.max(0, Math.min(delayMs, MAX_CHECK_MS)));
    this.timer.unref();
  }

  private async check(): Promise<void> {
    if (this.stopped || this.busy) return;
    const now = Date.now();
    if (now >= this.notAfter) {
      this.opts.log.error({ expired: new Date(this.notAfter).toISOString() },
        'the client certificate has expired and cannot be renewed: enroll again with a new token (opsctl nodes token create) and have an operator run opsctl nodes approve');
      return;
    }
    if (now < this.renewAt) return this.schedule(this.renewAt - now);
    this.busy = true;
    try {
      await this.renew();
      this.schedule(this.renewAt - Date.now());
    } catch (err) {
      const retryMs = Math.min(60_000, Math.max(1000, (this.notAfter - Date.now()) / 10));
      this.opts.log.warn({ err: (err as Error).message, retryInMs: retryMs, expires: new Date(this.notAfter).toISOString() }, 'renewing the client certificate failed');
      this.schedule(retryMs);
    } finally {
      this.busy = false;
    }
  }

  private async renew(): Promise<void> {
    const old = this.identity;
    const keyPem = createKey();
    const csrPem = csrFor(keyPem, old.nodeName);
    const res = await callRenew(this.opts.address, old, csrPem);
    if (!pairMatches(keyPem, res.certificatePem)) throw new Error('the manager issued a certificate for a different key');
    const cert = new X509Certificate(res.certificatePem);
    if (!cert.verify(new X509Certificate(old.caPem).publicKey)) throw new Error('the renewed certificate is not signed by the trusted CA');
    saveRenewedPair(this.opts.dataDir, keyPem, res.certificatePem);
    this.identity = { ...old, keyPem, certPem: res.certificatePem };
    this.plan();
    this.opts.log.info({ expires: cert.validTo, keyFingerprint: keyFingerprint(keyPem) }, 'client certificate renewed');
    this.opts.onRenewed(this.identity);
  }
}

function callRenew(address: string, identity: NodeIdentity, csrPem: string): Promise<RenewResponse__Output> {
  const client = createHostLinkClient(address, { caPem: identity.caPem, keyPem: identity.keyPem, certPem: identity.certPem });
  return new Promise((resolve, reject) => {
    client.Renew({ csrPem }, { deadline: Date.now() + RENEW_DEADLINE_MS }, (err, res) => {
      client.close();
      if (err) reject(new Error(`${status[err.code] ?? err.code}: ${err.details || err.message}`));
      else resolve(res!);
    });
  });
}
