// The manager's own certificate authority for the host link, kept in `pkiDir`:
//   ca.key (0600) + ca.crt      created on first start, never replaced automatically
//   server.key (0600) + server.crt   the gRPC port's key pair, reissued only when its names change,
//                                    it nears expiry or the CA changed
// Node certificates are signed from CSRs; the private keys of hosts never reach the manager.
import { createHash, createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../../lib/atomic-write.js';
import { hostOnly } from '../../lib/host-port.js';
import {
  createCaCertificate, generateRsaKeyPair, issueNodeCertificate, issueServerCertificate, parseCsr,
  type CheckedCsr, type IssuedLeaf, type Issuer,
} from './x509.js';

const CA_DAYS = 3650;
const SERVER_CERT_DAYS = 730;
/** Reissue the server certificate when it has less than this left. */
const SERVER_RENEW_DAYS = 30;

export type { CheckedCsr };

export interface PkiOptions {
  pkiDir: string;
  /** Extra name or address of the gRPC port; `host:port` and `[v6]:port` forms are accepted. */
  advertiseHost: string;
}

export class ManagerPki {
  readonly caCertPem: string;
  private readonly caKeyPem: string;
  readonly serverKeyPem: string;
  readonly serverCertPem: string;
  private readonly caX509: X509Certificate;
  private readonly caHashHex: string;

  private constructor(caCertPem: string, caKeyPem: string, serverKeyPem: string, serverCertPem: string) {
    this.caCertPem = caCertPem;
    this.caKeyPem = caKeyPem;
    this.serverKeyPem = serverKeyPem;
    this.serverCertPem = serverCertPem;
    this.caX509 = new X509Certificate(caCertPem);
    this.caHashHex = createHash('sha256').update(this.caX509.raw).digest('hex');
  }

  /** Loads the CA and server key pair from `pkiDir`, creating what is missing. */
  static loadOrCreate(opts: PkiOptions): ManagerPki {
    const dir = opts.pkiDir;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new Error(`creating the PKI directory ${dir}: ${(err as Error).message}`, { cause: err });
    }
    const caKeyPath = join(dir, 'ca.key');
    const caCertPath = join(dir, 'ca.crt');
    let caKeyPem: string;
    let caCertPem: string;
    if (existsSync(caCertPath) || existsSync(caKeyPath)) {
      try {
        caKeyPem = readFileSync(caKeyPath, 'utf8');
        caCertPem = readFileSync(caCertPath, 'utf8');
      } catch (err) {
        throw new Error(`reading the host-link CA in ${dir} (ca.key and ca.crt must both exist): ${(err as Error).message}`, { cause: err });
      }
    } else {
      // Certificates too are 0600: everything in the data directory is the manager's alone.
      const keys = generateRsaKeyPair();
      caKeyPem = keys.privateKeyPem;
      caCertPem = createCaCertificate(keys, `opsctl host-link CA (${hostname()})`, CA_DAYS);
      writeFileAtomicSync(caKeyPath, caKeyPem, 0o600);
      writeFileAtomicSync(caCertPath, caCertPem, 0o600);
    }

    const issuer: Issuer = { caCertPem, caKeyPem };
    const hosts = ['localhost', '127.0.0.1', '::1', hostname(), hostOnly(opts.advertiseHost)].filter(Boolean);
    const serverKeyPath = join(dir, 'server.key');
    const serverCertPath = join(dir, 'server.crt');
    let serverKeyPem = existsSync(serverKeyPath) ? readFileSync(serverKeyPath, 'utf8') : '';
    let serverCertPem = existsSync(serverCertPath) ? readFileSync(serverCertPath, 'utf8') : '';
    if (!serverKeyPem) {
      // ECDSA P-256: the server signs every TLS handshake, 0.07 ms with it against 1.2 ms with
      // RSA 2048 — a fleet reconnecting at once is a handshake per host. (An RSA key from an
      // older data directory keeps working.)
      serverKeyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      writeFileAtomicSync(serverKeyPath, serverKeyPem, 0o600);
      serverCertPem = '';
    }
    if (!serverCertPem || !serverCertStillGood(serverCertPem, caCertPem, hosts)) {
      const publicKeyPem = createPublicKey(serverKeyPem).export({ type: 'spki', format: 'pem' }).toString();
      serverCertPem = issueServerCertificate(issuer, publicKeyPem, hosts, SERVER_CERT_DAYS).certificatePem;
      writeFileAtomicSync(serverCertPath, serverCertPem, 0o600);
    }
    return new ManagerPki(caCertPem, caKeyPem, serverKeyPem, serverCertPem);
  }

  /** sha256 of the CA certificate's DER, lowercase hex (what `hostd --ca-hash` takes). */
  caHash(): string { return this.caHashHex; }

  get caCertificate(): X509Certificate { return this.caX509; }

  /** The chain the gRPC port presents: its own certificate, then the CA (so --ca-hash can find it). */
  serverChainPem(): string {
    return this.serverCertPem.trimEnd() + '\n' + this.caCertPem.trimEnd() + '\n';
  }

  /** Checks a node's CSR without signing it: the fingerprint of its key; throws InvalidCsrError. */
  checkNodeCsr(csrPem: string): CheckedCsr {
    return parseCsr(csrPem);
  }

  /** Signs a node's CSR (its PEM, or one checkNodeCsr checked); throws InvalidCsrError for a bad request. */
  signNodeCsr(request: string | CheckedCsr, nodeName: string, nodeId: string, days: number): IssuedLeaf {
    const checked = typeof request === 'string' ? this.checkNodeCsr(request) : request;
    return issueNodeCertificate({ caCertPem: this.caCertPem, caKeyPem: this.caKeyPem }, checked, nodeName, nodeId, days);
  }
}

function serverCertStillGood(certPem: string, caCertPem: string, hosts: string[]): boolean {
  try {
    const cert = new X509Certificate(certPem);
    const ca = new X509Certificate(caCertPem);
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return false;
    if (Date.parse(cert.validTo) - Date.now() < SERVER_RENEW_DAYS * 86_400_000) return false;
    return hosts.every((h) => (isIP(h) ? cert.checkIP(h) !== undefined : cert.checkHost(h, { wildcards: false }) !== undefined));
  } catch {
    return false;
  }
}
