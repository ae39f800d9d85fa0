// The fingerprint of a host's key pair, computed the same way by hostd (from its private key, when
// it logs "waiting for approval") and by the manager (from the CSR, shown by `opsctl nodes show`),
// so an operator can compare the two before approving: sha256 of the public key's
// SubjectPublicKeyInfo DER, lowercase hex.
import { createHash, createPublicKey } from 'node:crypto';

/** `pem`: a private key, public key or certificate in PEM. */
export function keyFingerprint(pem: string): string {
  const der = createPublicKey(pem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex');
}
