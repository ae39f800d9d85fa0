// PKCS#10 certificate requests on Node's crypto alone: subject CN = the node name, no attributes,
// SHA-256 with RSA. (node-forge did this before; importing it cost hostd ~5 MB of private memory
// for the whole of its life, for a request made once at enrollment and once a renewal.) The
// manager parses and checks these (server/hostlink/x509.ts parseCsr); bench/sim makes its hosts' with it too.
import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

const SEQUENCE = 0x30;
const SET = 0x31;
const UTF8_STRING = 0x0c;
const BIT_STRING = 0x03;
const OID_COMMON_NAME = Buffer.from([0x06, 0x03, 0x55, 0x04, 0x03]);
/** 1.2.840.113549.1.1.11 sha256WithRSAEncryption, with its NULL parameters. */
const SHA256_WITH_RSA = tlv(SEQUENCE, Buffer.from([0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]), Buffer.from([0x05, 0x00]));
/** INTEGER 0: PKCS#10 version 1. */
const CSR_VERSION = Buffer.from([0x02, 0x01, 0x00]);
/** [0] with no attributes. */
const NO_ATTRIBUTES = Buffer.from([0xa0, 0x00]);

function toPem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').trimEnd();
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** A PKCS#10 request (PEM) for the RSA key (PEM or KeyObject), with subject CN = nodeName. */
export function csrFor(key: string | KeyObject, nodeName: string): string {
  const privateKey = typeof key === 'string' ? createPrivateKey(key) : key;
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const subject = tlv(SEQUENCE, tlv(SET, tlv(SEQUENCE, OID_COMMON_NAME, tlv(UTF8_STRING, Buffer.from(nodeName, 'utf8')))));
  const info = tlv(SEQUENCE, CSR_VERSION, subject, spki, NO_ATTRIBUTES);
  const signature = sign('sha256', info, privateKey);
  return toPem('CERTIFICATE REQUEST', tlv(SEQUENCE, info, SHA256_WITH_RSA, tlv(BIT_STRING, Buffer.from([0]), signature)));
}
