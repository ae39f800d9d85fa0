// How hostd comes to trust the manager before it has an identity: a CA file, or the SHA-256 of
// the CA certificate (printed by `opsctl nodes token create`). With a hash, the manager's chain is
// read over a TLS connection that verifies nothing, *only* to find the certificate whose hash
// matches; everything after that verifies against that certificate.
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { DetailedPeerCertificate } from 'node:tls';
import { formatHostPort, type HostPort } from '../lib/host-port.js';
import { nodeTls } from './node-tls.js';

export class TrustError extends Error {
  constructor(message: string) { super(message); this.name = 'TrustError'; }
}

export function normalizeHash(hash: string): string {
  return hash.replace(/:/g, '').trim().toLowerCase();
}

export function derToPem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').trimEnd();
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

function sha256Hex(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex');
}

/** The DER certificates the server presented, leaf first. */
export function fetchPeerChain(target: HostPort, timeoutMs = 10_000): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const socket = nodeTls.connect({
      host: target.host, port: target.port,
      servername: isIP(target.host) ? undefined : target.host,
      rejectUnauthorized: false, ALPNProtocols: ['h2'], minVersion: 'TLSv1.3',
    });
    const timer = setTimeout(() => socket.destroy(new Error(`no TLS handshake within ${timeoutMs / 1000} s`)), timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const chain: Buffer[] = [];
      const seen = new Set<string>();
      let cert: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
      while (cert && cert.raw && !seen.has(cert.fingerprint256)) {
        seen.add(cert.fingerprint256);
        chain.push(cert.raw);
        cert = cert.issuerCertificate;
      }
      socket.destroy();
      resolve(chain);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(new TrustError(`reading the manager's certificate chain from ${formatHostPort(target)}: ${err.message}`));
    });
  });
}

/** The manager's CA certificate (PEM) whose SHA-256 is `hash`; refuses when the server has none. */
export async function fetchCaByHash(target: HostPort, hash: string): Promise<string> {
  const want = normalizeHash(hash);
  const chain = await fetchPeerChain(target);
  const match = chain.find((der) => sha256Hex(der) === want);
  if (!match) {
    throw new TrustError(`the manager at ${formatHostPort(target)} presented no CA certificate with SHA-256 ${want}; refusing to trust it (check --ca-hash)`);
  }
  const ca = new X509Certificate(match);
  if (!ca.ca) throw new TrustError(`the certificate with SHA-256 ${want} is not a CA certificate; refusing to trust it`);
  return derToPem(match);
}

/** Reads a CA file; with a hash as well, the file must match it. */
export function readCaFile(file: string, expectedHash?: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw new TrustError(`reading the CA file ${file}: ${(err as Error).message}`);
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (err) {
    throw new TrustError(`the CA file ${file} holds no PEM certificate: ${(err as Error).message}`);
  }
  if (expectedHash && sha256Hex(cert.raw) !== normalizeHash(expectedHash)) {
    throw new TrustError(`the CA file ${file} does not match --ca-hash ${normalizeHash(expectedHash)}`);
  }
  return pem;
}

export function caHashOfPem(pem: string): string {
  return sha256Hex(new X509Certificate(pem).raw);
}
