// The CAs opsctl trusts per manager, like ssh's known_hosts: <config dir>/known_cas, one line per
// manager URL — `<url> SHA256:<hex> <base64 DER of the CA certificate>` — written by `opsctl login`
// on first use and read by every later command, which then trusts that CA alone for that URL.
// One line per server so a person can read, grep and delete an entry (`opsctl login --forget-ca`
// replaces it instead).
import { X509Certificate } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../lib/atomic-write.js';
import { caFingerprint } from '../../proto/ca-fingerprint.js';
import { configDir } from './config-file.js';
import { CliError } from './errors.js';

export interface PinnedCa {
  server: string;
  /** SHA256:hex (proto/ca-fingerprint.ts). */
  fingerprint: string;
  /** The CA certificate, PEM: what TLS verifies the manager's chain against. */
  pem: string;
}

export function knownCasPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(configDir(env), 'known_cas');
}

const HEADER = '# Manager CAs pinned by `opsctl login`: URL, SHA-256 fingerprint, base64 DER of the CA.\n' +
  '# Delete a line (or run `opsctl login --server URL --forget-ca`) when a manager\'s CA was replaced on purpose.\n';

/** A CA certificate (DER) as the PinnedCa it becomes for `server`. */
export function pinnedCaOf(server: string, der: Buffer): PinnedCa {
  return { server, fingerprint: caFingerprint(der), pem: `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n` };
}

function parseLine(line: string, file: string, n: number): PinnedCa {
  const [server, fingerprint, b64, ...rest] = line.trim().split(/\s+/);
  const bad = (why: string) => new CliError(`${file} line ${n}: ${why}; fix or delete the line`);
  if (!server || !fingerprint || !b64 || rest.length > 0) throw bad('expected "<url> SHA256:<hex> <base64 certificate>"');
  const der = Buffer.from(b64, 'base64');
  try {
    new X509Certificate(der);
  } catch {
    throw bad('the certificate does not parse');
  }
  // The fingerprint is for people; the certificate is what is trusted, so they must agree.
  if (caFingerprint(der) !== fingerprint) throw bad(`the fingerprint does not match the certificate (${caFingerprint(der)})`);
  return pinnedCaOf(server, der);
}

async function readLines(env: NodeJS.ProcessEnv): Promise<string[]> {
  const file = knownCasPath(env);
  try {
    return (await readFile(file, 'utf8')).split('\n');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new CliError(`reading ${file}: ${(err as Error).message}`);
  }
}

const isEntry = (line: string) => line.trim() !== '' && !line.trimStart().startsWith('#');
const serverOf = (line: string) => line.trim().split(/\s+/)[0];

/** The CA pinned for `server` (a normalised URL), if any. */
export async function findPinnedCa(server: string, env: NodeJS.ProcessEnv = process.env): Promise<PinnedCa | undefined> {
  const file = knownCasPath(env);
  const lines = await readLines(env);
  const n = lines.findIndex((line) => isEntry(line) && serverOf(line) === server);
  return n < 0 ? undefined : parseLine(lines[n]!, file, n + 1);
}

/** Pins `der` for `server`, replacing an earlier pin for it; other servers' lines are kept as they are. */
export async function pinCa(server: string, der: Buffer, env: NodeJS.ProcessEnv = process.env): Promise<PinnedCa> {
  const file = knownCasPath(env);
  // Every other line stays, comments a person added included.
  const kept = (await readLines(env)).filter((line) => line.trim() !== '' && !(isEntry(line) && serverOf(line) === server));
  const pin = pinnedCaOf(server, der);
  const text = (kept.length > 0 ? '' : HEADER) + [...kept, `${server} ${pin.fingerprint} ${der.toString('base64')}`].join('\n') + '\n';
  try {
    await mkdir(configDir(env), { recursive: true, mode: 0o700 });
    await writeFileAtomic(file, text, 0o600);
  } catch (err) {
    throw new CliError(`writing ${file}: ${(err as Error).message}`);
  }
  return pin;
}

/** The refusal when a manager presents another CA than the one pinned for it. */
export class CaChangedError extends CliError {
  constructor(server: string, pinned: string, presented: string, env: NodeJS.ProcessEnv = process.env) {
    super(`the manager at ${server} presents a certificate from CA ${presented}, but CA ${pinned} is pinned for it in ${knownCasPath(env)}: ` +
      'someone may be intercepting the connection, or the manager\'s CA was replaced. Refusing to connect. ' +
      `If the change is expected (check the fingerprint in the manager's log), run 'opsctl login --server ${server} --forget-ca' to trust the new CA.`);
    this.name = 'CaChangedError';
  }
}
