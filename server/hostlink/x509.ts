// X.509 building blocks for the manager's CA, on node-forge. Keys come from Node's crypto (much
// faster than forge's generator), and so do signatures: forge builds the certificate, OpenSSL
// signs it (forge's own RSA in JavaScript took 32 ms a certificate, a 5,000-host enrollment storm
// 160 s of CPU; OpenSSL ~1.5 ms). The certified key goes in as its SubjectPublicKeyInfo, so it
// need not be a key forge can encode: the CA and hosts' keys are RSA 2048, the gRPC port's P-256.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
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

/**
 * What forge's cert.sign(key, sha256) does, with the RSA signature made by OpenSSL. `spki`: the
 * certified key's SubjectPublicKeyInfo (DER), put into the signed certificate in place of
 * cert.publicKey — forge encodes only RSA keys, and turning a key into forge's big integers and
 * back cost milliseconds a certificate.
 */
function signCertificate(cert: forge.pki.Certificate, keyPem: string, spki?: Buffer): Buffer {
  let key = keyObjects.get(keyPem);
  if (!key) {
    key = createPrivateKey(keyPem);
    keyObjects.set(keyPem, key);
  }
  cert.signatureOid = cert.siginfo.algorithmOid = pki.oids.sha256WithRSAEncryption;
  // getTBSCertificate is public in forge but missing from its type definitions.
  const tbs = (pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert);
  // TBSCertificate = SEQUENCE { [0] version, serial, signature, issuer, validity, subject, subjectPublicKeyInfo, [3] extensions }
  if (spki) (tbs.value as forge.asn1.Asn1[])[6] = forge.asn1.fromDer(spki.toString('binary'));
  (cert as unknown as { tbsCertificate: forge.asn1.Asn1 }).tbsCertificate = tbs;
  cert.signature = sign('sha256', Buffer.from(forge.asn1.toDer(tbs).getBytes(), 'binary'), key).toString('binary');
  return Buffer.from(forge.asn1.toDer(pki.certificateToAsn1(cert)).getBytes(), 'binary');
}

export interface Issuer { caCertPem: string; caKeyPem: string }

interface LeafInput {
  issuer: Issuer;
  /** The certified key's SubjectPublicKeyInfo, DER. */
  spki: Buffer;
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
  // A stand-in forge can encode; signCertificate puts input.spki in its place.
  cert.publicKey = caCert.publicKey;
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
    { name: 'subjectKeyIdentifier', value: forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.OCTETSTRING, false, subjectKeyIdentifier(input.spki)) },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  const der = signCertificate(cert, input.issuer.caKeyPem, input.spki);
  const certificatePem = pki.certificateToPem(cert);
  return {
    certificatePem, serial: cert.serialNumber, notAfter: cert.validity.notAfter,
    fingerprint: createHash('sha256').update(der).digest('hex'), keyFingerprint: input.keyFingerprint ?? keyFingerprint(certificatePem),
  };
}

/** forge's DER parser (strict, all bytes) leaving BIT STRINGs as their bytes (forge's types lack the options form). */
const derWithRawBits = (bytes: string): forge.asn1.Asn1 =>
  (forge.asn1.fromDer as unknown as (b: string, o: { decodeBitStrings: boolean }) => forge.asn1.Asn1)(bytes, { decodeBitStrings: false });

/** RFC 5280's key identifier (method 1, as forge computes it): SHA-1 of the subjectPublicKey bits, as forge's binary string. */
function subjectKeyIdentifier(spki: Buffer): string {
  const parsed = derWithRawBits(spki.toString('binary'));
  const bits = (parsed.value as forge.asn1.Asn1[])[1].value as string;
  return createHash('sha1').update(Buffer.from(bits.slice(1), 'binary')).digest('binary');
}

/** DNS names and IPs → subjectAltName entries (type 2 = DNS, 7 = IP). */
export function hostAltNames(hosts: string[]): { type: number; value?: string; ip?: string }[] {
  return [...new Set(hosts.filter(Boolean))].map((h) => (isIP(h) ? { type: 7, ip: h } : { type: 2, value: h }));
}

export function issueServerCertificate(issuer: Issuer, publicKeyPem: string, hosts: string[], days: number, commonName = 'opsctl manager host link'): IssuedLeaf {
  return issueLeaf({
    issuer, spki: createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' }), commonName,
    days, altNames: hostAltNames(hosts), usage: 'serverAuth',
  });
}

export class InvalidCsrError extends Error {
  constructor(message: string) { super(message); this.name = 'InvalidCsrError'; }
}

/** A CSR's signature algorithms OpenSSL verifies for us, by OID. */
const CSR_SIGNATURE_HASHES: Record<string, string> = {
  [pki.oids.sha256WithRSAEncryption]: 'sha256', [pki.oids.sha384WithRSAEncryption]: 'sha384', [pki.oids.sha512WithRSAEncryption]: 'sha512',
};

/** A PKCS#10 request whose self-signature and key were checked. */
export interface CheckedCsr {
  /** The requested key's SubjectPublicKeyInfo, DER. */
  spki: Buffer;
  /** sha256 of that SubjectPublicKeyInfo (proto/key-fingerprint.ts). */
  keyFingerprint: string;
}

/**
 * Parses and checks a PKCS#10 request: well formed, self-signature valid (SHA-256/384/512 with
 * RSA), RSA ≥ 2048 bits. forge reads the DER structure; OpenSSL reads the key and verifies the
 * signature. (forge's CSR object turns the key into big integers and verifies in JavaScript:
 * 4.8 ms a request, most of an enrollment's CPU.) The subject is not read: the certificate names
 * the node the manager enrolled.
 */
export function parseCsr(csrPem: string): CheckedCsr {
  if (typeof csrPem !== 'string' || !csrPem.includes('-----BEGIN CERTIFICATE REQUEST-----')) {
    throw new InvalidCsrError('malformed CSR: expected a PEM "CERTIFICATE REQUEST"');
  }
  if (csrPem.length > 64 * 1024) throw new InvalidCsrError('malformed CSR: larger than 64 KiB');
  let info: forge.asn1.Asn1;
  let spki: Buffer;
  let signatureOid: string;
  let signature: Buffer;
  try {
    const block = forge.pem.decode(csrPem).find((b) => b.type === 'CERTIFICATE REQUEST');
    if (!block) throw new Error('no CERTIFICATE REQUEST block');
    // CertificationRequest = SEQUENCE { certificationRequestInfo, signatureAlgorithm, signature BIT STRING }
    const [requestInfo, algorithm, bits] = derWithRawBits(block.body).value as forge.asn1.Asn1[];
    // certificationRequestInfo = SEQUENCE { version, subject, subjectPKInfo, [0] attributes }
    info = requestInfo;
    spki = Buffer.from(forge.asn1.toDer((info.value as forge.asn1.Asn1[])[2]).getBytes(), 'binary');
    signatureOid = forge.asn1.derToOid(((algorithm.value as forge.asn1.Asn1[])[0].value as string));
    signature = Buffer.from((bits.value as string).slice(1), 'binary');
  } catch (err) {
    throw new InvalidCsrError(`malformed CSR: ${(err as Error).message}`);
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch (err) {
    throw new InvalidCsrError(`malformed CSR: unreadable public key: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new InvalidCsrError('malformed CSR: the key must be RSA of at least 2048 bits');
  }
  const hash = CSR_SIGNATURE_HASHES[signatureOid];
  if (!hash) throw new InvalidCsrError(`malformed CSR: unsupported signature algorithm ${signatureOid} (use SHA-256 with RSA)`);
  if (!verify(hash, Buffer.from(forge.asn1.toDer(info).getBytes(), 'binary'), key, signature)) {
    throw new InvalidCsrError('malformed CSR: its signature does not match its public key');
  }
  // The request's own encoding of the key: DER, as OpenSSL exports it (the fingerprint hostd logs).
  return { spki, keyFingerprint: createHash('sha256').update(spki).digest('hex') };
}

/** Signs a node's CSR: subject CN = node name, URI SAN urn:opsctl:node:<nodeId>, client auth only. */
export function issueNodeCertificate(issuer: Issuer, csr: CheckedCsr, nodeName: string, nodeId: string, days: number): IssuedLeaf {
  return issueLeaf({
    issuer, spki: csr.spki, keyFingerprint: csr.keyFingerprint, commonName: nodeName, days,
    altNames: [{ type: 6, value: NODE_ID_URI_PREFIX + nodeId }], usage: 'clientAuth',
  });
}
