// Random secrets as base64url text that never starts with "-". Operators pass them after a flag
// (`hostd --token T`, `opsctl login --password P`), and a value beginning with a dash reads as
// another option there: hostd refused `--token -x…` as ambiguous. One random value in 64 began so
// (a CI run failed on it). Drawing again costs log2(64/63) ≈ 0.02 bits of the secret.
import { randomBytes } from 'node:crypto';

export function randomToken(bytes: number): string {
  for (;;) {
    const token = randomBytes(bytes).toString('base64url');
    if (!token.startsWith('-')) return token;
  }
}
