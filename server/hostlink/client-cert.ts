// Checks the client certificate a Connect stream presented. The TLS layer only *requests* a
// certificate (Enroll must work without one), so every Connect call proves itself here: present,
// signed by our CA, in date, naming a node id. Whether it is that node's *current* certificate is
// the backend's call (revocation lives in the database).
import { createHash, X509Certificate } from 'node:crypto';
import { NODE_ID_URI_PREFIX } from './x509.js';

export type ClientCertCheck =
  | { ok: true; nodeId: string; fingerprint: string; commonName: string }
  | { ok: false; reason: string };

/** The node id in a `URI:urn:opsctl:node:<id>` subjectAltName entry. */
export function nodeIdFromSubjectAltName(san: string | undefined): string | undefined {
  if (!san) return undefined;
  for (const entry of san.split(/,\s*/)) {
    if (entry.startsWith('URI:' + NODE_ID_URI_PREFIX)) {
      const id = entry.slice(('URI:' + NODE_ID_URI_PREFIX).length).trim();
      if (id) return id;
    }
  }
  return undefined;
}

export function checkClientCertificate(der: Buffer | undefined, ca: X509Certificate, nowMs = Date.now()): ClientCertCheck {
  if (!der || der.length === 0) {
    return { ok: false, reason: 'no valid client certificate: connect with the certificate issued at enrollment (one signed by this manager\'s CA)' };
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch (err) {
    return { ok: false, reason: `client certificate cannot be parsed: ${(err as Error).message}` };
  }
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) {
    return { ok: false, reason: 'client certificate was not issued by this manager\'s CA' };
  }
  if (nowMs < Date.parse(cert.validFrom)) return { ok: false, reason: `client certificate is not valid before ${cert.validFrom}` };
  if (nowMs > Date.parse(cert.validTo)) return { ok: false, reason: `client certificate expired on ${cert.validTo}` };
  const nodeId = nodeIdFromSubjectAltName(cert.subjectAltName);
  if (!nodeId) return { ok: false, reason: 'client certificate carries no node id (URI SAN urn:opsctl:node:<id>)' };
  const commonName = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1] ?? '';
  return { ok: true, nodeId, fingerprint: createHash('sha256').update(der).digest('hex'), commonName };
}
