// Release bundles on the manager's disk, <dataDir>/releases/<file>. An upload is streamed to a temp
// file while it is counted and hashed, and refused the moment it passes the size the signed
// manifest declares (an endless body costs at most that much disk); it is renamed into place only
// when its size and SHA-256 match. A manager that stopped mid-upload leaves only temp files, which
// the next start removes.
import { randomUUID } from 'node:crypto';
import { createReadStream, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ErrorCode, OpsError } from '../../../proto/errors.js';
import { writeHashed } from '../../hashed-write.js';
import type { ReleaseManifest } from '../../../proto/release.js';

export class BundleStore {
  private readonly tmpDir: string;

  constructor(private readonly dir: string) {
    this.tmpDir = join(dir, 'tmp');
    rmSync(this.tmpDir, { recursive: true, force: true });
    mkdirSync(this.tmpDir, { recursive: true, mode: 0o700 });
  }

  /** `file` is a manifest's file name, already checked to be a plain name (parseReleaseManifest). */
  path(file: string): string {
    return join(this.dir, file);
  }

  size(file: string): number | undefined {
    try { return statSync(this.path(file)).size; } catch { return undefined; }
  }

  open(file: string, start = 0): Readable {
    return createReadStream(this.path(file), { start, highWaterMark: 64 * 1024 });
  }

  remove(file: string): void {
    rmSync(this.path(file), { force: true });
  }

  /**
   * Streams `body` into place as `manifest.file`, or throws (keeping nothing): 3006 past
   * manifest.size, 3003 when it ends short or its SHA-256 differs.
   */
  async put(body: Readable, manifest: ReleaseManifest): Promise<void> {
    const tmp = join(this.tmpDir, randomUUID());
    try {
      const { sha256, size } = await writeHashed(body, tmp, manifest.size,
        () => new OpsError(ErrorCode.RELEASE_TOO_LARGE, `the bundle is larger than the ${manifest.size} bytes its manifest declares`));
      if (size !== manifest.size) throw new OpsError(ErrorCode.RELEASE_HASH_MISMATCH, `the bundle has ${size} bytes, its manifest declares ${manifest.size}: cut short?`);
      if (sha256 !== manifest.sha256) throw new OpsError(ErrorCode.RELEASE_HASH_MISMATCH, `the bundle's SHA-256 is ${sha256}, its manifest says ${manifest.sha256}: the bundle was changed after it was signed`);
      renameSync(tmp, this.path(manifest.file));
    } finally {
      rmSync(tmp, { force: true });
    }
  }
}
