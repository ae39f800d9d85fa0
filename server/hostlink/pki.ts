// The manager's own certificate authority for the host link, kept in `pkiDir`:
//   ca.key (0600) + ca.crt      created on first start, never replaced automatically
//   server.key (0600) + server.crt   the gRPC port's key pair, reissued only when its names change,
//                                    it nears expiry or the CA changed
//   https.key (0600) + https.crt     the REST API's key pair (server/http/https.ts), issued the same
//                                    way, unless the operator gives http.tlsCert/http.tlsKey
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
    const issuer = loadOrCreateCa(opts.pkiDir);
    const hosts = ['localhost', '127.0.0.1', '::1', hostname(), hostOnly(opts.advertiseHost)];
    const server = loadOrIssueServerPair(opts.pkiDir, 'server', issuer, hosts, 'opsctl manager host link');
    return new ManagerPki(issuer.caCertPem, issuer.caKeyPem, server.keyPem, server.certPem);
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

/** The CA in `dir` (ca.key + ca.crt), created on first use; never replaced automatically. */
export function loadOrCreateCa(dir: string): Issuer {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new Error(`creating the PKI directory ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const caKeyPath = join(dir, 'ca.key');
  const caCertPath = join(dir, 'ca.crt');
  if (existsSync(caCertPath) || existsSync(caKeyPath)) {
    try {
      return { caKeyPem: readFileSync(caKeyPath, 'utf8'), caCertPem: readFileSync(caCertPath, 'utf8') };
    } catch (err) {
      throw new Error(`reading the host-link CA in ${dir} (ca.key and ca.crt must both exist): ${(err as Error).message}`, { cause: err });
    }
  }
  // Certificates too are 0600: everything in the data directory is the manager's alone.
  const keys = generateRsaKeyPair();
  const caCertPem = createCaCertificate(keys, `opsctl host-link CA (${hostname()})`, CA_DAYS);
  writeFileAtomicSync(caKeyPath, keys.privateKeyPem, 0o600);
  writeFileAtomicSync(caCertPath, caCertPem, 0o600);
  return { caKeyPem: keys.privateKeyPem, caCertPem };
}

export interface ServerPair { keyPem: string; certPem: string }

/**
 * `<dir>/<name>.key` + `<name>.crt`: a server key pair issued by the CA for `hosts` (names and
 * addresses). The key is kept; the certificate is reissued when a host is missing from it, it
 * nears expiry or the CA changed.
 */
export function loadOrIssueServerPair(dir: string, name: string, issuer: Issuer, hosts: string[], commonName: string): ServerPair {
  const wanted = [...new Set(hosts.filter(Boolean))];
  const keyPath = join(dir, `${name}.key`);
  const certPath = join(dir, `${name}.crt`);
  let keyPem = existsSync(keyPath) ? readFileSync(keyPath, 'utf8') : '';
  let certPem = existsSync(certPath) ? readFileSync(certPath, 'utf8') : '';
  if (!keyPem) {
    // ECDSA P-256: the server signs every TLS handshake, 0.07 ms with it against 1.2 ms with
    // RSA 2048 — a fleet reconnecting at once is a handshake per host. (An RSA key from an
    // older data directory keeps working.)
    keyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    writeFileAtomicSync(keyPath, keyPem, 0o600);
    certPem = '';
  }
  if (!certPem || !serverCertStillGood(certPem, issuer.caCertPem, wanted)) {
    const publicKeyPem = createPublicKey(keyPem).export({ type: 'spki', format: 'pem' }).toString();
    certPem = issueServerCertificate(issuer, publicKeyPem, wanted, SERVER_CERT_DAYS, commonName).certificatePem;
    writeFileAtomicSync(certPath, certPem, 0o600);
  }
  return { keyPem, certPem };
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
