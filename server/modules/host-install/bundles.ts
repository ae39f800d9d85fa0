// The host bundles the manager hands out: files named opsctl-host-<version>-<platform>-<arch>.tar.gz
// (npm run package, docs/host-bundle.md) of this manager's own version, in install.bundleDir. Only
// names listed here are ever served, so a request cannot reach any other file.
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface AvailableBundle {
  file: string;
  /** `process.platform-process.arch` of the hosts it is for, e.g. linux-x64. */
  target: string;
  sha256: string;
  size: number;
  path: string;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export class BundleShelf {
  private readonly pattern: RegExp;
  /** Hashes by path, kept while the file's size and mtime stay (a rebuilt bundle is hashed again). */
  private readonly hashes = new Map<string, { size: number; mtimeMs: number; sha256: string }>();

  constructor(readonly dir: string, version: string) {
    this.pattern = new RegExp(`^opsctl-host-${escapeRegExp(version)}-([a-z0-9]+-[a-z0-9]+)\\.tar\\.gz$`);
  }

  /** The bundles of this version, by target; none when the folder is missing. */
  async list(): Promise<AvailableBundle[]> {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const out: AvailableBundle[] = [];
    for (const file of names.sort()) {
      const target = this.pattern.exec(file)?.[1];
      if (!target) continue;
      const path = join(this.dir, file);
      const st = statSync(path, { throwIfNoEntry: false });
      if (!st?.isFile()) continue;
      out.push({ file, target, path, size: st.size, sha256: await this.hash(path, st.size, st.mtimeMs) });
    }
    return out;
  }

  /** The bundle called `file`, or undefined for any other name (`../x`, another version, a typo). */
  async find(file: string): Promise<AvailableBundle | undefined> {
    if (!this.pattern.test(file)) return undefined;
    return (await this.list()).find((b) => b.file === file);
  }

  private async hash(path: string, size: number, mtimeMs: number): Promise<string> {
    const known = this.hashes.get(path);
    if (known && known.size === size && known.mtimeMs === mtimeMs) return known.sha256;
    const digest = createHash('sha256');
    for await (const chunk of createReadStream(path)) digest.update(chunk as Buffer);
    const sha256 = digest.digest('hex');
    this.hashes.set(path, { size, mtimeMs, sha256 });
    return sha256;
  }
}
