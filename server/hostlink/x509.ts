// X.509 building blocks for the manager's CA, on node-forge (RSA only, which is why every key in
// the host link is RSA 2048). Keys come from Node's crypto (much faster than forge's generator),
// and so do signatures: forge builds the certificate, OpenSSL signs it (forge's own RSA in
// JavaScript took 32 ms a certificate, a 5,000-host enrollment storm 160 s of CPU; OpenSSL ~1.5 ms).
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';
import { keyFingerprint } from '../../proto/key-fingerprint.js';

const { pki } = forge;

export const NODE_ID_URI_PREFIX = 'urn:opsctl:node:';

export interface KeyPairPem { privateKeyPem: string; publicKeyPem: string }

export function generateRsaKeyPair(): KeyPairPem {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

/**
 * A positive serial, 16 random bytes as hex, whose first byte is neither 0 nor has its top bit
 * set: forge writes the hex as the INTEGER's bytes, and a leading 0x00 before a byte under 0x80 is
 * a non-minimal DER encoding that OpenSSL refuses to parse ("illegal padding") — one certificate
 * in 256 was unusable before this.
 */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] & 0x7f) | 0x40;
  return bytes.toString('hex');
}

export function derOfPem(certPem: string): Buffer {
  return Buffer.from(forge.asn1.toDer(pki.certificateToAsn1(pki.certificateFromPem(certPem))).getBytes(), 'binary');
}

/** sha256 of the certificate's DER, lowercase hex: the fingerprint used everywhere in opsctl. */
export function fingerprintOfPem(certPem: string): string {
  return createHash('sha256').update(derOfPem(certPem)).digest('hex');
}

function daysFromNow(days: number): Date {
  return new Date(Date.now() + days * 86_400_000);
}

/**
 * Backdated a little so a host whose clock runs behind still accepts a fresh certificate; by at
 * most a tenth of the lifetime, so hostd's renewal rule (renew with a third of the lifetime left)
 * does not fire at once on a short-lived certificate.
 */
function notBefore(days = Infinity): Date {
  return new Date(Date.now() - Math.max(0, Math.min(10 * 60_000, days * 8_640_000)));
}

export function createCaCertificate(keys: KeyPairPem, commonName: string, days: number): string {
  const cert = pki.createCertificate();
  cert.publicKey = pki.publicKeyFromPem(keys.publicKeyPem);
  cert.serialNumber = randomSerial();
  cert.validity.notBefore = notBefore();
  cert.validity.notAfter = daysFromNow(days);
  const subject = [{ name: 'commonName', value: commonName }, { name: 'organizationName', value: 'opsctl' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  signCertificate(cert, keys.privateKeyPem);
  return pki.certificateToPem(cert);
}

const keyObjects = new Map<string, KeyObject>();

/** What forge's cert.sign(key, sha256) does, with the RSA signature made by OpenSSL. */
function signCertificate(cert: forge.pki.Certificate, keyPem: string): Buffer {
  let key = keyObjects.get(keyPem);
  if (!key) {
    key = createPrivateKey(keyPem);
    keyObjects.set(keyPem, key);
  }
  cert.signatureOid = cert.siginfo.algorithmOid = pki.oids.sha256WithRSAEncryption;
  // getTBSCertificate is public in forge but missing from its type definitions.
  const tbs = (pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert);
  (cert as unknown as { tbsCertificate: forge.asn1.Asn1 }).tbsCertificate = tbs;
  cert.signature = sign('sha256', Buffer.from(forge.asn1.toDer(tbs).getBytes(), 'binary'), key).toString('binary');
  return Buffer.from(forge.asn1.toDer(pki.certificateToAsn1(cert)).getBytes(), 'binary');
}

export interface Issuer { caCertPem: string; caKeyPem: string }

interface LeafInput {
  issuer: Issuer;
  publicKey: forge.pki.PublicKey;
  /** The key's fingerprint when the caller has it already (a checked CSR). */
  keyFingerprint?: string;
  commonName: string;
  days: number;
  altNames: { type: number; value?: string; ip?: string }[];
  usage: 'serverAuth' | 'clientAuth';
}

export interface IssuedLeaf {
  certificatePem: string; serial: string; notAfter: Date; fingerprint: string;
  /** sha256 of the certified public key (proto/key-fingerprint.ts). */
  keyFingerprint: string;
}

const parsedCas = new Map<string, forge.pki.Certificate>();

function issueLeaf(input: LeafInput): IssuedLeaf {
  let caCert = parsedCas.get(input.issuer.caCertPem);
  if (!caCert) {
    caCert = pki.certificateFromPem(input.issuer.caCertPem);
    parsedCas.set(input.issuer.caCertPem, caCert);
  }
  const cert = pki.createCertificate();
  cert.publicKey = input.publicKey;
  cert.serialNumber = randomSerial();
  cert.validity.notBefore = notBefore(input.days);
  cert.validity.notAfter = daysFromNow(input.days);
  cert.setSubject([{ name: 'commonName', value: input.commonName }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: input.usage === 'serverAuth', clientAuth: input.usage === 'clientAuth' },
    { name: 'subjectAltName', altNames: input.altNames },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  const der = signCertificate(cert, input.issuer.caKeyPem);
  const certificatePem = pki.certificateToPem(cert);
  return {
    certificatePem, serial: cert.serialNumber, notAfter: cert.validity.notAfter,
    fingerprint: createHash('sha256').update(der).digest('hex'), keyFingerprint: input.keyFingerprint ?? keyFingerprint(certificatePem),
  };
}

/** DNS names and IPs → subjectAltName entries (type 2 = DNS, 7 = IP). */
export function hostAltNames(hosts: string[]): { type: number; value?: string; ip?: string }[] {
  return [...new Set(hosts.filter(Boolean))].map((h) => (isIP(h) ? { type: 7, ip: h } : { type: 2, value: h }));
}

export function issueServerCertificate(issuer: Issuer, publicKeyPem: string, hosts: string[], days: number, commonName = 'opsctl manager host link'): IssuedLeaf {
  return issueLeaf({
    issuer, publicKey: pki.publicKeyFromPem(publicKeyPem), commonName,
    days, altNames: hostAltNames(hosts), usage: 'serverAuth',
  });
}

export class InvalidCsrError extends Error {
  constructor(message: string) { super(message); this.name = 'InvalidCsrError'; }
}

/** Parses and checks a PKCS#10 request: well formed, self-signature valid, RSA ≥ 2048 bits. */
export function parseCsr(csrPem: string): forge.pki.CertificateSigningRequest {
  if (typeof csrPem !== 'string' || !csrPem.includes('-----BEGIN CERTIFICATE REQUEST-----')) {
    throw new InvalidCsrError('malformed CSR: expected a PEM "CERTIFICATE REQUEST"');
  }
  if (csrPem.length > 64 * 1024) throw new InvalidCsrError('malformed CSR: larger than 64 KiB');
  let csr: forge.pki.CertificateSigningRequest;
  try {
    csr = pki.certificationRequestFromPem(csrPem);
  } catch (err) {
    throw new InvalidCsrError(`malformed CSR: ${(err as Error).message}`);
  }
  let signatureOk = false;
  try {
    signatureOk = csr.verify();
  } catch (err) {
    throw new InvalidCsrError(`malformed CSR: cannot verify its signature: ${(err as Error).message}`);
  }
  if (!signatureOk) throw new InvalidCsrError('malformed CSR: its signature does not match its public key');
  const key = csr.publicKey as forge.pki.rsa.PublicKey | null;
  if (!key || !key.n || key.n.bitLength() < 2048) throw new InvalidCsrError('malformed CSR: the key must be RSA of at least 2048 bits');
  return csr;
}

/** The fingerprint of the key a (checked) CSR asks to certify. */
export function csrKeyFingerprint(csr: forge.pki.CertificateSigningRequest): string {
  return keyFingerprint(pki.publicKeyToPem(csr.publicKey!));
}

/** Signs a node's CSR: subject CN = node name, URI SAN urn:opsctl:node:<nodeId>, client auth only. */
export function issueNodeCertificate(issuer: Issuer, csr: forge.pki.CertificateSigningRequest, nodeName: string, nodeId: string, days: number, keyFingerprint?: string): IssuedLeaf {
  return issueLeaf({
    issuer, publicKey: csr.publicKey!, keyFingerprint, commonName: nodeName, days,
    altNames: [{ type: 6, value: NODE_ID_URI_PREFIX + nodeId }], usage: 'clientAuth',
  });
}
