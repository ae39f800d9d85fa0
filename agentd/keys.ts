// The request-signing keys agentd accepts, from the keys file whose format and checks live in
// proto/agent-keys-file.ts (hostd writes it, agentd reads it).
// hostd may rewrite the file while agentd runs (new key after a reinstall), so the file is
// re-read whenever its identity (inode, size, mtime, mode) changes; a broken rewrite keeps the old keys.
import { statSync, type Stats } from 'node:fs';
import type { Logger } from '../lib/log.js';
import { readKeysFile } from '../proto/agent-keys-file.js';

function fingerprint(st: Stats): string {
  return `${st.ino}:${st.size}:${st.mtimeMs}:${st.mode}`;
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
