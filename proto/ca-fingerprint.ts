// How the manager's REST CA is named to a person: the manager logs it at start, `opsctl login`
// shows it on first use and pins it. "SHA256:" and the sha256 of the certificate's DER in lowercase
// hex — for the manager's own CA the same hex as `hostd --ca-hash`, and what
// `openssl x509 -noout -fingerprint -sha256` prints (with colons), so any of the three can be compared.
import { createHash } from 'node:crypto';

const PREFIX = 'SHA256:';

/** `der`: a certificate's DER bytes (X509Certificate.raw). */
export function caFingerprint(der: Uint8Array): string {
  return PREFIX + createHash('sha256').update(der).digest('hex');
}

/**
 * A fingerprint as a person may paste it — `SHA256:ab12…`, bare hex, or OpenSSL's `AB:12:…`, in
 * any case — in the form caFingerprint writes; undefined when it is not 32 bytes of hex.
 */
export function normaliseCaFingerprint(input: string): string | undefined {
  let s = input.trim();
  if (/^sha-?256[:=]/i.test(s)) s = s.slice(s.search(/[:=]/) + 1);
  s = s.replace(/:/g, '').toLowerCase();
  return /^[0-9a-f]{64}$/.test(s) ? PREFIX + s : undefined;
}
