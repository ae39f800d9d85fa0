// The request-signing keys agentd accepts, from a JSON file {"keys": {"<keyId>": "<secret>"}} that
// must be readable by its owner only. The secret is used exactly as written (the hex text itself is
// the HMAC key), so every signer can pass the file's string to signRequest unchanged.
// hostd may rewrite the file while agentd runs (new key after a reinstall), so the file is
// re-read whenever its identity (inode, size, mtime) changes; a broken rewrite keeps the old keys.
import { readFileSync, statSync, type Stats } from 'node:fs';
import type { Logger } from '../lib/log.js';

export class KeysFileError extends Error {
  constructor(message: string) { super(message); this.name = 'KeysFileError'; }
}

function fingerprint(st: Stats): string {
  return `${st.ino}:${st.size}:${st.mtimeMs}:${st.mode}`;
}

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
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new KeysFileError(`parsing keys file ${path}: ${(err as Error).message}`);
  }
  const keysObj = (parsed as { keys?: unknown } | null)?.keys;
  if (keysObj === null || typeof keysObj !== 'object' || Array.isArray(keysObj)) {
    throw new KeysFileError(`keys file ${path} must hold {"keys": {"<keyId>": "<secret hex>"}}`);
  }
  const keys = new Map<string, string>();
  for (const [id, secret] of Object.entries(keysObj as Record<string, unknown>)) {
    if (typeof secret !== 'string' || secret.length < 32) {
      throw new KeysFileError(`keys file ${path}: key "${id}" must be a string of at least 32 characters`);
    }
    keys.set(id, secret);
  }
  if (keys.size === 0) throw new KeysFileError(`keys file ${path} holds no keys`);
  return { keys, stat: st };
}

export class KeyStore {
  private keys: Map<string, string>;
  private seen: string;

  /** Throws KeysFileError when the file is missing, unsafe or malformed: agentd must not start. */
  constructor(private readonly path: string, private readonly log?: Logger) {
    const { keys, stat } = readKeysFile(path);
    this.keys = keys;
    this.seen = fingerprint(stat);
  }

  get size(): number { return this.keys.size; }

  lookup(keyId: string): string | undefined {
    this.refresh();
    return this.keys.get(keyId);
  }

  private refresh(): void {
    let st: Stats;
    try {
      st = statSync(this.path);
    } catch {
      return; // a file being replaced may vanish for a moment; keep what we have
    }
    const fp = fingerprint(st);
    if (fp === this.seen) return;
    this.seen = fp;
    try {
      this.keys = readKeysFile(this.path).keys;
      this.log?.info({ keyIds: [...this.keys.keys()] }, 'keys file changed; reloaded');
    } catch (err) {
      this.log?.error({ err: (err as Error).message }, 'keys file changed but cannot be used; keeping the previous keys');
    }
  }
}
