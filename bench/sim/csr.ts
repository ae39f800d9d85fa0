// RSA keys for simulated hosts, made on libuv's thread pool so an enrollment storm of thousands of
// hosts measures the manager, not key generation. Their requests are hostd's own (hostd/csr.ts).
import { generateKeyPair } from 'node:crypto';

/** A new RSA-2048 key (PKCS#1 PEM, as hostd writes node.key), made on libuv's thread pool. */
export function createKeyAsync(): Promise<string> {
  return new Promise((resolve, reject) => {
    generateKeyPair('rsa', { modulusLength: 2048 }, (err, _publicKey, privateKey) => {
      if (err) reject(err);
      else resolve(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
    });
  });
}
