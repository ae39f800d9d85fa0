// RSA keys and PKCS#10 requests for simulated hosts, on Node's crypto alone. hostd builds its CSR
// with node-forge (enroll.ts), whose pure-JS RSA signature costs tens of milliseconds and whose
// import costs ~5 MB per process; an enrollment storm of thousands of hosts must measure the
// manager, not that. The request is the same: subject CN = node name, SHA-256 with RSA.
import { createPrivateKey, createPublicKey, generateKeyPair, sign, type KeyObject } from 'node:crypto';

/** A new RSA-2048 key (PKCS#1 PEM, as hostd writes node.key), made on libuv's thread pool. */
export function createKeyAsync(): Promise<string> {
  return new Promise((resolve, reject) => {
    generateKeyPair('rsa', { modulusLength: 2048 }, (err, _publicKey, privateKey) => {
      if (err) reject(err);
      else resolve(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
    });
  });
}

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
const OID_COMMON_NAME = Buffer.from([0x06, 0x03, 0x55, 0x04, 0x03]);
/** 1.2.840.113549.1.1.11 sha256WithRSAEncryption, with its NULL parameters. */
const SHA256_WITH_RSA = tlv(SEQUENCE, Buffer.from([0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]), Buffer.from([0x05, 0x00]));

function toPem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').trimEnd();
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** A PKCS#10 request for the key (PEM or KeyObject), with subject CN = nodeName and no attributes. */
export function fastCsrFor(key: string | KeyObject, nodeName: string): string {
  const privateKey = typeof key === 'string' ? createPrivateKey(key) : key;
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const subject = tlv(SEQUENCE, tlv(SET, tlv(SEQUENCE, OID_COMMON_NAME, tlv(0x0c, Buffer.from(nodeName, 'utf8')))));
  const info = tlv(SEQUENCE, Buffer.from([0x02, 0x01, 0x00]), subject, spki, Buffer.from([0xa0, 0x00]));
  const signature = sign('sha256', info, privateKey);
  return toPem('CERTIFICATE REQUEST', tlv(SEQUENCE, info, SHA256_WITH_RSA, tlv(0x03, Buffer.from([0]), signature)));
}
