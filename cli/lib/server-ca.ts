// What CA an HTTPS manager presents, read from a TLS handshake that does not verify (only to be
// shown, compared and pinned; nothing is sent on it). node:tls is loaded here, on demand, so
// commands that never meet a new CA do not pay for it.
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { caFingerprint } from '../../proto/ca-fingerprint.js';
import { networkReason } from './network-errors.js';
import { UnreachableError } from './errors.js';

const PROBE_TIMEOUT_MS = 10_000;

export interface PresentedCa {
  /** The self-signed certificate at the top of the chain the manager sent (its CA, or a lone self-signed certificate); undefined when it sent none. */
  der?: Buffer;
  fingerprint?: string;
  subject?: string;
  /** The chain verifies against the system's CAs (a publicly trusted certificate): no pin needed. */
  systemTrusted: boolean;
}

function selfSigned(cert: X509Certificate): boolean {
  try {
    return cert.checkIssued(cert) && cert.verify(cert.publicKey);
  } catch {
    return false;
  }
}

export async function presentedCa(server: string): Promise<PresentedCa> {
  const url = new URL(server);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 443);
  const { connect } = await import('node:tls');
  return new Promise<PresentedCa>((resolve, reject) => {
    const socket = connect({ host, port, servername: isIP(host) ? undefined : host, rejectUnauthorized: false, timeout: PROBE_TIMEOUT_MS });
    const fail = (err: unknown) => { socket.destroy(); reject(new UnreachableError(server, networkReason(err))); };
    socket.once('error', fail);
    socket.once('timeout', () => fail(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    socket.once('secureConnect', () => {
      const chain: X509Certificate[] = [];
      // The certificates the manager sent, leaf first; the last one points at itself.
      for (let c = socket.getPeerCertificate(true); c?.raw && chain.length < 10; c = c.issuerCertificate) {
        chain.push(new X509Certificate(c.raw));
        if (c.issuerCertificate === c) break;
      }
      const top = chain[chain.length - 1];
      const systemTrusted = socket.authorized;
      socket.end();
      if (!top || !selfSigned(top)) { resolve({ systemTrusted }); return; }
      resolve({ der: top.raw, fingerprint: caFingerprint(top.raw), subject: top.subject.replace(/\n/g, ', '), systemTrusted });
    });
  });
}
