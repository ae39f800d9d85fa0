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

/** What a certificate that passed the CA check says, by its fingerprint: valid dates and node. */
interface Checked { nodeId: string; commonName: string; validFromMs: number; validToMs: number; validFrom: string; validTo: string }

/**
 * Certificates already checked against the CA, by fingerprint and CA. A fleet reconnecting at once
 * presents thousands of known certificates; parsing and verifying each again cost 0.4 ms a host.
 * Dates are still checked every time; whether the node still accepts it is the backend's call.
 */
const checkedCertificates = new WeakMap<X509Certificate, Map<string, Checked>>();
const MAX_CHECKED = 50_000;

export function checkClientCertificate(der: Buffer | undefined, ca: X509Certificate, nowMs = Date.now()): ClientCertCheck {
  if (!der || der.length === 0) {
    return { ok: false, reason: 'no valid client certificate: connect with the certificate issued at enrollment (one signed by this manager\'s CA)' };
  }
  const fingerprint = createHash('sha256').update(der).digest('hex');
  let known = checkedCertificates.get(ca);
  if (!known) checkedCertificates.set(ca, (known = new Map()));
  let checked = known.get(fingerprint);
  if (!checked) {
    const result = checkAgainstCa(der, ca);
    if ('reason' in result) return result;
    checked = result;
    if (known.size >= MAX_CHECKED) known.delete(known.keys().next().value!);
    known.set(fingerprint, checked);
  }
  if (nowMs < checked.validFromMs) return { ok: false, reason: `client certificate is not valid before ${checked.validFrom}` };
  if (nowMs > checked.validToMs) return { ok: false, reason: `client certificate expired on ${checked.validTo}` };
  return { ok: true, nodeId: checked.nodeId, fingerprint, commonName: checked.commonName };
}

function checkAgainstCa(der: Buffer, ca: X509Certificate): Checked | { ok: false; reason: string } {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch (err) {
    return { ok: false, reason: `client certificate cannot be parsed: ${(err as Error).message}` };
  }
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) {
    return { ok: false, reason: 'client certificate was not issued by this manager\'s CA' };
  }
  const nodeId = nodeIdFromSubjectAltName(cert.subjectAltName);
  if (!nodeId) return { ok: false, reason: 'client certificate carries no node id (URI SAN urn:opsctl:node:<id>)' };
  const commonName = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1] ?? '';
  return { nodeId, commonName, validFrom: cert.validFrom, validTo: cert.validTo, validFromMs: Date.parse(cert.validFrom), validToMs: Date.parse(cert.validTo) };
}
