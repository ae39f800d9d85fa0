// The keys file agentd verifies signed requests with, both sides: hostd writes it (ensureHostdKey)
// and agentd reads and checks it (readKeysFile). Format:
//   {"keys": {"<keyId>": "<secret>", ...}}   mode 0600 (no group or other bits), UTF-8 JSON
// Each secret is a string of at least 32 characters, used exactly as written (the hex text itself
// is the HMAC key), so every signer passes the file's string to signRequest unchanged. hostd owns
// key id "hostd" (64 hex digits it generates) and keeps the other keys an operator added, e.g. for
// opsctl's serverless mode. The file is replaced atomically, so agentd, which re-reads it when it
// changes, never reads half of it.
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, statSync, type Stats } from 'node:fs';
import { writeFileAtomicSync } from '../lib/atomic-write.js';

export const HOSTD_KEY_ID = 'hostd';
export const KEYS_FILE_MODE = 0o600;
export const MIN_SECRET_CHARS = 32;
const HOSTD_SECRET = /^[0-9a-f]{64}$/;

export class KeysFileError extends Error {
  constructor(message: string) { super(message); this.name = 'KeysFileError'; }
}

/** The `keys` object of the file's text, its entries not yet checked. */
function parseKeysObject(text: string, path: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new KeysFileError(`parsing keys file ${path}: ${(err as Error).message}`);
  }
  const keysObj = (parsed as { keys?: unknown } | null)?.keys;
  if (keysObj === null || typeof keysObj !== 'object' || Array.isArray(keysObj)) {
    throw new KeysFileError(`keys file ${path} must hold {"keys": {"<keyId>": "<secret hex>"}}`);
  }
  return keysObj as Record<string, unknown>;
}

function isUsableSecret(secret: unknown): secret is string {
  return typeof secret === 'string' && secret.length >= MIN_SECRET_CHARS;
}

function checkedSecret(id: string, secret: unknown, path: string): string {
  if (!isUsableSecret(secret)) {
    throw new KeysFileError(`keys file ${path}: key "${id}" must be a string of at least ${MIN_SECRET_CHARS} characters`);
  }
  return secret;
}

export function formatKeysFile(keys: Record<string, string>): string {
  return JSON.stringify({ keys }, null, 2) + '\n';
}

// --- agentd's side -----------------------------------------------------------------------------

/** Reads and checks the keys file; throws KeysFileError saying what is wrong with it. */
export function readKeysFile(path: string): { keys: Map<string, string>; stat: Stats } {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (err) {
    throw new KeysFileError(`reading keys file ${path}: ${(err as Error).message}`);
  }
  if (!st.isFile()) throw new KeysFileError(`keys file ${path} is not a regular file`);
  if ((st.mode & 0o077) !== 0) {
    throw new KeysFileError(
      `keys file ${path} has mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}: it must not be readable by group or others ` +
      `(run: chmod 600 ${path})`,
    );
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new KeysFileError(`reading keys file ${path}: ${(err as Error).message}`);
  }
  const keys = new Map<string, string>();
  for (const [id, secret] of Object.entries(parseKeysObject(text, path))) keys.set(id, checkedSecret(id, secret, path));
  if (keys.size === 0) throw new KeysFileError(`keys file ${path} holds no keys`);
  return { keys, stat: st };
}

// --- hostd's side ------------------------------------------------------------------------------

/**
 * The secret of key id "hostd", creating the file or adding the key when needed. Written once:
 * later starts reuse the key (a running, adopted agentd already knows it) and put the mode back
 * to 0600. The other keys must already be ones agentd accepts, or agentd would refuse the whole
 * file; a broken file is reported, not overwritten.
 */
export function ensureHostdKey(path: string): string {
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new KeysFileError(`reading keys file ${path}: ${(err as Error).message}`);
  }
  const keys: Record<string, string> = {};
  let existing: unknown;
  if (text !== undefined) {
    for (const [id, secret] of Object.entries(parseKeysObject(text, path))) {
      if (id === HOSTD_KEY_ID) existing = secret; // ours: replaced below when unusable
      else keys[id] = checkedSecret(id, secret, path);
    }
  }
  if (typeof existing === 'string' && HOSTD_SECRET.test(existing)) {
    if ((statSync(path).mode & 0o777) !== KEYS_FILE_MODE) chmodSync(path, KEYS_FILE_MODE);
    return existing;
  }
  const secret = randomBytes(32).toString('hex');
  writeFileAtomicSync(path, formatKeysFile({ ...keys, [HOSTD_KEY_ID]: secret }), KEYS_FILE_MODE);
  return secret;
}
